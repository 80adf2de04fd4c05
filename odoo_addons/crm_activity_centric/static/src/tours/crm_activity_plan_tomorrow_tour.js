import { registry } from "@web/core/registry";

/**
 * Plan Tomorrow as a salesperson (started by tests/test_plan_tomorrow_tour.py): the load table's headers
 * are readable in full and tell count, minutes and capacity apart; a day over capacity proposes moves, a
 * day that fits says that nothing needs moving.
 */
function check(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

const LOAD = ".modal .o_field_widget[name='load_ids']";

const propose = [
    {
        content: "Propose",
        trigger: ".modal .modal-footer button[name='action_propose']:contains('Propose')",
        run: "click",
    },
    {
        content: "The load table's headers are whole and distinct",
        trigger: `${LOAD} .o_data_row`,
        run() {
            const labels = [...document.querySelectorAll(`${LOAD} thead th[data-name] span.text-truncate`)];
            const texts = labels.map((label) => label.textContent.trim());
            check(
                texts.join("|") ===
                    "Salesperson|Activities|Minutes|Max Activities|Max Minutes|Activities After|Minutes After",
                `load headers: ${texts.join("|")}`
            );
            for (const label of labels) {
                check(
                    label.scrollWidth <= label.clientWidth,
                    `the header "${label.textContent}" is cut (${label.scrollWidth} > ${label.clientWidth} px)`
                );
            }
        },
    },
];

registry.category("web_tour.tours").add("crm_activity_plan_tomorrow_over_tour", {
    steps: () => [
        ...propose,
        {
            content: "The day is over capacity: moves are proposed, no all-clear",
            trigger: ".modal .o_field_widget[name='move_ids'] .o_data_row",
            run() {
                check(document.querySelector(`${LOAD} .o_data_row.text-danger`), "the day is not shown over");
                check(!document.querySelector(".modal .alert-success"), "an all-clear next to the moves");
                check(document.querySelector(".modal .modal-footer button[name='action_apply']"), "no Apply");
            },
        },
    ],
});

registry.category("web_tour.tours").add("crm_activity_plan_tomorrow_fits_tour", {
    steps: () => [
        ...propose,
        {
            content: "The day fits: the wizard says so, and there is nothing to apply",
            trigger: ".modal .alert-success:contains('Nothing needs moving')",
            run() {
                check(!document.querySelector(".modal .o_field_widget[name='move_ids']"), "an empty moves list");
                check(!document.querySelector(".modal .modal-footer button[name='action_apply']"), "Apply shown");
            },
        },
    ],
});
