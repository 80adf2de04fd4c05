from odoo.tools import SQL

PAGE = 25_000
"""Rows per INSERT of :func:`insert_in_pages`: a few MB of query text at most."""


def reserve_ids(cr, table, count):
    """``count`` new ids of ``table``'s id sequence, in increasing order, for rows inserted with their id
    given (so that rows of other tables can refer to them in the same pass)."""
    cr.execute(
        SQL("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", table, count)
    )
    return [row[0] for row in cr.fetchall()]


def insert_in_pages(cr, query, columns, **constants):
    """Run the INSERT ``query`` on successive pages of :data:`PAGE` rows; return the rows inserted.

    ``query`` is an SQL template that unnests one named placeholder per column (``%(lead_id)s::int[]``)
    and may use named ``constants``; ``columns`` maps each placeholder to its values, lists of plain
    Python values of the same length (``None`` for NULL). Nothing goes through the ORM: the caller flushes
    what the query reads before, and invalidates what it caches after.
    """
    total = len(next(iter(columns.values())))
    inserted = 0
    for start in range(0, total, PAGE):
        page = {name: values[start : start + PAGE] for name, values in columns.items()}
        cr.execute(SQL(query, **page, **constants))
        inserted += cr.rowcount
    return inserted
