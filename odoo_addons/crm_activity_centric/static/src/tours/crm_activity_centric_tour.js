import { registry } from "@web/core/registry";

/**
 * A salesperson of a sales team whose follow-up policy is "enforce" completes the last open activity
 * of an opportunity from the chatter: plain "Done" is refused (the lead would be left without a next
 * step), "Done & Schedule Next" opens the "Schedule Activity" dialog and the call is done only once the
 * next activity is scheduled. Started on the lead form by tests/test_tour.py, which checks the outcome.
 */
const CALL = ".o-mail-Activity:contains('Call the buyer')";
const FEEDBACK = "Buyer wants a quote by Friday";

registry.category("web_tour.tours").add("crm_activity_centric_enforce_tour", {
    steps: () => [
        {
            content: "The lead form is loaded with its open call in the chatter",
            trigger: `.o_form_view .o-mail-Chatter ${CALL}`,
        },
        {
            content: "Open the Mark Done popover of the call",
            trigger: `${CALL} .o-mail-Activity-markDone`,
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
            content: "The server refuses: the lead would be left without a next step",
            trigger: ".modal .o_error_dialog:contains('would be left without a next step'):contains('Done & Schedule Next')",
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
            // the error dialog is an overlay opened after the popover, which counts clicks in it as
            // inside: the Mark Done popover is still open, with the feedback
            content: "Discard the Mark Done popover",
            trigger: ".o-mail-ActivityMarkAsDone button:contains('Discard')",
            run: "click",
        },
        {
            content: "The popover is closed",
            trigger: "body:not(:has(.o-mail-ActivityMarkAsDone))",
        },
        {
            content: "The call is still planned on the lead",
            trigger: `.o-mail-ActivityList ${CALL}`,
        },
        {
            content: "Open the Mark Done popover again",
            trigger: `${CALL} .o-mail-Activity-markDone`,
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
            content: "The Schedule Activity dialog opens",
            trigger: ".modal .o_form_view div[name='summary'] input",
        },
        {
            content: "Pick To-Do as the next activity type",
            trigger: ".modal .o_selection_badge:contains('To-Do')",
            run: "click",
        },
        {
            content: "To-Do is selected",
            trigger: ".modal .o_selection_badge.active:contains('To-Do')",
        },
        {
            content: "Summary of the next step",
            trigger: ".modal .o_form_view div[name='summary'] input",
            run: "edit Send the quote",
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
            content: "The next activity is planned",
            trigger: ".o-mail-ActivityList .o-mail-Activity:contains('Send the quote')",
        },
        {
            content: "The call is no longer planned",
            trigger: `.o-mail-ActivityList:not(:has(${CALL}))`,
        },
        {
            content: "The chatter shows the call as done, with its feedback",
            trigger: `.o-mail-Message:contains('Call the buyer'):contains('${FEEDBACK}')`,
        },
    ],
});
