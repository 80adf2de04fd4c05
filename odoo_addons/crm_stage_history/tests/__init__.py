from . import test_backfill
from . import test_funnel_report
from . import test_performance
from . import test_rpc
from . import test_security
from . import test_stage_history
from . import test_targets
