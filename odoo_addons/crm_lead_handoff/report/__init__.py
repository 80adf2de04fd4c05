from . import crm_waterfall_report
from . import crm_handoff_rejection_report
from . import crm_sales_accepted_cost_report
