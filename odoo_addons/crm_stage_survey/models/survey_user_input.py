from odoo import fields, models


class SurveyUserInput(models.Model):
    _inherit = "survey.user_input"

    # survey_crm's link to the lead: a lead's form reads its latest qualification by it
    lead_id = fields.Many2one(index="btree_not_null")

    def _save_lines(self, question, answer, comment=None, overwrite_existing=True):
        # *Qualify* prefills a new answer with the lead's latest answers (crm.lead.action_qualify) for the
        # salesperson to review: changing them is the point, whatever the survey's "back button" option
        # (which the survey controller turns into overwrite_existing=False for the pages already seen).
        qualification = self.lead_id.team_id.qualification_survey_id
        if not overwrite_existing and self.lead_id and self.survey_id == qualification:
            overwrite_existing = True
        return super()._save_lines(question, answer, comment=comment, overwrite_existing=overwrite_existing)

    def _mark_done(self):
        result = super()._mark_done()
        for user_input in self:
            for lead in user_input._survey_customer_leads():
                if user_input.survey_id == lead.team_id.qualification_survey_id:
                    if user_input.lead_id == lead and lead.stage_setting == "survey":
                        lead._survey_requalify(user_input)
                else:
                    # a lead these very answers generated (survey_crm) says so already: no extra note
                    generated = user_input.lead_id == lead and lead.origin_survey_id == user_input.survey_id
                    self.env["crm.lead.customer.event"]._log(
                        lead,
                        "survey_completed",
                        partner=user_input.partner_id,
                        description=user_input.survey_id.title,
                        payload={"survey": user_input.survey_id.id, "answer": user_input.id},
                        announce=not generated,
                    )
        return result

    def _qualification_page_values(self):
        """What the survey's pages say about the lead these answers qualify, for the user viewing them:
        ``{"qualified_lead": {...}}`` with the lead's name, customer and address, and once submitted the stage
        the answers reach (the gate engine's verdict) and what the next stage still needs. Empty — Odoo's own
        pages — when the answers qualify no lead, and for a user who may not read the lead: the pages open
        with the answer's token alone, public users included."""
        self.ensure_one()
        lead = self.lead_id
        if (
            not lead
            or lead.stage_setting != "survey"
            or self.survey_id != lead.team_id.qualification_survey_id
        ):
            return {}
        # the controller hands over sudo records: the viewer's own rights decide what the page says
        lead_as_viewer = lead.sudo(False)
        if not lead_as_viewer.has_access("read"):
            return {}
        values = {
            "name": lead_as_viewer.name,
            "customer": lead_as_viewer.partner_id.display_name
            or lead_as_viewer.partner_name
            or lead_as_viewer.contact_name,
            "url": f"/odoo/crm/{lead.id}",
            "stage": False,
            "next_stage": False,
            "missing": [],
        }
        result = self.state == "done" and lead._survey_gate_results({lead.id: self}).get(lead.id)
        if result and result[0].placed is not None:
            gate, stages, _criteria = result
            values["stage"] = stages.browse(gate.placed).name
            if gate.next_stage is not None:
                values["next_stage"] = stages.browse(gate.next_stage).name
                values["missing"] = [criterion.label for criterion in gate.missing]
        return {"qualified_lead": values}

    def _survey_customer_leads(self):
        """The leads an input speaks for: its own lead, else the open leads of the contact who answered."""
        self.ensure_one()
        if self.lead_id:
            return self.lead_id
        if not self.partner_id or self.partner_id.user_ids:
            return self.env["crm.lead"]
        # sudo: a customer answering a public survey has no access to the leads about them
        return (
            self.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self.partner_id.commercial_partner_id.id),
                    ("won_status", "=", "pending"),
                ]
            )
        )
