from . import crm_activity_plan_tomorrow
from . import mail_activity_schedule
