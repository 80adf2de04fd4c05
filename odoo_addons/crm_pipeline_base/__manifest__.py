{
    "name": "CRM Pipeline Base",
    "summary": "What the Pipeline Discipline addons share on the Odoo side: the working-schedule adapter, "
    "report scope, cursor markers, retry on concurrency errors",
    "version": "19.0.1.3.0",
    "category": "Sales/CRM",
    "website": "https://github.com/pipeline-discipline/pipeline-discipline",
    "author": "Pipeline Discipline",
    "license": "LGPL-3",
    "depends": ["crm"],
    "external_dependencies": {"python": ["pandas", "pipeline-discipline"]},
    "data": ["views/crm_lead_views.xml"],
}
