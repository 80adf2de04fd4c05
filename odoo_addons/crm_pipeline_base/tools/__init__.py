"""Plain helpers of the Pipeline Discipline addons that need Odoo (no business decision: those live in the
plain packages ``activity_centric``, ``funnel_metrics`` and ``sla_rules``)."""

from .bulk import insert_in_pages, reserve_ids
from .concurrency import retry_on_concurrency

__all__ = ["insert_in_pages", "reserve_ids", "retry_on_concurrency"]
