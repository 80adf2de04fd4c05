{
    "name": "CRM Pipeline Discipline",
    "summary": "All five Pipeline Discipline capabilities in one install: one settings section to switch "
    "them on per sales team, and a demo pipeline generator",
    "version": "19.0.1.3.0",
    "category": "Sales/CRM",
    "website": "https://github.com/pipeline-discipline/pipeline-discipline",
    "author": "Pipeline Discipline",
    "license": "LGPL-3",
    "depends": [
        "crm_stage_history",
        "crm_activity_centric",
        "crm_stage_survey",
        "crm_sla_rules",
        "crm_lead_handoff",
    ],
    "external_dependencies": {"python": ["pandas", "pipeline-discipline"]},
    "data": [
        "security/ir.model.access.csv",
        "views/crm_team_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "assets": {
        "web.assets_tests": ["crm_pipeline_discipline/static/src/tours/*.js"],
    },
}
