import { registry } from "@web/core/registry";

/**
 * A salesperson's My Day: every row can be acted on. The leads that changed hands are not there (in an
 * enforce team the call went to the new owner; in an Off team it stayed his, on a lead he cannot open);
 * the Next Step column says what is due; Done, Done & Next and Open work on the rows. Done & Next on a call
 * 30 days late in an enforce team proposes a date that is not past, and its dialog does not offer "Mark
 * Done". Started on My Day by tests/test_tour.py, which checks the outcome.
 */
const ROW = ".o_list_renderer .o_data_row";

registry.category("web_tour.tours").add("crm_activity_centric_my_day_tour", {
    steps: () => [
        {
            content: "My Day lists the rep's call on the chairs",
            trigger: `${ROW}:contains('Call the buyer'):contains('Day: 40 chairs')`,
        },
        {
            content: "Only rows the rep can act on: nothing on the leads given to someone else",
            trigger: `.o_list_renderer:not(:has(${ROW}:contains('Day: given away'))):not(:has(${ROW}:contains('Day: off team')))`,
        },
        {
            content: "The Next Step column names the activity's type",
            trigger: `${ROW}:contains('Call the buyer') td[name='todo']:contains('Call')`,
        },
        {
            content: "A lead without a next step says so",
            trigger: `${ROW}:contains('Day: lamps') td[name='todo']:contains('Plan a next step')`,
        },
        {
            content: "Done on the call (the chairs keep their e-mail)",
            trigger: `${ROW}:contains('Call the buyer') button[name='action_done']`,
            run: "click",
        },
        {
            content: "The call is done: its row is gone",
            trigger: `.o_list_renderer:not(:has(${ROW}:contains('Call the buyer')))`,
        },
        {
            content: "Done & Next on the late call of the desks",
            trigger: `${ROW}:contains('Late call') button[name='action_done_schedule_next']`,
            run: "click",
        },
        {
            content: "The Schedule dialog opens",
            trigger: ".modal .o_form_view div[name='summary'] input",
        },
        {
            content: "Pick To-Do",
            trigger: ".modal .o_selection_badge:contains('To-Do')",
            run: "click",
        },
        {
            content: "To-Do is selected",
            trigger: ".modal .o_selection_badge.active:contains('To-Do')",
        },
        {
            content: "The dialog does not offer Mark Done: the activity it schedules is the lead's next step",
            trigger: ".modal .modal-footer:has(button[name='action_close_dialog']):not(:has(button[name='action_done']))",
        },
        {
            content: "Summary of the next step",
            trigger: ".modal .o_form_view div[name='summary'] input",
            run: "edit Send the desk quote",
        },
        {
            content: "Schedule it",
            trigger: ".modal .modal-footer button[name='action_close_dialog']",
            run: "click",
        },
        {
            content: "The dialog is closed and the late call is done",
            trigger: `body:not(:has(.modal)) .o_list_renderer:not(:has(${ROW}:contains('Late call')))`,
        },
        {
            content: "Open the lead without a next step",
            trigger: `${ROW}:contains('Day: lamps') button[name='action_open_lead']`,
            run: "click",
        },
        {
            content: "Its form opens",
            trigger: ".o_form_view .o_breadcrumb:contains('Day: lamps')",
        },
    ],
});
