{
    "name": "CRM Stage History",
    "summary": "Every stage transition of leads recorded: funnel conversion, time in stage, "
    "stuck leads and stage targets",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/pipeline-discipline/pipeline-discipline",
    "author": "Pipeline Discipline",
    "license": "LGPL-3",
    "depends": ["crm"],
    "external_dependencies": {"python": ["pandas", "pipeline-discipline"]},
    "data": [
        "security/ir.model.access.csv",
        "security/crm_stage_history_security.xml",
        "views/crm_lead_stage_history_views.xml",
        "views/crm_stage_target_views.xml",
        "views/crm_lead_views.xml",
        "report/crm_stage_funnel_report_views.xml",
        "views/res_config_settings_views.xml",
        "views/crm_stage_history_menus.xml",
    ],
    "post_init_hook": "post_init_hook",
}
