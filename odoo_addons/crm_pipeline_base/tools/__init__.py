"""Plain helpers of the Pipeline Discipline addons that need Odoo (no business decision: those live in the
plain packages ``activity_centric``, ``funnel_metrics`` and ``sla_rules``).

- :func:`retry_on_concurrency`: run a cron batch again on a serialization failure, without committing;
- :func:`insert_in_pages`, :func:`reserve_ids`, :func:`array_literal`: set-based inserts of many rows;
- :func:`cursor_marker`, :func:`cursor_mark`: a flag on the cursor for the duration of a write (the
  addon's own writes, which an RPC caller cannot forge);
- :func:`queue_digest_mail`: an automated digest mail to one user (the weekly review, the early warnings);
- :func:`move_stays_to_lead`: the stays of merged leads given to the lead they were merged into (stage and
  lifecycle phase stays).
"""

from .bulk import array_literal, insert_in_pages, reserve_ids
from .concurrency import retry_on_concurrency
from .mail import queue_digest_mail
from .markers import cursor_mark, cursor_marker
from .stays import move_stays_to_lead

__all__ = [
    "array_literal",
    "cursor_mark",
    "cursor_marker",
    "insert_in_pages",
    "move_stays_to_lead",
    "queue_digest_mail",
    "reserve_ids",
    "retry_on_concurrency",
]
