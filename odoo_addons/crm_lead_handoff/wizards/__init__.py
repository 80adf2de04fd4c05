from . import crm_lead_handoff_reject, crm_lead_handoff_send, crm_lead_phase_correction
