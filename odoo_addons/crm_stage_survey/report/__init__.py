from . import crm_decision_phase_report
