from . import test_base
from . import test_work_calendar
