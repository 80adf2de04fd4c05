import { registry } from "@web/core/registry";
import { menu, screenshot, tourData } from "./pd_tour_utils";

/**
 * SLA rules (crm_sla_rules) and the customer's decision phase (crm_stage_survey) on the demo pipeline.
 *
 * Manager: opens an SLA rule, previews what it would warn about and do now (the lines are computed as
 * they are read: nothing changes), then the SLA dashboard. Rep: on their lead, the customer's decision
 * phase with the events that set it, and the SLA events of a lead. Started by tests/test_tours.py, which
 * chooses the records (cookie pd_tour) and checks the outcome.
 */
registry.category("web_tour.tours").add("pd_sla_manager_tour", {
    steps: () => {
        const { rule, acts, warns } = tourData();
        return [
            {
                content: "The SLA rules of the demo teams are listed",
                trigger: `.o_list_view .o_data_row td[name='name']:contains('${rule}')`,
                run: "click",
            },
            {
                content: "The rule's form, with its events",
                trigger: ".o_form_view button[name='action_view_events'] .o_stat_value",
            },
            ...screenshot("crm_sla_rules/sla_rule", ".o_form_view button[name='action_preview']"),
            {
                content: "Preview: what the rule would do now",
                trigger: ".o_form_view button[name='action_preview']",
                run: "click",
            },
            {
                content: "The leads it would act on, counted",
                trigger: `.o_list_view .o_group_name:contains('Would act (${acts})')`,
            },
            {
                content: "and those it would warn about",
                trigger: `.o_list_view .o_group_name:contains('Would warn (${warns})')`,
            },
            {
                content: "A line per breach: what would happen to the lead",
                trigger: ".o_list_view .o_data_row .badge",
            },
            ...screenshot("crm_sla_rules/sla_preview"),
            ...menu("crm.crm_menu_report", "crm_sla_rules.crm_sla_event_menu"),
            {
                content: "The SLA dashboard counts the events by rule and state",
                trigger: `.o_pivot th:contains('${rule}')`,
            },
            ...screenshot("crm_sla_rules/sla_dashboard", ".o_pivot td.o_pivot_cell_value"),
        ];
    },
});

registry.category("web_tour.tours").add("pd_sla_rep_tour", {
    steps: () => {
        const { phase, customer_events, sla_lead_url, sla_events } = tourData();
        return [
            {
                content: "The lead shows the customer's decision phase",
                trigger: `.o_form_view .o_field_widget[name='decision_phase_id']:contains('${phase}')`,
            },
            {
                content: "and counts the customer's events",
                trigger: `.o_form_view button[name='action_view_customer_events'] .o_stat_value:contains('${customer_events}')`,
            },
            ...screenshot("crm_stage_survey/decision_phase"),
            {
                content: "Open the customer's events",
                trigger: ".o_form_view button[name='action_view_customer_events']",
                run: "click",
            },
            {
                content: "One line per event",
                trigger: ".o_list_view .o_data_row",
            },
            {
                content: "Open the lead that an SLA rule acted on or warned about",
                trigger: "body",
                async run(helpers) {
                    await helpers.goToUrl(sla_lead_url);
                },
                expectUnloadPage: true,
            },
            {
                content: "Its SLA events are counted on the lead",
                trigger: `.o_form_view button[name='action_view_sla_events'] .o_stat_value:contains('${sla_events}')`,
                run: "click",
            },
            {
                content: "The events: what each rule did or warned about",
                trigger: ".o_list_view .o_data_row",
            },
            ...screenshot("crm_sla_rules/sla_events"),
        ];
    },
});
