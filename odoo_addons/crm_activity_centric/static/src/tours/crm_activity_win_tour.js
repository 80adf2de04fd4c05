import { registry } from "@web/core/registry";

/**
 * Activities That Win in the browser (started by tests/test_activity_win_tour.py): the parameters dialog,
 * the lines per activity type and count, the graph; per salesperson for a manager only.
 */
function check(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

function rowTexts() {
    return [...document.querySelectorAll(".o_list_view .o_data_row")].map((row) =>
        [...row.querySelectorAll("td.o_data_cell")].map((cell) => cell.textContent.trim()).join("|")
    );
}

const show = [
    {
        content: "The dialog explains the report",
        trigger: ".modal .text-muted:contains('Open opportunities are left out')",
    },
    {
        content: "Show the lines",
        trigger: ".modal .modal-footer button[name='action_show']",
        run: "click",
    },
    {
        content: "One line per activity type and count",
        trigger: ".o_list_view .o_data_row:contains('Meeting'):contains('5+')",
    },
];

registry.category("web_tour.tours").add("crm_activity_win_manager_tour", {
    steps: () => [
        {
            content: "A manager may see the salespeople",
            trigger: ".modal .modal-footer button[name='action_show_salespeople']",
        },
        ...show,
        {
            content: "The lines a manager sees: every salesperson's opportunities",
            trigger: ".o_list_view .o_data_row:contains('Call')",
            run() {
                const rows = rowTexts();
                check(
                    rows.some((row) => row.startsWith("Meeting|2|2|")),
                    `two opportunities with two meetings: ${rows.join(" / ")}`
                );
                check(
                    rows.some((row) => row.includes("No clear effect of the count")),
                    `what the data says: ${rows.join(" / ")}`
                );
            },
        },
        {
            content: "The graph of the win rates",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "The graph is drawn",
            trigger: ".o_graph_renderer canvas",
        },
    ],
});

registry.category("web_tour.tours").add("crm_activity_win_salespeople_tour", {
    steps: () => [
        {
            content: "Per salesperson",
            trigger: ".modal .modal-footer button[name='action_show_salespeople']",
            run: "click",
        },
        {
            content: "Shares per salesperson and type, no count of activities",
            trigger: ".o_list_view .o_data_row:contains('Alice Tour')",
            run() {
                const headers = [...document.querySelectorAll(".o_list_view thead th[data-name]")].map(
                    (th) => th.dataset.name
                );
                check(headers.includes("share_reaching"), `columns: ${headers.join(", ")}`);
                check(!headers.includes("count") && !headers.includes("won"), `columns: ${headers.join(", ")}`);
            },
        },
    ],
});

registry.category("web_tour.tours").add("crm_activity_win_rep_tour", {
    steps: () => [
        {
            content: "No per-salesperson button for a salesperson",
            trigger: ".modal .modal-footer button[name='action_show']",
            run() {
                check(
                    !document.querySelector(".modal .modal-footer button[name='action_show_salespeople']"),
                    "a salesperson is offered the per-salesperson view"
                );
            },
        },
        ...show,
        {
            content: "The lines a salesperson sees: his own opportunities",
            trigger: ".o_list_view .o_data_row:contains('Call')",
            run() {
                const rows = rowTexts();
                check(
                    rows.some((row) => row.startsWith("Meeting|2|1|")),
                    `one opportunity of his own with two meetings: ${rows.join(" / ")}`
                );
            },
        },
    ],
});
