import { registry } from "@web/core/registry";
import { menu, screenshot, tourData } from "./pd_tour_utils";

/**
 * Mandatory follow-up (crm_activity_centric) on the demo pipeline.
 *
 * Rep of Field Sales (policy Enforce): My Day lists their activities due today and overdue; on one of
 * their leads, plain "Done" on the last activity is refused, "Done & Schedule Next" plans the next step.
 * Manager: a lead of Inside Sales (policy Warn) without a next step shows the warning; Plan Tomorrow
 * shows the load of a team's reps against their capacity and proposes moves, which the manager applies.
 * Started by tests/test_tours.py, which chooses the records (cookie pd_tour) and checks the outcome.
 */
const FEEDBACK = "Budget confirmed, they want the quote this week";
const NEXT_STEP = "Send the quote";

registry.category("web_tour.tours").add("pd_followup_rep_tour", {
    steps: () => {
        const { lead } = tourData();
        const row = `.o_list_view .o_data_row:contains('${lead}')`;
        const activity = ".o-mail-ActivityList .o-mail-Activity";
        return [
            {
                content: "My Day opens with the rep's due and overdue activities",
                trigger: ".o_searchview_facet:contains('My Day')",
            },
            {
                content: "The lead's activity is on the agenda",
                trigger: `${row} button[name='action_done']`,
            },
            ...screenshot("crm_activity_centric/my_day", row),
            {
                content: "Open the lead from the agenda",
                trigger: `${row} button[name='action_open_lead']`,
                run: "click",
            },
            {
                content: "The lead form shows its one open activity in the chatter",
                trigger: `.o_form_view .o-mail-Chatter ${activity}`,
            },
            {
                content: "Open the Mark Done popover",
                trigger: `${activity} .o-mail-Activity-markDone`,
                run: "click",
            },
            {
                content: "Write a feedback",
                trigger: ".o-mail-ActivityMarkAsDone textarea",
                run: `edit ${FEEDBACK}`,
            },
            {
                content: "Try plain Done on the last activity",
                trigger: ".o-mail-ActivityMarkAsDone button[aria-label='Done']",
                run: "click",
            },
            {
                content: "Refused: the lead would be left without a next step",
                trigger: ".modal .o_error_dialog:contains('would be left without a next step')",
            },
            {
                content: "Close the error dialog",
                trigger: ".modal .o_error_dialog .modal-footer button:contains('Close')",
                run: "click",
            },
            {
                content: "The error dialog is gone",
                trigger: "body:not(:has(.modal))",
            },
            {
                content: "Discard the Mark Done popover",
                trigger: ".o-mail-ActivityMarkAsDone button:contains('Discard')",
                run: "click",
            },
            {
                content: "The popover is closed, the activity still planned",
                trigger: `body:not(:has(.o-mail-ActivityMarkAsDone)) ${activity}`,
            },
            {
                content: "Open the Mark Done popover again",
                trigger: `${activity} .o-mail-Activity-markDone`,
                run: "click",
            },
            {
                content: "Write the feedback again",
                trigger: ".o-mail-ActivityMarkAsDone textarea",
                run: `edit ${FEEDBACK}`,
            },
            {
                content: "Done & Schedule Next",
                trigger: ".o-mail-ActivityMarkAsDone button[aria-label='Done and Schedule Next']",
                run: "click",
            },
            {
                content: "Pick To-Do as the next activity",
                trigger: ".modal .o_selection_badge:contains('To-Do')",
                run: "click",
            },
            {
                content: "To-Do is selected",
                trigger: ".modal .o_selection_badge.active:contains('To-Do')",
            },
            {
                content: "Say what the next step is",
                trigger: ".modal .o_form_view div[name='summary'] input",
                run: `edit ${NEXT_STEP}`,
            },
            {
                content: "Schedule it",
                trigger: ".modal .modal-footer button[name='action_close_dialog']:contains('Schedule')",
                run: "click",
            },
            {
                content: "The dialog is closed",
                trigger: "body:not(:has(.modal))",
            },
            {
                content: "The next step is planned on the lead",
                trigger: `${activity}:contains('${NEXT_STEP}')`,
            },
            {
                content: "The chatter shows the done activity with its feedback",
                trigger: `.o-mail-Message:contains('${FEEDBACK}')`,
            },
        ];
    },
});

registry.category("web_tour.tours").add("pd_followup_manager_tour", {
    steps: () => {
        const { lead, team } = tourData();
        return [
            {
                // the leader of the teams is a member of none and owns no deal: not "My Pipeline"
                content: "The CRM opens on the pipeline of the teams the manager leads",
                trigger: ".o_kanban_view .o_searchview_facet:contains('My Teams\' Pipeline')",
            },
            {
                content: "... with his teams' opportunities in it, not Odoo's sample cards",
                trigger: ".o_kanban_view:not(.o_view_sample_data) .o_kanban_record",
            },
            ...menu("crm.crm_menu_sales", "crm_activity_centric.crm_lead_missing_followup_menu"),
            {
                content: "Missing Follow-up opens on the teams the manager leads too",
                trigger:
                    ".o_list_view:has(.o_breadcrumb:contains('Missing Follow-up')) " +
                    ".o_searchview_facet:contains('My Teams\' Pipeline')",
            },
            {
                content: "Their leads without a next step are listed",
                trigger: ".o_list_view .o_data_row",
            },
            {
                content: "Search the lead of Inside Sales",
                trigger: ".o_searchview_input",
                run: `edit ${lead}`,
            },
            {
                content: "Search by its name",
                trigger: ".o_searchview_autocomplete .o-dropdown-item:first",
                run: "click",
            },
            {
                content: "Open the lead without a next step",
                trigger: `.o_list_view .o_data_row td[name='name']:contains('${lead}')`,
                run: "click",
            },
            {
                content: "The form warns: no next step",
                trigger: ".o_form_view .o_crm_followup_missing:contains('No next step')",
            },
            ...screenshot("crm_activity_centric/followup_missing", ".o_form_view .o_crm_followup_missing"),
            ...menu("crm.crm_menu_sales", "crm_activity_centric.crm_activity_plan_tomorrow_menu"),
            {
                content: "Plan the day of a whole team",
                trigger: ".modal .o_field_widget[name='team_id'] input",
                run: `edit ${team}`,
            },
            {
                content: "Choose the team",
                trigger: `.o-autocomplete--dropdown-menu .dropdown-item:contains('${team}')`,
                run: "click",
            },
            {
                content: "Its salespeople are planned",
                trigger: ".modal .o_field_widget[name='user_ids'] .o_tag",
            },
            {
                content: "Propose",
                trigger: ".modal .modal-footer button[name='action_propose']:contains('Propose')",
                run: "click",
            },
            {
                content: "The load of each salesperson on the day, against their capacity",
                trigger: ".modal .o_field_widget[name='load_ids'] .o_data_row.text-danger",
            },
            {
                content: "The proposed moves, lowest priority first",
                trigger: ".modal .o_field_widget[name='move_ids'] .o_data_row",
            },
            ...screenshot("crm_activity_centric/plan_tomorrow"),
            {
                content: "Apply the moves",
                trigger: ".modal .modal-footer button[name='action_apply']",
                run: "click",
            },
            {
                content: "The moves are applied",
                trigger: ".o_notification:contains('activities moved')",
            },
            {
                content: "The wizard is closed",
                trigger: "body:not(:has(.modal))",
            },
        ];
    },
});

registry.category("web_tour.tours").add("pd_restore_rep_tour", {
    steps: () => {
        const { summary } = tourData();
        return [
            {
                content: "A lost lead of a team that requires a next step",
                trigger: ".o_form_view .o_statusbar_buttons button[name='action_restore']",
                run: "click",
            },
            {
                content: "Restoring it asks for its next step first",
                trigger: ".modal .o_form_view div[name='summary'] input",
                run: `edit ${summary}`,
            },
            ...screenshot(
                "crm_activity_centric/restore_next_step",
                `.modal .o_form_view div[name='summary'] input:value('${summary}')`
            ),
            {
                content: "Schedule it: the lead is restored with it",
                trigger: ".modal .modal-footer button[name='action_close_dialog']:contains('Schedule')",
                run: "click",
            },
            {
                content: "The lead is restored: Lost is offered again",
                trigger: "body:not(:has(.modal)) .o_form_view .o_statusbar_buttons button:contains('Lost')",
            },
            {
                content: "with its next step",
                trigger: `.o-mail-Chatter:contains('${summary}')`,
            },
        ];
    },
});
