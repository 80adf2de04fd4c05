from . import test_settings
from . import test_tours
from . import test_demo_generator
from . import test_security_rpc
from . import test_capabilities_rpc
from . import test_lead_form_queries
from . import test_stage_write_queries
from . import test_security_rpc_handoff
