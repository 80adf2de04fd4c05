from odoo import api, models
from odoo.addons.crm_pipeline_base.tools import insert_in_pages


class CrmLeadStageHistory(models.Model):
    _inherit = "crm.lead.stage.history"

    @api.model
    def _bulk_insert_stays(self, stays):
        """Insert the stays of existing leads as this addon records them, one INSERT per page of rows,
        without the ORM (for generated or imported pipelines of many leads).

        Given per stay, as parallel lists of plain values (one per stay):

        - ``lead_id``, ``stage_id``; ``previous_stage_id`` (``None`` for a lead's first stay);
        - ``date_in``, ``date_out``: UTC seconds since the epoch, ``date_out`` ``None`` for the current stay;
        - ``origin``: a key of the ``origin`` selection (``create``, ``manual``, ``survey``...).

        Read at insert: the salesperson, sales team, company, type and expected revenue from the lead
        (as they are now), the probability from the stage, the stages jumped over from the skip table
        (:meth:`_skip_table`); the lead's salesperson made the change. A stay without ``date_out`` is the
        current one. Caches are not invalidated: the caller does it before reading the stays.

        :param dict stays: column name -> list of values, all the same length
        :return: the number of stays inserted
        """
        self.env["crm.lead"].flush_model(["user_id", "team_id", "company_id", "type", "expected_revenue"])
        self.env["crm.stage"].flush_model(["probability"])
        return insert_in_pages(
            self.env.cr,
            """
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, previous_stage_id, date_in, date_out, is_current, duration_hours,
                user_id, team_id, company_id, changed_by_id, origin, skipped_stage_count, lead_type,
                expected_revenue, probability, create_uid, create_date, write_uid, write_date)
            SELECT l.id, ns.id, ps.id, s.date_in, s.date_out, s.date_out IS NULL,
                   EXTRACT(EPOCH FROM (s.date_out - s.date_in)) / 3600.0, l.user_id, l.team_id,
                   l.company_id, l.user_id, s.origin, COALESCE(k.n, 0), l.type, l.expected_revenue,
                   ns.probability, l.user_id, s.date_in, l.user_id, COALESCE(s.date_out, s.date_in)
              FROM (SELECT v.lead_id, v.stage_id, v.prev_id, v.origin,
                           to_timestamp(v.date_in) AT TIME ZONE 'UTC' AS date_in,
                           to_timestamp(v.date_out) AT TIME ZONE 'UTC' AS date_out
                      FROM unnest(%(lead_id)s::int[], %(stage_id)s::int[], %(previous_stage_id)s::int[],
                                  %(date_in)s::bigint[], %(date_out)s::bigint[], %(origin)s::varchar[])
                           AS v(lead_id, stage_id, prev_id, date_in, date_out, origin)
                   ) s
              JOIN crm_lead l ON l.id = s.lead_id
              JOIN crm_stage ns ON ns.id = s.stage_id
         LEFT JOIN crm_stage ps ON ps.id = s.prev_id
                   %(skip_join)s
            """,
            {
                name: stays[name]
                for name in ("lead_id", "stage_id", "previous_stage_id", "date_in", "date_out", "origin")
            },
            skip_join=self._skip_join(),
        )
