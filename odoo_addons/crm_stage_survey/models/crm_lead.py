from markupsafe import Markup
from odoo import api, fields, models, tools
from odoo.addons.crm_pipeline_base.tools import cursor_mark, cursor_marker
from odoo.addons.crm_stage_history.models.crm_lead import TRUSTED_ORIGIN_KEY
from odoo.exceptions import UserError
from odoo.tools import SQL

# cursor-scoped marker (not forgeable over RPC, unlike a context key): stage writes the addon itself allows
OVERRIDE_KEY = "crm_stage_survey.override"
# what an answer line holds, in the order of _survey_add_answer's arguments
_LINE_VALUES = (
    "answer_type",
    "suggested_answer_id",
    "value_numerical_box",
    "value_scale",
    "value_char_box",
    "value_text_box",
    "value_date",
    "value_datetime",
)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    stage_setting = fields.Selection(related="team_id.stage_setting")
    qualification_input_id = fields.Many2one(
        "survey.user_input",
        compute="_compute_survey_gate",
        string="Latest Qualification",
        help="The latest completed answers to the team's qualification survey.",
    )
    survey_gate_stage_id = fields.Many2one(
        "crm.stage", compute="_compute_survey_gate", string="Stage Reached by the Answers"
    )
    survey_next_stage_id = fields.Many2one("crm.stage", compute="_compute_survey_gate", string="Next Stage")
    survey_missing_criteria = fields.Text(
        compute="_compute_survey_gate",
        string="To Reach the Next Stage",
        help="The entry criteria of the next stage that the answers do not meet yet.",
    )

    # ------------------------------------------------------------------
    # Gates
    # ------------------------------------------------------------------

    def _survey_pipeline(self, team):
        """The team's open stages in order (the won stage is reached by winning, not by answers)."""
        return self.env["crm.stage"].search(
            ["|", ("team_ids", "=", False), ("team_ids", "in", team.ids), ("is_won", "=", False)],
            order="sequence, id",
        )

    def _survey_latest_inputs(self):
        """``{lead_id: survey.user_input}``: the latest completed qualification of each lead (one query)."""
        leads = self.filtered(
            lambda lead: lead.stage_setting == "survey" and lead.team_id.qualification_survey_id
        )
        if not leads:
            return {}
        # sudo: answers are survey records; the lead's readers may see what qualified it
        inputs = (
            self.env["survey.user_input"]
            .sudo()
            .search_fetch(
                [
                    ("lead_id", "in", leads.ids),
                    ("state", "=", "done"),
                    ("survey_id", "in", leads.team_id.qualification_survey_id.ids),
                ],
                ["lead_id", "survey_id"],
                order="end_datetime desc, id desc",
            )
        )
        latest = {}
        for user_input in inputs:
            lead = user_input.lead_id
            if lead.id not in latest and user_input.survey_id == lead.team_id.qualification_survey_id:
                latest[lead.id] = user_input
        return latest

    def _survey_latest_answers(self):
        """``({lead_id: survey.user_input}, {lead_id: answers})``: the latest completed qualification of each
        lead of a survey team and its answers (:meth:`_survey_answers`' terms), both in one query."""
        leads = self.filtered(
            lambda lead: lead.stage_setting == "survey" and lead.team_id.qualification_survey_id
        )
        if not leads:
            return {}, {}
        self.env["survey.user_input"].flush_model(["lead_id", "survey_id", "state", "end_datetime"])
        self.env["survey.user_input.line"].flush_model(
            ["user_input_id", "skipped", "question_sequence", *_LINE_VALUES]
        )
        # plain SQL, as the superuser's search of the latest input and of its lines: the lead's readers may
        # see what qualified it (the order of search(order="end_datetime desc, id desc"), the lines of the
        # input's user_input_line_ids)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT w.lead_id, q.id, w.survey_id, l.question_id, %(values)s
                  FROM unnest(%(leads)s::int[], %(surveys)s::int[]) AS w(lead_id, survey_id)
                  JOIN LATERAL (
                        SELECT ui.id FROM survey_user_input ui
                         WHERE ui.lead_id = w.lead_id AND ui.survey_id = w.survey_id AND ui.state = 'done'
                      ORDER BY ui.end_datetime DESC, ui.id DESC LIMIT 1
                       ) q ON true
             LEFT JOIN survey_user_input_line l ON l.user_input_id = q.id AND NOT COALESCE(l.skipped, false)
              ORDER BY w.lead_id, l.question_sequence, l.id
                """,
                values=SQL(", ").join(SQL.identifier("l", name) for name in _LINE_VALUES),
                leads=leads.ids,
                surveys=[lead.team_id.qualification_survey_id.id for lead in leads],
            )
        )
        Input = self.env["survey.user_input"].sudo()
        inputs, answers, surveys = {}, {}, {}
        for lead_id, input_id, survey_id, question_id, answer_type, *values in rows:
            inputs[lead_id] = Input.browse(input_id)
            surveys[input_id] = survey_id
            lead_answers = answers.setdefault(lead_id, {})
            if question_id:
                # the values as the ORM gives them: False, 0 or 0.0 for an empty column
                suggestion, numerical, scale, char, text, date, moment = values
                self._survey_add_answer(
                    lead_answers,
                    question_id,
                    answer_type,
                    suggestion or False,
                    numerical or 0.0,
                    scale or 0,
                    False if char is None else char,
                    False if text is None else text,
                    date or moment,
                )
        # the survey of each input in the cache, as the query read it: the input's name (its survey's title,
        # on the lead form) costs no read of survey_user_input
        Input._fields["survey_id"]._insert_cache(Input.browse(list(surveys)), list(surveys.values()))
        return inputs, answers

    @staticmethod
    def _survey_add_answer(answers, question_id, answer_type, suggestion, numerical, scale, char, text, day):
        """Add an answer line to ``answers`` in the engine's terms: answer ids (choice), a number, or text."""
        if answer_type == "suggestion":
            answers.setdefault(question_id, set()).add(suggestion)
        elif answer_type == "numerical_box":
            answers[question_id] = numerical
        elif answer_type == "scale":
            answers[question_id] = scale
        elif answer_type == "char_box":
            answers[question_id] = char
        elif answer_type == "text_box":
            answers[question_id] = text
        elif answer_type in ("date", "datetime"):
            answers[question_id] = str(day or "")

    @classmethod
    def _survey_answers(cls, user_input):
        """``{question_id: answer}`` of one input, in the engine's terms (:meth:`_survey_add_answer`)."""
        answers = {}
        lines = user_input.env["survey.user_input.line"].search_fetch(
            [("user_input_id", "=", user_input.id), ("skipped", "=", False)], ["question_id", *_LINE_VALUES]
        )
        for line in lines:
            cls._survey_add_answer(
                answers,
                line.question_id.id,
                line.answer_type,
                line.suggested_answer_id.id,
                line.value_numerical_box,
                line.value_scale,
                line.value_char_box,
                line.value_text_box,
                line.value_date or line.value_datetime,
            )
        return answers

    def _survey_team_gates(self, team):
        """``(stages, criteria, plain criteria)`` of a survey team's pipeline."""
        stage_ids, criterion_ids, plain = self._survey_gates_of(team.id, team.qualification_survey_id.id)
        # sudo: criteria name survey questions and answers, which salespeople may not read
        criteria = self.env["crm.stage.criterion"].sudo().browse(criterion_ids)
        return self.env["crm.stage"].browse(stage_ids), criteria, list(plain)

    @api.model
    @tools.ormcache("team_id", "survey_id", "self.env.lang")
    def _survey_gates_of(self, team_id, survey_id):
        """``(stage ids, criterion ids, plain criteria)`` of the pipeline of a team with this qualification
        survey, cached: a lead's form and each stage write would otherwise read the stages, the criteria,
        their questions and answers again. Cleared when they change: stages (crm_stage_history clears the
        registry cache on a pipeline change), criteria, questions and answers."""
        stages = self._survey_pipeline(self.env["crm.team"].browse(team_id))
        # sudo: criteria name survey questions and answers, which salespeople may not read
        criteria = (
            self.env["crm.stage.criterion"]
            .sudo()
            .search([("survey_id", "=", survey_id), ("stage_id", "in", stages.ids)])
        )
        return (
            tuple(stages.ids),
            tuple(criteria.ids),
            tuple(criterion._gate_criterion() for criterion in criteria),
        )

    def _survey_gate_results(self, inputs=None, answers=None):
        """``{lead_id: (GateResult, stages, criteria)}`` for the leads of survey teams, from the given inputs
        (``{lead_id: survey.user_input}``) or answers (``{lead_id: answers}``), by default their latest
        qualifications."""
        from funnel_metrics.gates import reached_stage

        if answers is None:
            if inputs is None:
                _inputs, answers = self._survey_latest_answers()
            else:
                answers = {
                    lead_id: self._survey_answers(user_input) for lead_id, user_input in inputs.items()
                }
        results = {}
        for lead in self.filtered(
            lambda lead: lead.stage_setting == "survey" and lead.team_id.qualification_survey_id
        ):
            stages, criteria, plain = self._survey_team_gates(lead.team_id)
            results[lead.id] = (reached_stage(stages.ids, plain, answers.get(lead.id, {})), stages, criteria)
        return results

    @api.depends("team_id", "stage_id")
    def _compute_survey_gate(self):
        inputs, answers = self._survey_latest_answers()
        results = self._survey_gate_results(answers=answers)
        Stage = self.env["crm.stage"]
        stage_ids = set()
        for lead in self:
            result = results.get(lead.id)
            lead.qualification_input_id = inputs.get(lead.id)
            if not result:
                lead.survey_gate_stage_id = lead.survey_next_stage_id = False
                lead.survey_missing_criteria = False
                continue
            gate = result[0]
            lead.survey_gate_stage_id = Stage.browse(gate.stage) if gate.stage else False
            lead.survey_next_stage_id = Stage.browse(gate.next_stage) if gate.next_stage else False
            lead.survey_missing_criteria = "\n".join(criterion.label for criterion in gate.missing) or False
            stage_ids.update(stage_id for stage_id in (gate.stage, gate.next_stage) if stage_id)
        # the names that the form shows with these fields, read as the form reads them (as superuser: a
        # salesperson may not read surveys) but only what the names depend on, not every column of the
        # stages and surveys (a survey has about forty): one narrow query per model, where the form's
        # reading of each record's name would fetch them whole
        Stage.sudo().browse(stage_ids).fetch(["display_name"])
        qualifications = self.env["survey.user_input"].sudo().browse([each.id for each in inputs.values()])
        qualifications.survey_id.fetch(["display_name"])

    # ------------------------------------------------------------------
    # Stage writes
    # ------------------------------------------------------------------

    def _pd_user_write_fields(self):
        # the stage lock judges a stage or team set by an "Update Record" action as the user's own move
        return super()._pd_user_write_fields() | {"stage_id", "team_id"}

    def _survey_privileged(self):
        return bool(cursor_mark(self.env.cr, OVERRIDE_KEY)) or self.env.su

    @staticmethod
    def _survey_may_win(lead, gate):
        return not lead.team_id.survey_won_gate or gate.complete

    def _survey_enforce(self, explicit_stage):
        """After a create or a write: every lead of a survey team is in the stage its answers reach (or won,
        when it may be). A lead whose stage the caller did not set (a new lead, a team change) is moved
        there; a stage the caller set that the answers do not justify is refused (the transaction is rolled
        back with the error)."""
        # the cached ids of the survey teams: a write on leads of other teams reads nothing more
        survey_teams = self.env["crm.team"]._survey_team_ids()
        leads = self.filtered(
            lambda lead: lead.team_id.id in survey_teams and lead.team_id.qualification_survey_id
        )
        if not leads or self._survey_privileged():
            return
        results = leads._survey_gate_results()
        to_move = {}
        for lead in leads:
            gate = results[lead.id][0]
            allowed = gate.placed
            if allowed is None:  # a team without open stages: nothing to put the lead in
                continue
            if lead.stage_id.id == allowed or (lead.stage_id.is_won and self._survey_may_win(lead, gate)):
                continue
            if explicit_stage:
                raise lead._survey_refusal()
            to_move.setdefault(allowed, self.browse())
            to_move[allowed] |= lead
        for stage_id, moved in to_move.items():
            moved._survey_write_stage(self.env["crm.stage"].browse(stage_id), "survey")

    @api.model
    def _survey_place_new(self, vals_list, keep_given=False):
        """Put each new lead of a survey team in the stage that its answers (none yet) reach, in its values,
        so that its first stay is there: whatever stage the values, a default (a kanban column) or crm
        would give it. A new lead is never refused for its stage (leads that arrive by themselves — website,
        mail gateway, import, API — must not be lost); a won stage is kept where winning needs no gate.
        ``keep_given`` (the superuser's data fixes): a stage given in the values or the context is kept."""
        from funnel_metrics.gates import reached_stage

        if keep_given and self.env.context.get("default_stage_id"):
            return
        if keep_given:
            vals_list = [vals for vals in vals_list if "stage_id" not in vals]
        default_team = self.env.context.get("default_team_id")
        team_ids = {vals.get("team_id", default_team) for vals in vals_list}
        teams = self.env["crm.team"].browse(team_ids & self.env["crm.team"]._survey_team_ids())
        if not teams:
            return
        entry = {}
        for team in teams:
            stages, _criteria, plain = self._survey_team_gates(team)
            gate = reached_stage(stages.ids, plain, {})
            entry[team.id] = (gate.placed, gate.complete)
        Stage = self.env["crm.stage"]
        for vals in vals_list:
            team_id = vals.get("team_id", default_team)
            if team_id not in entry or entry[team_id][0] is None:
                continue
            stage_id, last_gate_reached = entry[team_id]
            asked = Stage.browse(vals["stage_id"]) if isinstance(vals.get("stage_id"), int) else Stage
            team = teams.browse(team_id)
            if asked.exists().is_won and (not team.survey_won_gate or last_gate_reached):
                continue
            vals.update(
                {
                    key: value
                    for key, value in self._survey_stage_vals(team, Stage.browse(stage_id)).items()
                    if key == "stage_id" or key not in vals
                }
            )

    def _survey_refusal(self):
        return UserError(
            self.env._(
                "In the team “%(team)s”, the qualification survey sets the stage: use “Qualify” on "
                "“%(lead)s” to record the answers that move it. A sales manager can override the stage "
                "with a reason (“Override Stage”).",
                team=self.team_id.name,
                lead=self.name,
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        self._survey_place_new(vals_list, keep_given=self._survey_privileged())
        leads = super().create(vals_list)
        # a team the values did not name (crm gives the salesperson's): the lead is moved where it belongs
        leads._survey_enforce(explicit_stage=False)
        return leads

    def write(self, vals):
        result = super().write(vals)
        if "stage_id" in vals or "team_id" in vals:
            self._survey_enforce(explicit_stage="stage_id" in vals)
        return result

    @staticmethod
    def _survey_stage_vals(team, stage):
        """The values that put a lead of ``team`` in ``stage``: the probability follows the stage where the
        team asks for it."""
        vals = {"stage_id": stage.id}
        if team.survey_probability == "stage" and not stage.is_won:
            probability = getattr(stage, "calibrated_probability", 0) or getattr(stage, "probability", 0)
            if probability:
                vals["probability"] = probability
        return vals

    def _survey_write_stage(self, stage, origin, note=None):
        """Move these leads to ``stage`` as the addon itself (survey answers, a manager's override, a won
        lead); the probability follows the stage where the team asks for it."""
        groups = {}  # one write per distinct set of values, not one per lead
        for lead in self:
            key = tuple(sorted(self._survey_stage_vals(lead.team_id, stage).items()))
            groups[key] = groups.get(key, self.browse()) | lead
        with cursor_marker(self.env.cr, OVERRIDE_KEY), cursor_marker(self.env.cr, TRUSTED_ORIGIN_KEY):
            for items, leads in groups.items():
                leads.with_context(stage_history_origin=origin).write(dict(items))
        if note:
            for lead in self:
                lead.message_post(body=note, subtype_xmlid="mail.mt_note")

    def _survey_requalify(self, user_input):
        """After a qualification is submitted: put the lead in the stage its answers reach, with a chatter
        note listing the answers that decided it (also when the stage stays)."""
        self.ensure_one()
        result = self._survey_gate_results({self.id: user_input}).get(self.id)
        if not result or result[0].placed is None:
            return
        gate, stages, criteria = result
        stage = stages.browse(gate.placed)
        if stage == self.stage_id:
            verdict = self.env._("The qualification survey keeps the lead in %(stage)s.", stage=stage.name)
        else:
            verdict = self.env._("The qualification survey moved the lead to %(stage)s.", stage=stage.name)
        note = Markup("<p>%s %s</p><ul>%s</ul>") % (
            verdict,
            self.env._("The answers that decided it:"),
            Markup("").join(
                Markup("<li>%s</li>") % line
                for line in self._survey_decisive_answers(user_input, gate, criteria)
            ),
        )
        if gate.missing:
            note += Markup("<p>%s</p>") % self.env._(
                "Still needed for %(stage)s: %(criteria)s",
                stage=stages.browse(gate.next_stage).name,
                criteria="; ".join(criterion.label for criterion in gate.missing),
            )
        if stage == self.stage_id:
            self.message_post(body=note, subtype_xmlid="mail.mt_note")
        else:
            self._survey_write_stage(stage, "survey", note)

    def _survey_decisive_answers(self, user_input, gate, criteria):
        """The answers that decided ``gate``, one "question: answer" per question of the criteria of the
        stages reached and of the next stage (whose unmet criteria kept the lead from it), in criteria order.
        """
        decisive = criteria.filtered(
            lambda criterion: (
                criterion.stage_id.id in gate.reached or criterion.stage_id.id == gate.next_stage
            )
        )
        lines = []
        for question in decisive.question_id:
            given = user_input.user_input_line_ids.filtered(
                lambda line, question=question: line.question_id == question and not line.skipped
            )
            if given:
                answer = ", ".join(
                    f"{line.value_numerical_box:g}"
                    if line.answer_type == "numerical_box"
                    else line.display_name
                    for line in given
                )
            else:
                answer = self.env._("not answered")
            if question.title.endswith("?"):  # "Budget confirmed? Yes", as the criteria's labels
                lines.append(self.env._("%(question)s %(answer)s", question=question.title, answer=answer))
            else:
                lines.append(self.env._("%(question)s: %(answer)s", question=question.title, answer=answer))
        return lines

    def action_set_won(self):
        gated = self.filtered(lambda lead: lead.stage_setting == "survey" and lead.team_id.survey_won_gate)
        if gated and not self._survey_privileged():
            results = gated._survey_gate_results()
            for lead in gated:
                if lead.id in results and not self._survey_may_win(lead, results[lead.id][0]):
                    raise UserError(
                        self.env._(
                            "“%(lead)s” can be won once its answers reach %(stage)s: use “Qualify” first, or "
                            "ask a sales manager to override.",
                            lead=lead.name,
                            stage=results[lead.id][1][-1].name,
                        )
                    )
        with cursor_marker(self.env.cr, OVERRIDE_KEY):
            return super().action_set_won()

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_qualify(self):
        """Open the team's qualification survey for this lead, prefilled with its latest answers."""
        self.ensure_one()
        self.check_access("write")
        survey = self.team_id.qualification_survey_id
        if self.stage_setting != "survey" or not survey:
            raise UserError(self.env._("The team of this lead does not set its stages by survey."))
        # sudo: the salesperson answers for the lead without being a survey officer
        answer = survey.sudo()._create_answer(user=self.env.user, check_attempts=False, lead_id=self.id)
        latest = self._survey_latest_inputs().get(self.id)
        if latest:
            for line in latest.user_input_line_ids:
                line.copy({"user_input_id": answer.id})
        return survey.sudo().action_start_survey(answer=answer)

    def action_survey_override(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise UserError(self.env._("Only sales managers can override a stage set by the survey."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Override Stage"),
            "res_model": "crm.stage.override",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }
