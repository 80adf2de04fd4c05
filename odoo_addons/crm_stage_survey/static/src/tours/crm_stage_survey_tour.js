import { registry } from "@web/core/registry";

/**
 * A salesperson of a sales team whose stages follow its qualification survey qualifies a lead: "Qualify"
 * opens the survey in the same window, which names the lead and its customer; the answers are submitted,
 * the page says the stage they reach, and its "Back to the lead" button returns to the lead, whose
 * statusbar shows that stage and whose chatter lists the answers that decided it. In the pipeline,
 * dragging the card on to the next stage by hand is refused by the server and the card stays where the
 * answers put it. Started on the lead form by tests/test_qualify_tour.py, which checks the outcome on the
 * server.
 */
const LEAD = "Tour: 40 standing desks";
const CUSTOMER = "Ergo Office Ltd";
const column = (stage) => `.o_kanban_group:has(.o_column_title:contains('${stage}'))`;

registry.category("web_tour.tours").add("crm_stage_survey_qualify_tour", {
    steps: () => [
        {
            content: "The lead is in the first stage; the survey sets it: the statusbar is read-only",
            trigger:
                ".o_form_view .o_statusbar_status button.o_arrow_button_current:disabled:contains('Tour New')",
        },
        {
            content: "Qualify the lead: the team's survey opens in the same window",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_qualify']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The survey names the lead being qualified and its customer",
            trigger: `.o_crm_stage_survey_lead:contains('${LEAD}'):contains('${CUSTOMER}')`,
        },
        {
            content: "Start the qualification survey",
            trigger: "button.btn:contains('Start')",
            run: "click",
        },
        {
            content: "The lead is still named on the questions' page",
            trigger: `body:has(.o_crm_stage_survey_lead:contains('${LEAD}')) div.js_question-wrapper:contains('Seats')`,
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
            content: "Four seats so far",
            trigger: "div.js_question-wrapper:contains('Seats') input",
            run: "edit 4",
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
            content: "The page says the stage reached, and what the next one still needs",
            trigger: ".o_crm_stage_survey_reached:contains('Tour Qualified'):contains('Seats ≥ 10')",
        },
        {
            content: "No 'Take Again' here: back to the lead",
            trigger: ".o_survey_finished:not(:contains('Take Again')) a.o_crm_stage_survey_back",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the lead",
            trigger: `.o_breadcrumb:contains('${LEAD}')`,
        },
        {
            content: "The statusbar shows the stage the answers reach",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Tour Qualified')",
        },
        {
            content: "The chatter lists the answers that moved the lead",
            trigger:
                ".o-mail-Message:contains('The qualification survey moved the lead to Tour Qualified')" +
                ":contains('Budget confirmed? Yes')" +
                ":contains('What do they need? 40 standing desks for the new office')" +
                ":contains('Seats: 4')",
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
