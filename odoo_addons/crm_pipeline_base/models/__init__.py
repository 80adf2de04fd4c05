from . import crm_pipeline_report_scope
