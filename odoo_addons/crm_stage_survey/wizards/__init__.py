from . import crm_document_link_share
from . import crm_stage_override
from . import crm_decision_phase_correction
