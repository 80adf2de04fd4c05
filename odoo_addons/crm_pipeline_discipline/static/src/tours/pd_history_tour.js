import { registry } from "@web/core/registry";
import { menu, screenshot } from "./pd_tour_utils";

/**
 * Stage history (crm_stage_history) on the demo pipeline, as a sales manager: the funnel per stage
 * against its targets (list and graph), the stage history of the leads, and the calibration of the
 * stages' probabilities from what the pipeline measured, applied. Started by tests/test_tours.py,
 * which checks the outcome.
 */
registry.category("web_tour.tours").add("pd_history_manager_tour", {
    steps: () => [
        ...menu("crm.crm_menu_report", "crm_stage_history.crm_stage_funnel_report_menu"),
        {
            content: "Show the funnel of every lead",
            trigger: ".modal .modal-footer button[name='action_show']",
            run: "click",
        },
        {
            content: "One line per stage, with its target",
            trigger: ".o_list_view .o_data_row td[name='target_conversion_rate']:not(:empty)",
        },
        {
            content: "The measures off their target are flagged",
            trigger: ".o_list_view .o_data_row td.text-danger",
        },
        ...screenshot("crm_stage_history/funnel"),
        {
            content: "The same funnel as a graph",
            trigger: ".o_control_panel .o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "The graph is drawn",
            trigger: ".o_graph_renderer canvas",
        },
        ...menu("crm.crm_menu_report", "crm_stage_history.crm_lead_stage_history_menu"),
        {
            content: "Every stay of every lead in a stage",
            trigger: ".o_list_view .o_data_row td[name='origin']",
        },
        ...screenshot("crm_stage_history/stage_history"),
        ...menu("crm.crm_menu_config", "crm_stage_history.crm_stage_calibration_menu"),
        {
            content: "Measure the stages' probabilities on the pipeline",
            trigger: ".modal .modal-footer button[name='action_measure']",
            run: "click",
        },
        {
            content: "Stated against measured, per stage, with the recommendation",
            trigger: ".o_list_view .o_data_row td[name='recommended']:not(:empty)",
        },
        {
            content: "One Brier score for every decided lead, under the list",
            trigger: ".o_list_view tfoot td:not(:empty)",
        },
        ...screenshot("crm_stage_history/calibration"),
        {
            content: "Select every stage",
            trigger: ".o_list_view thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "The stages are selected",
            trigger: ".o_list_view .o_data_row .o_list_record_selector input:checked",
        },
        {
            content: "Apply the recommended probabilities to the stages",
            trigger: ".o_control_panel button[name='action_apply']",
            run: "click",
        },
        {
            // a stage no decided lead measures (Marketing's own qualified stage) is named and left as it was
            content: "Done: the measured stages applied, the unmeasured one named",
            trigger: ".o_notification:contains('Probabilities calibrated'):contains('no decided lead measures them')",
        },
    ],
});
