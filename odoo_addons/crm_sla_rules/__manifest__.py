{
    "name": "CRM SLA Rules",
    "summary": "Service levels on leads and opportunities: scheduled rules that warn, reassign, return to "
    "marketing, close or escalate on business calendars, with preview and an audit log",
    "version": "19.0.1.5.0",
    "category": "Sales/CRM",
    "website": "https://github.com/pipeline-discipline/pipeline-discipline",
    "author": "Pipeline Discipline",
    "license": "LGPL-3",
    "depends": ["crm_pipeline_base", "crm_stage_history", "crm", "resource"],
    "external_dependencies": {"python": ["pandas", "pipeline-discipline"]},
    "data": [
        "security/ir.model.access.csv",
        "security/crm_sla_rules_security.xml",
        "data/ir_cron_data.xml",
        "data/crm_sla_rule_data.xml",
        "views/crm_sla_rule_views.xml",
        "views/crm_sla_event_views.xml",
        "views/crm_lead_views.xml",
        "wizards/crm_sla_preview_views.xml",
        "views/crm_sla_rules_menus.xml",
    ],
}
