from . import crm_activity_plan_tomorrow
