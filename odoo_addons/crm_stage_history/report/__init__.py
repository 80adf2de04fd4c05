from . import crm_stage_funnel_report
from . import crm_campaign_cost_report
from . import crm_early_warning_report
from . import crm_probability_snapshot_report
