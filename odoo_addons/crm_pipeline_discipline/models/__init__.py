from . import crm_pipeline_demo
from . import crm_team
from . import res_config_settings
