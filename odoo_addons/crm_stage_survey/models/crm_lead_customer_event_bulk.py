from odoo import api, models
from odoo.addons.crm_pipeline_base.tools import insert_in_pages, reserve_ids
from odoo.tools import SQL


class CrmLeadCustomerEvent(models.Model):
    _inherit = "crm.lead.customer.event"

    @api.model
    def _bulk_insert_events(self, events):
        """Insert customer events of new leads and the decision phase change each made, one INSERT per
        page of rows, without the ORM nor the phase triggers (for generated or imported pipelines of many
        leads, whose events are already known to have moved them).

        Given per event, as parallel lists of plain values (one per event):

        - ``lead_id``, ``event_type`` (a key of :data:`EVENT_TYPES`), ``description``;
        - ``phase_id``: the decision phase the event moved the lead to (``None``: it moved nothing);
        - ``date``: UTC seconds since the epoch.

        Each event that moved a phase gets its change (origin ``customer``), from the phase of the lead's
        previous such event among these (``None`` for the first: the leads had no phase before). The leads'
        own ``decision_phase_id`` is the caller's to give. The customer acted: OdooBot logged it. Caches
        are not invalidated: the caller does it before reading them.

        :param dict events: column name -> list of values, all the same length
        :return: the number of events inserted
        """
        self.env["crm.lead"].flush_model(["company_id"])
        cr = self.env.cr
        ids = reserve_ids(cr, "crm_lead_customer_event", len(events["lead_id"]))
        inserted = insert_in_pages(
            cr,
            """
            INSERT INTO crm_lead_customer_event (
                id, lead_id, event_type, description, payload, phase_id, company_id, date, create_uid,
                create_date, write_uid, write_date)
            SELECT v.id, l.id, v.event_type, v.description, '{}'::jsonb, v.phase_id, l.company_id, d.at,
                   %(uid)s, d.at, %(uid)s, d.at
              FROM unnest(%(id)s::int[], %(lead_id)s::int[], %(event_type)s::varchar[],
                          %(description)s::varchar[], %(phase_id)s::int[], %(date)s::bigint[])
                   AS v(id, lead_id, event_type, description, phase_id, at)
              JOIN crm_lead l ON l.id = v.lead_id
        CROSS JOIN LATERAL (SELECT to_timestamp(v.at) AT TIME ZONE 'UTC' AS at) d
            """,
            {
                "id": ids,
                **{
                    name: events[name]
                    for name in ("lead_id", "event_type", "description", "phase_id", "date")
                },
            },
            uid=self.env.ref("base.user_root").id,
        )
        # one query: a change starts where the lead's previous one ended, whatever page the events were in
        cr.execute(
            SQL(
                """
                INSERT INTO crm_decision_phase_change (
                    lead_id, date, old_phase_id, phase_id, origin, event_id, company_id, create_uid,
                    create_date, write_uid, write_date)
                SELECT e.lead_id, e.date, LAG(e.phase_id) OVER (PARTITION BY e.lead_id ORDER BY e.date, e.id),
                       e.phase_id, 'customer', e.id, e.company_id, e.create_uid, e.date, e.create_uid, e.date
                  FROM crm_lead_customer_event e
                 WHERE e.id = ANY(%(ids)s) AND e.phase_id IS NOT NULL
                """,
                ids=ids,
            )
        )
        return inserted
