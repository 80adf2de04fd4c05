import { registry } from "@web/core/registry";

/**
 * A salesperson opens a lead of a survey team: the stage bar is read-only and a line under it says why
 * (the qualification survey sets the stage: use Qualify). A lead of a team whose stages are set by hand
 * has no such line (second tour). Started on each lead by tests/test_stage_bar_tour.py.
 */
const HINT = ".o_form_view div[name='survey_stage_hint']";

registry.category("web_tour.tours").add("crm_stage_survey_stage_bar_tour", {
    steps: () => [
        {
            content: "The stage bar of the survey team's lead cannot be clicked",
            trigger: ".o_form_view .o_field_widget[name='stage_id'] .o_statusbar_status:has(button):not(:has(button:enabled))",
        },
        {
            content: "A line under it says why, and what to do",
            trigger: `${HINT}:contains('the qualification survey sets the stage'):contains('Qualify')`,
        },
        {
            content: "The Qualify button is there",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_qualify']",
        },
    ],
});

registry.category("web_tour.tours").add("crm_stage_survey_stage_bar_manual_tour", {
    steps: () => [
        {
            content: "A lead of a team whose stages are set by hand: the stage bar can be clicked",
            trigger: ".o_form_view .o_field_widget[name='stage_id'] .o_statusbar_status button:enabled",
        },
        {
            content: "No line about the survey",
            trigger: `.o_form_view:not(:has(${HINT})):has(.o_statusbar_status)`,
        },
    ],
});
