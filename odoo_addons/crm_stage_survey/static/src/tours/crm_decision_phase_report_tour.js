import { registry } from "@web/core/registry";

/**
 * "Decision Phase and Win Rate" as a sales manager and as a salesperson read it (started by
 * tests/test_decision_phase_report.py): per stage, the win rate of each decision phase, the customers
 * comparing vendors winning 75 % of the time, the verdict on the forecast on every line, and the pivot of
 * stages by phase.
 */
const comparing =
    ".o_list_view .o_data_row:has(td[name='phase_id']:contains('Comparing vendors'))";

registry.category("web_tour.tours").add("crm_decision_phase_report_tour", {
    steps: () => [
        {
            content: "Show the report for every team",
            trigger: ".modal .modal-footer button[name='action_show']",
            run: "click",
        },
        {
            content: "The lines are grouped by stage: open Phase Inquiry",
            trigger: ".o_list_view .o_group_header:contains('Phase Inquiry')",
            run: "click",
        },
        {
            content: "Customers comparing vendors in Inquiry won 3 in 4",
            trigger: `${comparing} td[name='win_rate']:contains('75.0')`,
        },
        {
            content: "The verdict on the forecast is shown on the line",
            trigger: `${comparing} td[name='verdict'] .badge`,
        },
        {
            content: "Leads without a phase yet are a line of their own",
            trigger: ".o_list_view .o_data_row td[name='phase_id']:empty",
        },
        {
            content: "The pivot: stages by decision phase",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "A column per phase",
            trigger: ".o_pivot thead th:contains('Comparing vendors')",
        },
    ],
});
