from . import crm_sla_preview
