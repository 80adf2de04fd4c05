from . import crm_lead
from . import crm_pipeline_readonly_report
from . import crm_pipeline_report_scope
from . import crm_team
from . import ir_actions_server
from . import resource_calendar
