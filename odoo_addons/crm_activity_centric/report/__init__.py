from . import crm_followup_agenda
from . import crm_activity_signal_report
from . import crm_activity_chain_report
from . import crm_activity_win_report
