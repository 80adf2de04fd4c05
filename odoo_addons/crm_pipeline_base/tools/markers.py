from contextlib import contextmanager

_UNSET = object()


@contextmanager
def cursor_marker(cr, key, value=True):
    """Mark the cursor ``cr`` with ``key`` = ``value`` for the duration of the ``with`` block.

    A marker says "this write is the addon's own" (a stage set by the survey, a phase moved by a customer
    event, leads handed out by the lead assignment...) to the overrides that the write runs through. It lives
    on the cursor, not in the context: an RPC caller can put any key in the context, never on the cursor.
    Leaving the block, even by an error, restores what the key held before (nested blocks are fine). Read
    it with :func:`cursor_mark`. ``key`` is namespaced by the addon (``"crm_stage_survey.override"``).
    """
    previous = cr.cache.get(key, _UNSET)
    cr.cache[key] = value
    try:
        yield
    finally:
        if previous is _UNSET:
            cr.cache.pop(key, None)
        else:
            cr.cache[key] = previous


def cursor_mark(cr, key, default=None):
    """The value of the marker ``key`` on the cursor ``cr`` (see :func:`cursor_marker`), else ``default``."""
    return cr.cache.get(key, default)
