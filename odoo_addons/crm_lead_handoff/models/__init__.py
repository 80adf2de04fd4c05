from . import (
    crm_handoff_reject_reason,
    crm_handoff_route,
    crm_lead,
    crm_lead_handoff,
    crm_lead_phase_history,
    crm_lifecycle_phase,
    crm_lifecycle_phase_target,
    crm_sla_rule,
    crm_waterfall_tables,
)
