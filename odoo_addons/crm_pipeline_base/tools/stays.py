from odoo.tools import SQL


def move_stays_to_lead(env, table, from_lead_ids, to_lead_id, now):
    """Give the stays of merged leads (rows of ``table``, a stays table: ``lead_id``, ``date_in``,
    ``date_out``, ``is_current``, ``duration_hours``) to the lead they were merged into; their current stays
    end ``now``. One statement; the caller invalidates its caches."""
    env.cr.execute(
        SQL(
            """UPDATE %(table)s
                  SET lead_id = %(to)s, is_current = false,
                      date_out = CASE WHEN is_current THEN %(now)s ELSE date_out END,
                      duration_hours = CASE WHEN is_current
                          THEN GREATEST(EXTRACT(EPOCH FROM (%(now)s - date_in)) / 3600.0, 0)
                          ELSE duration_hours END,
                      write_uid = %(uid)s, write_date = %(now)s
                WHERE lead_id = ANY(%(ids)s)""",
            table=SQL.identifier(table),
            to=to_lead_id,
            now=now,
            uid=env.uid,
            ids=list(from_lead_ids),
        )
    )
