from . import crm_pipeline_demo
from . import crm_pipeline_demo_config
from . import crm_pipeline_demo_odoo_tables
from . import crm_team
from . import res_config_settings
from . import crm_pipeline_demo_sla
from . import crm_pipeline_demo_waterfall
