import { registry } from "@web/core/registry";
import { menu, screenshot, tourData } from "./pd_tour_utils";

/**
 * The analyses of CRM › Reporting on the demo pipeline (started by tests/test_tours.py, which computes the
 * lines the tours must find): as a sales manager, Activities That Win, Early Warnings, Probability by
 * Month-End and Decision Phase and Win Rate, each shown with its default parameters; as a salesperson,
 * Activities That Win without the per-salesperson view.
 */
function check(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

function cell(row, name) {
    return row.querySelector(`td[name='${name}']`)?.textContent.trim() ?? "";
}

/** The list row whose cells hold `values` ({field name: text}), or undefined. */
function findRow(values) {
    return [...document.querySelectorAll(".o_list_view .o_data_row")].find((row) =>
        Object.entries(values).every(([name, text]) => cell(row, name) === String(text))
    );
}

/** The lines of a table of the test ({columns, rows}: the texts of the cells), as {field name: text}. */
function lines(table) {
    return table.rows.map((row) => Object.fromEntries(table.columns.map((name, i) => [name, row[i]])));
}

function checkLines(table) {
    for (const line of lines(table)) {
        check(findRow(line), `no line ${JSON.stringify(line)} in the list`);
    }
}

/** A step that checks the list shows each line of `table`, after waiting for `trigger`. */
function expectLines(content, trigger, table) {
    return {
        content,
        trigger,
        run() {
            checkLines(table);
        },
    };
}

// no request pending: the list is drawn as the user reads it
const settled = "body:not(:has(.o_loading_indicator))";

const show = {
    content: "Show, with the default parameters",
    trigger: ".modal .modal-footer button[name='action_show']",
    run: "click",
};

function activitiesThatWin(perSalesperson) {
    const offered = ".modal .modal-footer button[name='action_show_salespeople']";
    return [
        ...menu("crm.crm_menu_report", "crm_activity_centric.crm_activity_win_report_menu"),
        {
            content: perSalesperson ? "A manager may see the salespeople" : "No Per Salesperson for a rep",
            trigger: ".modal .modal-footer button[name='action_show']",
            run() {
                check(
                    Boolean(document.querySelector(offered)) === perSalesperson,
                    perSalesperson ? "a manager is not offered Per Salesperson" : "a rep is offered Per Salesperson"
                );
            },
        },
        show,
    ];
}

// each report opened from the pipeline (the menu clears the breadcrumbs): they do not pile the reports up
const backToPipeline = [
    ...menu("crm.crm_menu_sales", "crm.menu_crm_opportunities"),
    {
        content: "The pipeline is shown",
        trigger: ".o_kanban_view .o_kanban_record",
    },
];

registry.category("web_tour.tours").add("pd_analyses_manager_tour", {
    steps: () => {
        const data = tourData();
        return [
            // Activities That Win
            ...activitiesThatWin(true),
            expectLines(
                "The win rate per type of activity and count: meetings and calls",
                ".o_list_view .o_data_row td[name='activity_type_id']:contains('Meeting')",
                data.win_lines
            ),
            ...screenshot("crm_activity_centric/activities_that_win", settled),
            // Early Warnings
            ...backToPipeline,
            ...menu("crm.crm_menu_report", "crm_stage_history.crm_early_warning_report_menu"),
            show,
            {
                content: "No conversion nor time in stage dropped significantly this week",
                trigger: ".o_view_nocontent:contains('No early warning this week')",
            },
            {
                content: "Every test: remove the Warnings filter",
                trigger: ".o_searchview .o_facet_remove",
                run: "click",
            },
            {
                content: "Open the filters",
                trigger: ".o_control_panel .o_searchview_dropdown_toggler",
                run: "click",
            },
            {
                content: "The segments with enough leads to test",
                trigger: ".o_filter_menu .o_menu_item:contains('Tested')",
                run: "click",
            },
            {
                content: "Close the filters",
                trigger: ".o_control_panel .o_searchview_dropdown_toggler",
                run: "click",
            },
            {
                content: "The tested lines: their evidence, none a warning",
                // the whole list holds untested (muted) lines: wait for it to be filtered
                trigger: ".o_list_view:not(:has(.o_data_row.text-muted)) .o_data_row",
                run() {
                    const rows = [...document.querySelectorAll(".o_list_view .o_data_row")];
                    check(rows.length === data.tested_lines.rows.length, `${rows.length} tested lines`);
                    check(!rows.some((row) => row.classList.contains("text-danger")), "a warning is shown");
                    checkLines(data.tested_lines);
                },
            },
            ...screenshot("crm_stage_history/early_warnings", settled),
            // Probability by Month-End
            ...backToPipeline,
            ...menu("crm.crm_menu_report", "crm_stage_history.crm_probability_snapshot_report_menu"),
            {
                content: "A manager may measure per stage",
                trigger: ".modal .modal-footer button[name='action_show_stages']",
            },
            show,
            expectLines(
                "Per band of stated probability: how many of the opportunities were won",
                ".o_list_view .o_data_row td[name='observed']:not(:empty)",
                data.bands
            ),
            ...screenshot("crm_stage_history/probability_by_month_end", settled),
            // Decision Phase and Win Rate
            ...backToPipeline,
            ...menu("crm.crm_menu_report", "crm_stage_survey.crm_decision_phase_report_menu"),
            show,
            ...data.phase_stages.flatMap((stage) => [
                {
                    content: `Open the lines of ${stage}`,
                    trigger: `.o_list_view .o_group_header:not(.o_group_open):contains('${stage}')`,
                    run: "click",
                },
                {
                    content: `The lines of ${stage} are shown`,
                    trigger: `.o_list_view .o_group_header.o_group_open:contains('${stage}') + .o_data_row`,
                },
            ]),
            expectLines(
                "Per stage, the win rate of each decision phase of the customer",
                ".o_list_view .o_data_row td[name='phase_id']:not(:empty)",
                data.phase_lines
            ),
            ...screenshot("crm_stage_survey/decision_phase_win_rate", settled),
        ];
    },
});

registry.category("web_tour.tours").add("pd_analyses_rep_tour", {
    steps: () => [
        ...activitiesThatWin(false),
        expectLines(
            "The win rates of his own opportunities",
            ".o_list_view .o_data_row td[name='activity_type_id']:contains('Meeting')",
            tourData().win_lines
        ),
    ],
});
