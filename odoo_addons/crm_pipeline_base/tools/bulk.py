import datetime

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


def array_literal(values):
    """``values`` (plain Python values: ints, floats, bools, texts, dates, datetimes; ``None`` for NULL) as
    the text of a PostgreSQL array, to pass as one parameter cast to the array's type (``%s::int[]``).

    psycopg2 turns a Python list into ``ARRAY[v1, v2, ...]``, an expression PostgreSQL parses element by
    element: about three times slower than reading the same values from one literal, which counts for
    arrays of tens of thousands of rows.
    """

    def item(value):
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, (int, float)):
            return str(value)  # not repr: numpy's floats are floats, and their repr names the type
        if isinstance(value, datetime.datetime):
            return f'"{value.isoformat(sep=" ")}"'
        if isinstance(value, datetime.date):
            return value.isoformat()
        text = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'

    return "{" + ",".join(item(value) for value in values) + "}"


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
        page = {name: array_literal(values[start : start + PAGE]) for name, values in columns.items()}
        cr.execute(SQL(query, **page, **constants))
        inserted += cr.rowcount
    return inserted
