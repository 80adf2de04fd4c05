import { registry } from "@web/core/registry";

/**
 * The funnel list as a sales manager reads it (started by tests/test_funnel_tour.py on a funnel computed
 * by hand): every header readable in full, only the measure that misses its target in red, and totals
 * only where a sum counts leads.
 */
const row = (stage) => `.o_list_view .o_data_row:has(td[name='stage_id']:contains('${stage}'))`;

/** The list row of a stage (`:contains` is the tour's, not the browser's). */
function line(stage) {
    return [...document.querySelectorAll(".o_list_view .o_data_row")].find(
        (tr) => tr.querySelector("td[name='stage_id']")?.textContent.trim() === stage
    );
}

/** The names of the red cells of a stage's row. */
function redCells(stage) {
    return [...line(stage).querySelectorAll("td.text-danger")].map((td) => td.getAttribute("name"));
}

function check(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

/** The footer's totals, by the name of the column they stand under. */
function totals() {
    const headers = [...document.querySelectorAll(".o_list_view thead tr th")];
    const names = headers.flatMap((th) => Array(th.colSpan).fill(th.dataset.name));
    const result = {};
    let position = 0;
    for (const td of document.querySelectorAll(".o_list_view tfoot tr td")) {
        const text = td.textContent.trim();
        if (text) {
            result[names[position]] = text;
        }
        position += td.colSpan;
    }
    return result;
}

registry.category("web_tour.tours").add("crm_stage_history_funnel_tour", {
    steps: () => [
        {
            content: "Scope: the sales team of the scenario",
            trigger: ".modal .o_field_widget[name='team_ids'] input",
            run: "edit History Team",
        },
        {
            content: "Choose it",
            trigger: ".o-autocomplete--dropdown-menu .dropdown-item:contains('History Team')",
            run: "click",
        },
        {
            content: "Show the funnel",
            trigger: ".modal .modal-footer button[name='action_show']",
            run: "click",
        },
        {
            content: "Inquiry converts below its target: its conversion is red",
            trigger: `${row("Inquiry")} td[name='conversion_rate'].text-danger`,
        },
        {
            content: "Inquiry has no days target: only the conversion is red, not the row",
            trigger: row("Inquiry"),
            run() {
                check(!line("Inquiry").classList.contains("text-danger"), "the whole Inquiry row is red");
                const red = redCells("Inquiry");
                check(red.join() === "conversion_rate", `red cells of Inquiry: ${red}`);
            },
        },
        {
            content: "Qualified stays longer than its target: only its median days are red",
            trigger: `${row("Qualified")} td[name='median_days'].text-danger`,
            run() {
                const red = redCells("Qualified");
                check(red.join() === "median_days", `red cells of Qualified: ${red}`);
                check(!document.querySelector(".o_list_view .o_data_row.text-danger"), "a whole row is red");
                check(!redCells("Proposal").length, "Proposal has no target but is red");
            },
        },
        {
            content: "Every column header is readable in full",
            trigger: ".o_list_view thead th[data-name='target_days_in_stage']",
            run() {
                for (const label of document.querySelectorAll(".o_list_view thead th[data-name] span.text-truncate")) {
                    check(
                        label.scrollWidth <= label.clientWidth,
                        `the header "${label.textContent}" is cut (${label.scrollWidth} > ${label.clientWidth} px)`
                    );
                }
            },
        },
        {
            content: "Totals: lost and still open leads; no sum of entered or moved on (a lead enters many stages)",
            trigger: ".o_list_view tfoot td.o_list_number:contains('2')",
            run() {
                const found = JSON.stringify(totals());
                check(found === JSON.stringify({ lost: "2", open: "3" }), `totals: ${found}`);
            },
        },
    ],
});
