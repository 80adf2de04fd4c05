from . import crm_lead
from . import crm_sla_event
from . import crm_sla_rule
from . import mail_activity
