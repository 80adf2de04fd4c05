import { registry } from "@web/core/registry";

/**
 * Probability Calibration by Month-End in the browser (started by tests/test_probability_snapshot_tour.py):
 * the opportunities stated at 20 % at their month ends were won half the time, for a sales manager and for a
 * salesman (his own); the manager applies the measure of a stage, which the salesman cannot even open.
 */
const band = (label) => `.o_list_view .o_data_row:has(td[name='band']:contains('${label}'))`;
const stage = (name) => `.o_list_view .o_data_row:has(td[name='stage_id']:contains('${name}'))`;

/** The list row of a band (`:contains` is the tour's, not the browser's). */
function bandRow(label) {
    return [...document.querySelectorAll(".o_list_view .o_data_row")].find(
        (tr) => tr.querySelector("td[name='band']")?.textContent.trim() === label
    );
}

function check(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

const chooseTeam = [
    {
        content: "Scope: the sales team of the scenario",
        trigger: ".modal .o_field_widget[name='team_ids'] input",
        run: "edit Snapshot Tour Team",
    },
    {
        content: "Choose it",
        trigger: ".o-autocomplete--dropdown-menu .dropdown-item:contains('Snapshot Tour Team')",
        run: "click",
    },
];

function showBands(decided) {
    return [
        ...chooseTeam,
        {
            content: "Show the bands",
            trigger: ".modal .modal-footer button[name='action_show']",
            run: "click",
        },
        {
            content: "The 20-30 % band: won half the time, stated 20 %",
            trigger: `${band("20-30 %")} td[name='observed']:contains('50.0')`,
            run() {
                const row = bandRow("20-30 %");
                const cell = (name) => row.querySelector(`td[name='${name}']`).textContent.trim();
                check(cell("mean_stated") === "20.0", `stated: ${cell("mean_stated")}`);
                check(cell("lead_count") === String(decided), `decided opportunities: ${cell("lead_count")}`);
                check(cell("open_count") !== "0", "the open opportunities are not set apart");
            },
        },
    ];
}

registry.category("web_tour.tours").add("crm_stage_history_probability_snapshot_manager_tour", {
    steps: () => showBands(4),
});

registry.category("web_tour.tours").add("crm_stage_history_probability_snapshot_apply_tour", {
    steps: () => [
        ...chooseTeam,
        {
            content: "Measure per stage",
            trigger: ".modal .modal-footer button[name='action_show_stages']",
            run: "click",
        },
        {
            content: "Select Snapshot Inquiry",
            trigger: `${stage("Snapshot Inquiry")} td.o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Apply its measure to the stage",
            trigger: ".o_control_panel button[name='action_apply']",
            run: "click",
        },
        {
            content: "The stage is calibrated",
            trigger: ".o_notification:contains('1 stages and 0 open opportunities updated.')",
        },
    ],
});

registry.category("web_tour.tours").add("crm_stage_history_probability_snapshot_rep_tour", {
    steps: () => [
        {
            content: "A salesman has no per-stage measure nor fill-back",
            trigger: ".modal .modal-footer button[name='action_show']",
            run() {
                const footer = document.querySelector(".modal .modal-footer");
                check(!footer.querySelector("button[name='action_show_stages']"), "Per Stage is offered");
                check(!footer.querySelector("button[name='action_backfill']"), "Fill In is offered");
            },
        },
        ...showBands(2),
    ],
});
