import { registry } from "@web/core/registry";
import { menu, screenshot, tourData } from "./pd_tour_utils";

/**
 * The bundle's settings (crm_pipeline_discipline) as an administrator: the "Pipeline Discipline" block
 * of the CRM settings, its "Capabilities per team" list, and a team's follow-up policy switched there;
 * as a sales manager (no access to the settings): the same list from CRM › Configuration.
 * Started by tests/test_tours.py, which checks the outcome.
 */
const BLOCK = ".app_settings_block[data-key='crm'] h2:contains('Pipeline Discipline')";

function switchToWarn(row) {
    return [
        {
            content: "Edit the team's follow-up policy",
            trigger: `${row} td[name='followup_policy']`,
            run: "click",
        },
        {
            content: "Open the policies",
            trigger: `${row} td[name='followup_policy'] .o_select_menu_toggler`,
            run: "click",
        },
        {
            content: "Switch it to Warn",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains('Warn')",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "Saved: the team warns about missing follow-ups",
            trigger: `.o_list_view:not(:has(.o_selected_row)) ${row} td[name='followup_policy']:contains('Warn')`,
        },
    ];
}

registry.category("web_tour.tours").add("pd_settings_admin_tour", {
    steps: () => {
        const { team, survey_team } = tourData();
        const row = `.o_data_row:has(td[name='name']:contains('${team}'))`;
        const surveyRow = `.o_data_row:has(td[name='name']:contains('${survey_team}'))`;
        return [
            {
                content: "Open the CRM settings",
                trigger: ".settings_tab .tab[data-key='crm']",
                run: "click",
            },
            {
                content: "The Pipeline Discipline block opens the CRM settings",
                trigger: BLOCK,
                run() {
                    document.querySelector(".app_settings_block[data-key='crm'] h2").scrollIntoView();
                },
            },
            {
                content: "It says which teams use each capability",
                trigger: "#pipeline_followup .o_field_widget[name='pipeline_followup_summary']:contains('enforce')",
            },
            ...screenshot("crm_pipeline_discipline/settings", "#pipeline_capabilities"),
            {
                content: "Capabilities per team",
                trigger: "#pipeline_capabilities button:contains('Capabilities per team')",
                run: "click",
            },
            {
                content: "One line per team with its capabilities",
                trigger: `${row} td[name='followup_policy']`,
            },
            {
                content: "Winning needs the last gate: shown for the team whose survey sets the stages",
                trigger: `${surveyRow} td[name='survey_won_gate'] input[type='checkbox']`,
            },
            {
                content: "... not for a team whose stages are set by hand; every header readable in full",
                trigger: `${row} td[name='stage_setting']:contains('hand')`,
                run() {
                    const manual = [...document.querySelectorAll(".o_list_view .o_data_row")].find(
                        (tr) => tr.querySelector("td[name='name']")?.textContent.trim() === team
                    );
                    if (manual.querySelector("td[name='survey_won_gate'] input")) {
                        throw new Error("a team whose stages are set by hand shows the survey's gate");
                    }
                    for (const label of document.querySelectorAll(".o_list_view thead th[data-name] span.text-truncate")) {
                        if (label.scrollWidth > label.clientWidth) {
                            throw new Error(`the header "${label.textContent}" is cut`);
                        }
                    }
                },
            },
            ...screenshot("crm_pipeline_discipline/capabilities"),
            ...switchToWarn(row),
        ];
    },
});

registry.category("web_tour.tours").add("pd_settings_manager_tour", {
    steps: () => {
        const { team, surveyTeam } = tourData();
        const row = `.o_data_row:has(td[name='name']:contains('${team}'))`;
        const surveyRow = `.o_data_row:has(td[name='name']:contains('${surveyTeam}'))`;
        return [
            ...menu("crm.crm_menu_config", "crm_pipeline_discipline.crm_team_menu_pipeline_capabilities"),
            {
                content: "Capabilities per Team is open",
                trigger: ".o_control_panel .o_breadcrumb:contains('Capabilities per Team')",
            },
            {
                content: "Winning needs the last gate: shown for the team whose stages a survey sets",
                trigger: `.o_list_view ${surveyRow} td[name='survey_won_gate'] .o-checkbox`,
            },
            {
                content: "... and not for a team whose stages are set by hand",
                trigger: `.o_list_view ${row} td[name='survey_won_gate']:not(:has(.o-checkbox))`,
            },
            ...switchToWarn(row),
        ];
    },
});
