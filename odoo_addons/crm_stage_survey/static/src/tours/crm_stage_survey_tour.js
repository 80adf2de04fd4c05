import { registry } from "@web/core/registry";

/**
 * A salesperson of a sales team whose stages follow its qualification survey qualifies a lead: "Qualify"
 * opens the survey in the same window, the answers are submitted, and back on the lead the statusbar
 * shows the stage the answers reach. In the pipeline, dragging the card on to the next stage by hand is
 * refused by the server and the card stays where the answers put it. Started on the lead form by
 * tests/test_qualify_tour.py, which checks the outcome on the server.
 */
const LEAD = "Tour: 40 standing desks";
const LEAD_URL_KEY = "crm_stage_survey_tour.lead_url";
const column = (stage) => `.o_kanban_group:has(.o_column_title:contains('${stage}'))`;

registry.category("web_tour.tours").add("crm_stage_survey_qualify_tour", {
    steps: () => [
        {
            content: "The lead is in the first stage; the survey sets it: the statusbar is read-only",
            trigger:
                ".o_form_view .o_statusbar_status button.o_arrow_button_current:disabled:contains('Tour New')",
        },
        {
            content: "Remember where the lead is, to come back to it from the survey's page",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_qualify']",
            run() {
                sessionStorage.setItem(LEAD_URL_KEY, window.location.pathname);
            },
        },
        {
            content: "Qualify the lead: the team's survey opens in the same window",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_qualify']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Start the qualification survey",
            trigger: "button.btn:contains('Start')",
            run: "click",
        },
        {
            content: "Budget confirmed? Yes",
            trigger: "div.js_question-wrapper:contains('Budget confirmed?') label:contains('Yes')",
            run: "click",
        },
        {
            content: "Describe the need",
            trigger: "div.js_question-wrapper:contains('What do they need?') input",
            run: "edit 40 standing desks for the new office",
        },
        {
            content: "Submit the answers",
            trigger: "button[value='finish']",
            run: "click",
        },
        {
            content: "Confirm the submission",
            trigger: ".modal .modal-footer button.btn-primary:contains('Submit')",
            run: "click",
        },
        {
            content: "The answers are recorded",
            trigger: "h1:contains('Thank you')",
        },
        {
            content: "Go back to the lead",
            trigger: "body",
            async run(helpers) {
                const leadUrl = sessionStorage.getItem(LEAD_URL_KEY);
                sessionStorage.removeItem(LEAD_URL_KEY);
                await helpers.goToUrl(leadUrl);
            },
            expectUnloadPage: true,
        },
        {
            content: "The statusbar shows the stage the answers reach",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Tour Qualified')",
        },
        {
            content: "The chatter says what moved the lead",
            trigger: ".o-mail-Message:contains('The qualification survey moved the lead to Tour Qualified')",
        },
        {
            content: "Open the pipeline",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Pipeline')",
            run: "click",
        },
        {
            content: "Drag the card on to the next stage",
            trigger: `${column("Tour Qualified")} .o_kanban_record:contains('${LEAD}')`,
            run: `drag_and_drop (.o_opportunity_kanban ${column("Tour Proposal")})`,
        },
        {
            content: "The server refuses: the survey sets the stage",
            trigger: ".modal .o_error_dialog:contains('Qualify')",
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
            content: "The card stays in the stage the answers reach",
            trigger: `${column("Tour Qualified")} .o_kanban_record:contains('${LEAD}')`,
        },
        {
            content: "Nothing landed in the next stage",
            trigger: `.o_opportunity_kanban ${column("Tour Proposal")}:not(:has(.o_kanban_record))`,
        },
    ],
});
