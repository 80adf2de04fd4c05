from . import crm_lead_stage_history
from . import crm_stage_history_scope
from . import crm_lead
from . import crm_stage_target
from . import res_config_settings
from . import crm_stage
from . import utm_campaign
from . import crm_lead_stage_history_bulk
