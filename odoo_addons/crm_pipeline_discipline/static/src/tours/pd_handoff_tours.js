import { registry } from "@web/core/registry";
import { menu, screenshot, tourData } from "./pd_tour_utils";

/**
 * Handoffs and the demand waterfall (crm_lead_handoff) on the demo pipeline.
 *
 * Marketer: hands a marketing qualified lead over to Inside Sales with a note; it waits there for
 * acceptance. Inside Sales rep: the handoffs to accept, one accepted (the lead becomes theirs, Sales
 * Accepted), one rejected with a reason (back to Marketing, recycled). Field Sales rep: an opportunity
 * Inside Sales handed over, with its lifecycle phase and its stays; a lead awaiting Inside Sales offers them
 * no Accept. Started by tests/test_tours.py, which chooses the records (cookie pd_tour) and checks the
 * outcome.
 */
registry.category("web_tour.tours").add("pd_handoff_marketer_tour", {
    steps: () => {
        const { route, note } = tourData();
        return [
            {
                content: "The lead counts its phase stays (Inquiry, then Marketing Qualified)",
                trigger: ".o_form_view button[name='action_view_phase_history'] .o_stat_value:contains('2')",
            },
            {
                content: "Hand it over",
                trigger: ".o_form_view .o_statusbar_buttons button[name='action_handoff_send']",
                run: "click",
            },
            {
                content: "Open the routes offered",
                trigger: ".modal .o_field_widget[name='route_id'] input",
                run: "click",
            },
            {
                content: "The route is offered",
                trigger: `.o-autocomplete--dropdown-menu .dropdown-item:contains('${route}')`,
                run: "click",
            },
            {
                content: "The route is chosen",
                trigger: `.modal .o_field_widget[name='route_id'] input:value('${route}')`,
            },
            {
                content: "The list is closed",
                trigger: "body:not(:has(.o-autocomplete--dropdown-menu))",
            },
            {
                content: "A note for the receiving side",
                trigger: ".modal .o_field_widget[name='note'] textarea",
                run: `edit ${note}`,
            },
            ...screenshot("crm_lead_handoff/handoff_send", ".modal button[name='action_send']"),
            {
                content: "Send it",
                trigger: ".modal .modal-footer button[name='action_send']",
                run: "click",
            },
            {
                content: "The lead now awaits Inside Sales' decision",
                trigger: ".o_form_view div[name='handoff_awaiting']:not(.d-none)",
            },
            {
                content: "and offers no second handoff",
                trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name='action_handoff_send']))",
            },
            ...screenshot("crm_lead_handoff/handoff_awaiting"),
        ];
    },
});

registry.category("web_tour.tours").add("pd_handoff_inside_tour", {
    steps: () => {
        const { accept_url, reject_url, reject_lead, reason, note } = tourData();
        return [
            ...menu(
                "crm_lead_handoff.crm_lead_handoff_menu_root",
                "crm_lead_handoff.crm_lead_handoff_menu_to_accept"
            ),
            {
                content: "The handoffs awaiting Inside Sales are listed",
                trigger: `.o_list_view .o_data_row td[name='lead_id']:contains('${reject_lead}')`,
            },
            ...screenshot("crm_lead_handoff/handoffs_to_accept"),
            {
                content: "Open a lead handed over",
                trigger: "body",
                async run(helpers) {
                    await helpers.goToUrl(accept_url);
                },
                expectUnloadPage: true,
            },
            {
                content: "It awaits our decision: accept it",
                trigger: ".o_form_view .o_statusbar_buttons button[name='action_handoff_accept']",
                run: "click",
            },
            {
                content: "Accepted: the chatter says so",
                trigger: ".o-mail-Message:contains('Handoff accepted by')",
            },
            {
                content: "It no longer awaits a decision",
                trigger: ".o_form_view:not(:has(div[name='handoff_awaiting']:not(.d-none)))",
            },
            ...screenshot("crm_lead_handoff/handoff_accepted"),
            {
                content: "Open another lead handed over",
                trigger: "body",
                async run(helpers) {
                    await helpers.goToUrl(reject_url);
                },
                expectUnloadPage: true,
            },
            {
                content: "Not one for us: reject it",
                trigger: ".o_form_view .o_statusbar_buttons button[name='action_handoff_reject']",
                run: "click",
            },
            {
                content: "Say why: open the reasons",
                trigger: ".modal .o_field_widget[name='reason_id'] input",
                run: "click",
            },
            {
                content: "The reason is one of the configured ones",
                trigger: `.o-autocomplete--dropdown-menu .dropdown-item:contains('${reason}')`,
                run: "click",
            },
            {
                content: "The reason is chosen",
                trigger: `.modal .o_field_widget[name='reason_id'] input:value('${reason}')`,
            },
            {
                content: "The list is closed",
                trigger: "body:not(:has(.o-autocomplete--dropdown-menu))",
            },
            {
                content: "A note for the sender",
                trigger: ".modal .o_field_widget[name='note'] textarea",
                run: `edit ${note}`,
            },
            ...screenshot("crm_lead_handoff/handoff_reject", ".modal button[name='action_reject']"),
            {
                content: "Reject",
                trigger: ".modal .modal-footer button[name='action_reject']",
                run: "click",
            },
            {
                content: "Back in the queue, without the lead rejected (it is the marketer's again)",
                trigger: `.o_list_view:not(:has(.o_data_row td[name='lead_id']:contains('${reject_lead}')))`,
            },
            {
                content: "and no error on the way",
                trigger: "body:not(:has(.o_error_dialog))",
            },
        ];
    },
});

registry.category("web_tour.tours").add("pd_handoff_field_tour", {
    steps: () => {
        const { phase, stays, awaiting_url } = tourData();
        return [
            {
                content: "The opportunity Inside Sales handed over shows its lifecycle phase",
                trigger: `.o_form_view .o_field_widget[name='lifecycle_phase_id']:contains('${phase}')`,
            },
            {
                content: "and counts its phase stays",
                trigger: `.o_form_view button[name='action_view_phase_history'] .o_stat_value:contains('${stays}')`,
            },
            ...screenshot("crm_lead_handoff/lead_phase"),
            {
                content: "Open its phase stays",
                trigger: ".o_form_view button[name='action_view_phase_history']",
                run: "click",
            },
            {
                content: "One line per stay, the handoffs among them",
                trigger: ".o_list_view .o_data_row td[name='origin']:contains('Handoff accepted')",
            },
            ...screenshot("crm_lead_handoff/phase_stays"),
            {
                content: "Open a lead awaiting Inside Sales",
                trigger: "body",
                async run(helpers) {
                    await helpers.goToUrl(awaiting_url);
                },
                expectUnloadPage: true,
            },
            {
                content: "It awaits Inside Sales' decision",
                trigger: ".o_form_view div[name='handoff_awaiting']:not(.d-none)",
            },
            {
                content: "A Field Sales rep is not on the receiving side: no Accept, no Reject",
                trigger:
                    ".o_form_view .o_statusbar_buttons:not(:has(button[name='action_handoff_accept'])):not(:has(button[name='action_handoff_reject']))",
            },
        ];
    },
});

registry.category("web_tour.tours").add("pd_handoff_manager_tour", {
    steps: () => {
        const { mql, handed_over, accepted, rejected, sal, sal_entered, reason } = tourData();
        const mqlRow = `.o_list_view .o_data_row:has(td[name='phase_id']:contains('${mql}'))`;
        return [
            ...menu("crm.crm_menu_report", "crm_lead_handoff.crm_waterfall_report_menu"),
            {
                content: "The waterfall of every lead, per phase",
                trigger: ".modal .modal-footer button[name='action_show']",
                run: "click",
            },
            {
                content: "Marketing qualified leads: how many were handed over",
                trigger: `${mqlRow} td[name='handed_over']:contains('${handed_over}')`,
            },
            {
                content: "how many Inside Sales accepted",
                trigger: `${mqlRow} td[name='accepted']:contains('${accepted}')`,
            },
            {
                content: "and rejected",
                trigger: `${mqlRow} td[name='rejected']:contains('${rejected}')`,
            },
            {
                content: "The leads Inside Sales accepted entered Sales Accepted",
                trigger: `.o_list_view .o_data_row:has(td[name='phase_id']:contains('${sal}')) td[name='entered']:contains('${sal_entered}')`,
            },
            ...screenshot("crm_lead_handoff/waterfall"),
            ...menu("crm.crm_menu_report", "crm_lead_handoff.crm_waterfall_report_menu"),
            {
                content: "Why Inside Sales rejected leads",
                trigger: ".modal .modal-footer button[name='action_show_rejections']",
                run: "click",
            },
            {
                content: "One line per phase and reason",
                trigger: `.o_list_view .o_data_row td[name='reason_id']:contains('${reason}')`,
            },
            ...screenshot("crm_lead_handoff/rejection_reasons"),
            ...menu("crm.crm_menu_report", "crm_lead_handoff.crm_waterfall_report_menu"),
            {
                content: "What a sales-accepted lead cost, per campaign",
                trigger: ".modal .modal-footer button[name='action_show_costs']",
                run: "click",
            },
            {
                content: "One line per campaign",
                trigger: ".o_list_view .o_data_row td[name='cost_per_sales_accepted']:not(:empty)",
            },
            ...screenshot("crm_lead_handoff/sales_accepted_cost"),
        ];
    },
});
