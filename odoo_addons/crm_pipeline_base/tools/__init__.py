"""Plain helpers of the Pipeline Discipline addons that need Odoo (no business decision: those live in the
plain packages ``activity_centric``, ``funnel_metrics`` and ``sla_rules``)."""

from .concurrency import retry_on_concurrency

__all__ = ["retry_on_concurrency"]
