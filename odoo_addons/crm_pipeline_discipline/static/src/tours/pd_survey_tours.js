import { registry } from "@web/core/registry";
import { menu, screenshot, tourData } from "./pd_tour_utils";

/**
 * Survey-driven stages (crm_stage_survey) on the demo pipeline.
 *
 * Rep of Field Sales: "Qualify" opens the team's qualification survey prefilled with the lead's latest
 * answers; the rep confirms the need and the budget, submits, and the lead moves to Qualified. In the
 * pipeline, dragging the card on to the next stage is refused. Manager: the entry criteria of a stage,
 * then "Override Stage" on a lead with a reason. Started by tests/test_tours.py, which chooses the
 * records (cookie pd_tour) and checks the outcome.
 */
const LEAD_URL_KEY = "pd_survey_rep_tour.lead_url";
const question = (title) => `div.js_question-wrapper:contains('${title}')`;
const column = (stage) => `.o_kanban_group:has(.o_column_title:contains('${stage}'))`;

function answer(title, content, trigger, run) {
    return { content, trigger: `${question(title)} ${trigger}`, run };
}

registry.category("web_tour.tours").add("pd_survey_rep_tour", {
    steps: () => {
        const { lead, from_stage, to_stage, next_stage } = tourData();
        return [
            {
                content: "The survey sets the stage: the statusbar is read-only",
                trigger: `.o_form_view .o_statusbar_status button.o_arrow_button_current:disabled:contains('${from_stage}')`,
            },
            {
                content: "Remember the lead, to come back to it from the survey",
                trigger: ".o_form_view .o_statusbar_buttons button[name='action_qualify']",
                run() {
                    sessionStorage.setItem(LEAD_URL_KEY, window.location.pathname);
                },
            },
            {
                content: "Qualify: the team's survey opens, with the lead's latest answers",
                trigger: ".o_form_view .o_statusbar_buttons button[name='action_qualify']",
                run: "click",
                expectUnloadPage: true,
            },
            {
                content: "Start the qualification survey",
                trigger: "button.btn:contains('Start')",
                run: "click",
            },
            answer("Budget (EUR)", "A budget of 25,000", "input", "edit 25000"),
            answer("Need confirmed?", "The need is confirmed", "label:contains('Yes')", "click"),
            answer("Decision maker identified?", "Not met the decision maker yet", "label:contains('No')", "click"),
            answer("Timeline", "Timeline: 3 to 6 months", "label:contains('3 to 6 months')", "click"),
            {
                content: "Submit the answers",
                trigger: "button[value='finish']",
                run: "click",
            },
            {
                content: "Confirm",
                trigger: ".modal .modal-footer button.btn-primary:contains('Submit')",
                run: "click",
            },
            {
                content: "The answers are recorded",
                trigger: "h1:contains('Thank you')",
            },
            {
                content: "Back to the lead",
                trigger: "body",
                async run(helpers) {
                    const leadUrl = sessionStorage.getItem(LEAD_URL_KEY);
                    sessionStorage.removeItem(LEAD_URL_KEY);
                    await helpers.goToUrl(leadUrl);
                },
                expectUnloadPage: true,
            },
            {
                content: "The answers moved the lead to the next stage",
                trigger: `.o_form_view .o_statusbar_status button.o_arrow_button_current:contains('${to_stage}')`,
            },
            {
                content: "The chatter says what moved it",
                trigger: `.o-mail-Message:contains('The qualification survey moved the lead to ${to_stage}')`,
            },
            {
                content: "Open the Qualification tab",
                trigger: ".o_notebook .nav-link:contains('Qualification')",
                run: "click",
            },
            {
                content: "What the lead still needs for the next stage",
                trigger: `.o_field_widget[name='survey_next_stage_id']:contains('${next_stage}')`,
            },
            ...screenshot("crm_stage_survey/qualification", ".o_field_widget[name='survey_missing_criteria']"),
            {
                content: "Back to the pipeline",
                trigger: ".o_breadcrumb .breadcrumb-item a:contains('Pipeline')",
                run: "click",
            },
            {
                content: "Drag the card on to the next stage",
                trigger: `${column(to_stage)} .o_kanban_record:contains('${lead}')`,
                run: `drag_and_drop (.o_opportunity_kanban ${column(next_stage)})`,
            },
            {
                content: "Refused: the survey sets the stage",
                trigger: ".modal .o_error_dialog:contains('Qualify')",
            },
            {
                content: "Close the error dialog",
                trigger: ".modal .o_error_dialog .modal-footer button:contains('Close')",
                run: "click",
            },
            {
                content: "The card stays in the stage the answers reach",
                trigger: `body:not(:has(.modal)) ${column(to_stage)} .o_kanban_record:contains('${lead}')`,
            },
        ];
    },
});

registry.category("web_tour.tours").add("pd_survey_manager_tour", {
    steps: () => {
        const { stage, stage_url, lead_url, to_stage, reason } = tourData();
        return [
            ...menu("crm.crm_menu_config", "crm_stage_survey.crm_stage_criterion_menu"),
            {
                content: "The criteria are grouped by stage",
                trigger: `.o_list_view .o_group_header:contains('${stage}')`,
            },
            {
                content: "Open the stage's criteria",
                trigger: `.o_list_view .o_group_header:contains('${stage}')`,
                run: "click",
            },
            {
                content: "Its criteria: questions of the survey with the accepted answers or bounds",
                trigger: ".o_list_view .o_data_row td[name='question_id']",
            },
            {
                content: "Open the stage itself",
                trigger: "body",
                async run(helpers) {
                    await helpers.goToUrl(stage_url);
                },
                expectUnloadPage: true,
            },
            {
                content: "The stage form lists its entry criteria",
                trigger: ".o_form_view .o_field_widget[name='criterion_ids'] .o_data_row",
            },
            ...screenshot("crm_stage_survey/stage_criteria"),
            {
                content: "Open a lead whose stage the survey sets",
                trigger: "body",
                async run(helpers) {
                    await helpers.goToUrl(lead_url);
                },
                expectUnloadPage: true,
            },
            {
                content: "Override Stage",
                trigger: ".o_form_view .o_statusbar_buttons button[name='action_survey_override']",
                run: "click",
            },
            {
                content: "Choose the stage",
                trigger: ".modal .o_field_widget[name='stage_id'] input",
                run: `edit ${to_stage}`,
            },
            {
                content: "Pick it",
                trigger: `.o-autocomplete--dropdown-menu .dropdown-item:contains('${to_stage}')`,
                run: "click",
            },
            {
                content: "Give the reason",
                trigger: ".modal .o_field_widget[name='reason'] textarea, .modal .o_field_widget[name='reason'] input",
                run: `edit ${reason}`,
            },
            {
                content: "Override",
                trigger: ".modal .modal-footer button[name='action_apply']",
                run: "click",
            },
            {
                content: "The lead is in the chosen stage: the chatter tracks the change",
                // not read from the status bar: a manager's header has more buttons (Correct Phase), and the
                // stages may fold there into one list
                trigger: `body:not(:has(.modal)) .o-mail-Message:contains('Stage changed'):contains('${to_stage}')`,
            },
            {
                content: "The chatter keeps the reason",
                trigger: `.o-mail-Message:contains('${reason}')`,
            },
        ];
    },
});

registry.category("web_tour.tours").add("pd_phase_manager_tour", {
    steps: () => {
        const { phase, to_phase, reason } = tourData();
        return [
            {
                content: "The lead shows the customer's decision phase, not as a field to edit",
                trigger: `.o_form_view .o_field_widget[name='decision_phase_id']:contains('${phase}'):not(:has(input))`,
            },
            {
                content: "A sales manager corrects it",
                trigger: ".o_form_view button[name='action_decision_phase_correct']:visible",
                run: "click",
            },
            {
                content: "Choose the corrected phase",
                trigger: ".modal .o_field_widget[name='phase_id'] input",
                run: `edit ${to_phase}`,
            },
            {
                content: "Pick it",
                trigger: `.o-autocomplete--dropdown-menu .dropdown-item:contains('${to_phase}')`,
                run: "click",
            },
            {
                content: "Say why",
                trigger: ".modal .o_field_widget[name='reason'] textarea",
                run: `edit ${reason}`,
            },
            {
                content: "Leave the fields (the phase's suggestions close)",
                trigger: ".modal .modal-body p.text-muted",
                run: "click",
            },
            {
                content: "No suggestion list left open",
                trigger: "body:not(:has(.o-autocomplete--dropdown-menu))",
            },
            ...screenshot(
                "crm_stage_survey/phase_correction",
                `.modal .o_field_widget[name='phase_id'] input:value('${to_phase}')`
            ),
            {
                content: "Correct",
                trigger: ".modal .modal-footer button[name='action_apply']",
                run: "click",
            },
            {
                content: "The lead is in the corrected phase",
                trigger: `body:not(:has(.modal)) .o_form_view .o_field_widget[name='decision_phase_id']:contains('${to_phase}')`,
            },
            {
                content: "The chatter keeps the reason",
                trigger: `.o-mail-Message:contains('${reason}')`,
            },
            {
                content: "Open the lead's phase changes",
                trigger: ".o_form_view button[name='action_view_decision_phase_changes']",
                run: "click",
            },
            {
                content: "The correction is listed with its reason beside the customer's actions",
                trigger: `.o_list_view .o_data_row td[name='reason']:contains('${reason}')`,
            },
            {
                content: "and the customer's actions that moved it before",
                trigger: ".o_list_view .o_data_row td[name='event_id']:not(:empty)",
            },
            ...screenshot("crm_stage_survey/phase_changes"),
        ];
    },
});
