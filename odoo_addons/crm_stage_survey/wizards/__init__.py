from . import crm_document_link_share
from . import crm_stage_override
