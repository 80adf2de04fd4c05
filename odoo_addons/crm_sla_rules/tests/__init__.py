from . import test_business_time
from . import test_clock
from . import test_rules
from . import test_run
from . import test_actions
from . import test_robustness
from . import test_simulate_rpc
from . import test_faults
