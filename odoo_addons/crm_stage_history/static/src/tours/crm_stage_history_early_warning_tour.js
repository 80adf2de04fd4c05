import { registry } from "@web/core/registry";

/**
 * The early warnings as a sales manager and as a salesperson read them (started by
 * tests/test_early_warning_tour.py on the scenario of tests/early_warning_scenario.py): the manager sees
 * Alice's and the team's drop in EW Inquiry, in red, warnings first; Alice sees her own drop and nothing of
 * Bob; without the Warnings filter, Bob's untested line shows its counts.
 */
function rows() {
    return [...document.querySelectorAll(".o_list_view .o_data_row")];
}

function cell(tr, name) {
    return tr.querySelector(`td[name='${name}']`)?.textContent.trim() || "";
}

function check(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

function showSteps(who) {
    return [
        {
            content: "The parameters: this week, 4 recent weeks against the 26 before",
            trigger: ".modal .o_field_widget[name='window_weeks'] input",
            run() {
                const value = document.querySelector(".modal .o_field_widget[name='window_weeks'] input").value;
                check(value === "4", `recent weeks: ${value}`);
            },
        },
        {
            content: "Show the warnings",
            trigger: ".modal .modal-footer button[name='action_show']",
            run: "click",
        },
        {
            content: `${who}: the warnings are listed, in red`,
            trigger: ".o_list_view .o_data_row.text-danger",
        },
    ];
}

registry.category("web_tour.tours").add("crm_stage_history_early_warning_manager_tour", {
    steps: () => [
        ...showSteps("manager"),
        {
            content: "Alice's and the team's Inquiry conversion dropped, against the baseline and the target",
            trigger: ".o_list_view .o_data_row:contains('Alice Warn')",
            run() {
                const warned = rows();
                check(warned.length === 8, `${warned.length} warnings`);
                check(warned.every((tr) => tr.classList.contains("text-danger")), "a warning is not red");
                check(warned.every((tr) => cell(tr, "stage_id") === "EW Inquiry"), "a warning outside Inquiry");
                const alice = warned.find(
                    (tr) =>
                        cell(tr, "segment_name").includes("Alice Warn") && cell(tr, "test").includes("baseline")
                );
                check(alice, "no warning for Alice against her baseline");
                check(cell(alice, "recent_rate") === "25.0", `Alice's recent rate: ${cell(alice, "recent_rate")}`);
                check(cell(alice, "baseline_rate") === "75.0", `baseline: ${cell(alice, "baseline_rate")}`);
                check(cell(alice, "recent_n") === "24", `recent decisions: ${cell(alice, "recent_n")}`);
            },
        },
        {
            content: "Every test: remove the Warnings filter",
            trigger: ".o_searchview .o_facet_remove",
            run: "click",
        },
        {
            content: "Bob's four recent decisions are shown, untested (muted), no warning",
            trigger: ".o_list_view .o_data_row:contains('Bob Warn')",
            run() {
                const bob = rows().filter((tr) => cell(tr, "segment_name").includes("Bob Warn"));
                check(bob.length > 0, "no line for Bob");
                check(!bob.some((tr) => tr.classList.contains("text-danger")), "a warning for Bob");
                check(bob.some((tr) => tr.classList.contains("text-muted")), "Bob's untested lines are not muted");
            },
        },
    ],
});

registry.category("web_tour.tours").add("crm_stage_history_early_warning_rep_tour", {
    steps: () => [
        ...showSteps("Alice"),
        {
            content: "Alice sees her own drop and the team's as far as her leads go, nothing of Bob",
            trigger: ".o_list_view .o_data_row:contains('Alice Warn')",
            run() {
                check(!document.body.textContent.includes("Bob Warn"), "Alice sees Bob's numbers");
            },
        },
    ],
});
