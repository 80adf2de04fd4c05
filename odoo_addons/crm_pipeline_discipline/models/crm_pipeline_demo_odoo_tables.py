from odoo import api, models
from odoo.addons.crm_pipeline_base.tools import insert_in_pages, reserve_ids


class CrmPipelineDemo(models.AbstractModel):
    """The demo's writers of the tables Odoo itself owns (leads, their tags, survey inputs, activities):
    set-based INSERTs of plain rows, every column (stored computed ones included) given at insert. Each
    takes parallel lists of plain values, ``None`` for NULL, and returns what it inserted; caches are
    the caller's to invalidate."""

    _inherit = "crm.pipeline.demo"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    @api.model
    def _insert_leads(self, leads, company_id, today):
        """Leads as crm leaves them, in ``company_id``: won ones in the won stage at 100 %, lost ones
        archived at 0 % with a lost reason. Stored computed columns are given here rather than filled
        afterwards (an UPDATE of 100,000 leads rewrites every row): the follow-up state, the last action
        at the last stage change (no messages or completed activities yet).

        :param dict leads: per lead: ``name``, ``type``, ``active``, ``user_id``, ``team_id``, ``stage_id``,
            ``revenue``, ``probability``, ``won_status``, ``lost_reason_id``, ``created``, ``stage_date``,
            ``closed`` (UTC seconds since the epoch), ``deadline`` (days after ``today``), ``partner_name``,
            ``contact_name``, ``email``, ``priority``, ``campaign_id``, ``source_id``, ``medium_id``,
            ``followup_state``, ``no_followup_reason_id``, ``decision_phase_id``, ``tag_id``
        :param date today: the day the deadlines count from
        :return: the new leads' ids, in the order of the rows
        """
        ids = reserve_ids(self.env.cr, "crm_lead", len(leads["name"]))
        self.env["crm.lead"].flush_model()
        insert_in_pages(
            self.env.cr,
            """
            INSERT INTO crm_lead (
                id, name, type, active, user_id, team_id, company_id, stage_id, expected_revenue,
                prorated_revenue, recurring_revenue, recurring_revenue_monthly,
                recurring_revenue_monthly_prorated, recurring_revenue_prorated, probability,
                automated_probability, won_status, lost_reason_id, date_open, day_open, date_closed,
                day_close, date_last_stage_update, date_conversion, date_deadline, partner_name,
                contact_name, email_from, email_normalized, email_state, priority, color, campaign_id,
                source_id, medium_id, followup_state, no_followup_reason_id, decision_phase_id,
                sla_last_action_date, sla_owner_since, sla_team_since, create_uid, create_date, write_uid,
                write_date)
            SELECT v.id, v.name, v.type, v.active, v.user_id, v.team_id, %(company)s, v.stage_id, v.revenue,
                   round(v.revenue * v.probability::numeric / 100, 2), 0, 0, 0, 0, v.probability,
                   v.probability, v.won_status, v.lost_reason, d.created, 0, d.closed,
                   EXTRACT(EPOCH FROM (d.closed - d.created)) / 86400.0, d.stage_date,
                   CASE WHEN v.type = 'opportunity' THEN d.created END, %(today)s::date + v.deadline,
                   v.partner_name, v.contact_name, v.email, v.email, 'correct', v.priority, 0,
                   v.campaign, v.source, v.medium, v.followup_state, v.reason, v.phase, d.stage_date,
                   d.created, d.created, v.user_id, d.created, v.user_id, GREATEST(d.stage_date, d.closed)
              FROM unnest(
                    %(id)s::int[], %(name)s::varchar[], %(type)s::varchar[], %(active)s::bool[],
                    %(user_id)s::int[], %(team_id)s::int[], %(stage_id)s::int[], %(revenue)s::numeric[],
                    %(probability)s::float8[], %(won_status)s::varchar[], %(lost_reason_id)s::int[],
                    %(created)s::bigint[], %(stage_date)s::bigint[], %(closed)s::bigint[],
                    %(deadline)s::int[], %(partner_name)s::varchar[], %(contact_name)s::varchar[],
                    %(email)s::varchar[], %(priority)s::varchar[], %(campaign_id)s::int[],
                    %(source_id)s::int[], %(medium_id)s::int[], %(followup_state)s::varchar[],
                    %(no_followup_reason_id)s::int[], %(decision_phase_id)s::int[]
                   ) AS v(id, name, type, active, user_id, team_id, stage_id, revenue, probability,
                          won_status, lost_reason, created, stage_date, closed, deadline, partner_name,
                          contact_name, email, priority, campaign, source, medium, followup_state, reason,
                          phase)
        CROSS JOIN LATERAL (
                   SELECT to_timestamp(v.created) AT TIME ZONE 'UTC' AS created,
                          to_timestamp(v.stage_date) AT TIME ZONE 'UTC' AS stage_date,
                          to_timestamp(v.closed) AT TIME ZONE 'UTC' AS closed
                   ) d
            """,
            {"id": ids, **{name: values for name, values in leads.items() if name != "tag_id"}},
            company=company_id,
            today=today,
        )
        insert_in_pages(
            self.env.cr,
            "INSERT INTO crm_tag_rel (lead_id, tag_id) SELECT * FROM unnest(%(lead)s::int[], %(tag)s::int[])",
            {"lead": ids, "tag": leads["tag_id"]},
        )
        return ids

    @api.model
    def _insert_qualifications(self, inputs, survey, questions):
        """Completed answers of ``survey`` (``survey.survey``) for leads, one input per row, each with an
        answer line per question of ``questions`` (``survey.question``, in that order), submitted by the
        lead's salesperson ten minutes after starting.

        :param dict inputs: per input: ``lead_id``, ``at`` (UTC seconds since the epoch); per question of
            ``questions`` in order, ``answers`` holds one list: the answer ids of a choice question, the
            numbers of a numerical one
        :return: the number of answer lines inserted
        """
        n = len(inputs["lead_id"])
        if not n:
            return 0
        input_ids = reserve_ids(self.env.cr, "survey_user_input", n)
        insert_in_pages(
            self.env.cr,
            """
            INSERT INTO survey_user_input (
                id, survey_id, lead_id, state, access_token, test_entry, survey_first_submitted,
                is_session_answer, scoring_percentage, scoring_total, scoring_success, start_datetime,
                end_datetime, create_uid, create_date, write_uid, write_date)
            SELECT v.id, %(survey)s, v.lead_id, 'done', gen_random_uuid()::varchar, false, true, false,
                   0, 0, false, e.at - interval '10 minutes', e.at, l.user_id, e.at - interval '10 minutes',
                   l.user_id, e.at
              FROM unnest(%(id)s::int[], %(lead)s::int[], %(at)s::bigint[]) AS v(id, lead_id, at)
              JOIN crm_lead l ON l.id = v.lead_id
        CROSS JOIN LATERAL (SELECT to_timestamp(v.at) AT TIME ZONE 'UTC' AS at) e
            """,
            {"id": input_ids, "lead": inputs["lead_id"], "at": inputs["at"]},
            survey=survey.id,
        )
        numbers, choices = [], []
        for question, answers in zip(questions, inputs["answers"], strict=True):
            numerical = question.question_type == "numerical_box"
            numbers += answers if numerical else [None] * n
            choices += [None] * n if numerical else answers
        return insert_in_pages(
            self.env.cr,
            """
            INSERT INTO survey_user_input_line (
                user_input_id, survey_id, question_id, question_sequence, skipped, answer_type,
                value_numerical_box, suggested_answer_id, answer_score, answer_is_correct, create_uid,
                create_date, write_uid, write_date)
            SELECT i.id, i.survey_id, v.question_id, v.sequence, false,
                   CASE WHEN v.answer_id IS NULL THEN 'numerical_box' ELSE 'suggestion' END,
                   v.number, v.answer_id, 0, false, i.create_uid, i.end_datetime, i.create_uid,
                   i.end_datetime
              FROM unnest(%(input)s::int[], %(question)s::int[], %(sequence)s::int[], %(number)s::float8[],
                          %(answer)s::int[]) AS v(input_id, question_id, sequence, number, answer_id)
              JOIN survey_user_input i ON i.id = v.input_id
            """,
            {
                "input": input_ids * len(questions),
                "question": [question.id for question in questions for _row in range(n)],
                "sequence": [question.sequence for question in questions for _row in range(n)],
                "number": numbers,
                "answer": choices,
            },
        )

    @api.model
    def _insert_done_activities(self, activities):
        """Completed activities on leads, as Odoo keeps them: the chatter message posted when an activity is
        marked done (``mail.message`` on the lead, subtype Activities, with the activity's type), by the
        lead's salesperson (no author for a lead without one).

        :param dict activities: per activity: ``lead_id``, ``type_id``, ``at`` (UTC seconds since the epoch)
        :return: the number of messages inserted
        """
        if not activities["lead_id"]:
            return 0
        return insert_in_pages(
            self.env.cr,
            """
            INSERT INTO mail_message (
                model, res_id, message_type, subtype_id, mail_activity_type_id, author_id,
                date, body, is_internal, create_uid, create_date, write_uid, write_date)
            SELECT 'crm.lead', l.id, 'notification', %(subtype)s, v.type_id, u.partner_id,
                   e.at, t.name->>'en_US', false, l.user_id, e.at, l.user_id, e.at
              FROM unnest(%(lead_id)s::int[], %(type_id)s::int[], %(at)s::bigint[]) AS v(lead_id, type_id, at)
              JOIN crm_lead l ON l.id = v.lead_id
              JOIN mail_activity_type t ON t.id = v.type_id
         LEFT JOIN res_users u ON u.id = l.user_id
        CROSS JOIN LATERAL (SELECT to_timestamp(v.at) AT TIME ZONE 'UTC' AS at) e
            """,
            activities,
            subtype=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_activities"),
        )

    @api.model
    def _insert_activities(self, activities, now, tz):
        """Open activities on leads, for the lead's salesperson, planned at the lead's last stage change
        or a week before they are due (never after ``now``).

        :param dict activities: per activity: ``lead_id``, ``type_id`` (``None``: no type), ``summary``,
            ``due`` (days after ``now``'s day)
        :param datetime now: naive UTC
        :param str tz: the time zone of the activities
        :return: the number of activities inserted
        """
        if not activities["lead_id"]:
            return 0
        return insert_in_pages(
            self.env.cr,
            """
            INSERT INTO mail_activity (
                res_model_id, res_model, res_id, res_name, activity_type_id, summary, user_id,
                date_deadline, automated, active, user_tz, followup_reschedule_count, create_uid,
                create_date, write_uid, write_date)
            SELECT %(model_id)s, 'crm.lead', l.id, l.name, v.type_id, v.summary, l.user_id,
                   %(today)s::date + v.due, false, true, %(tz)s, 0, l.user_id, c.at, l.user_id, c.at
              FROM unnest(%(lead_id)s::int[], %(type_id)s::int[], %(summary)s::varchar[], %(due)s::int[])
                   AS v(lead_id, type_id, summary, due)
              JOIN crm_lead l ON l.id = v.lead_id
        CROSS JOIN LATERAL (
                   -- planned at the last stage change, or a week before it is due
                   SELECT LEAST(%(now)s::timestamp, GREATEST(l.date_last_stage_update,
                                (%(today)s::date + v.due - 7)::timestamp)) AS at
                   ) c
            """,
            activities,
            model_id=self.env["ir.model"]._get_id("crm.lead"),
            today=now.date(),
            now=now,
            tz=tz,
        )
