from . import test_work_calendar
