"""Gaming signals: patterns in a salesperson's activities that suggest the follow-up rules are being gamed.

A follow-up policy counts open activities; it cannot tell a real next step from a placeholder. These signals,
per salesperson, point at the usual ways around it -- for a manager to look at, not to sanction:

- *quick done*: activities marked done within seconds of being created, with no feedback (created only to
  close them and satisfy a check);
- *far placeholders*: open activities scheduled far in the future (a lead "has a next step" in a year);
- *reschedules*: activities pushed back again and again;
- *missing*: open leads with no next step at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from activity_centric._common import require_columns
from activity_centric.policy import EXEMPT, MISSING, STATES

ACTIVITY_COLUMNS: tuple[str, ...] = (
    "user",
    "created_at",
    "deadline",
    "done_at",
    "has_feedback",
    "reschedule_count",
)
"""Columns :func:`gaming_signals` needs in its ``activities`` table."""

LEAD_COLUMNS: tuple[str, ...] = ("user", "followup_state")
"""Columns :func:`gaming_signals` needs in its ``leads`` table."""

SIGNAL_COLUMNS: tuple[str, ...] = (
    "done",
    "quick_done",
    "quick_done_share",
    "open",
    "far_placeholders",
    "far_placeholder_share",
    "rescheduled",
    "rescheduled_share",
    "open_leads",
    "missing",
    "missing_share",
)
"""Columns of the :func:`gaming_signals` output, in order."""

_LEAD_COUNTS: tuple[str, ...] = ("open_leads", "missing")


def gaming_signals(
    activities: pd.DataFrame,
    leads: pd.DataFrame | None = None,
    *,
    quick_seconds: float = 60,
    far_days: int = 180,
    reschedule_min: int = 3,
) -> pd.DataFrame:
    """Per salesperson: counts and shares of the gaming signals.

    Inputs:

    - ``activities``, one row per activity (open or done), columns ``user`` (any hashable: id or name),
      ``created_at`` (datetime; naive = UTC), ``deadline`` (date, or datetime whose calendar date is used),
      ``done_at`` (datetime, NaT while open; naive = UTC), ``has_feedback`` (bool; missing = False),
      ``reschedule_count`` (int, times the deadline was pushed back; missing = 0);
    - ``leads`` (optional), one row per lead, columns ``user`` and ``followup_state`` (one of
      ``scheduled``, ``missing``, ``exempt``);
    - ``quick_seconds``: a done activity is *quick* when done at most this many seconds after its creation;
    - ``far_days``: an open activity is a *far placeholder* when its deadline is more than this many days
      after its creation date (the UTC date of ``created_at``; dates compared, not times);
    - ``reschedule_min``: an activity is *rescheduled* when ``reschedule_count >= reschedule_min``.

    Output: one row per user found in either table, index named ``user``, sorted by user ascending (missing
    users last), columns (see :data:`SIGNAL_COLUMNS`; counts int64, shares float64 in [0, 1]):

    - ``done``: done activities; ``quick_done``: of those, quick and without feedback;
      ``quick_done_share`` = quick_done / done;
    - ``open``: open activities; ``far_placeholders``: of those, far placeholders;
      ``far_placeholder_share`` = far_placeholders / open;
    - ``rescheduled``: activities (open or done) rescheduled at least ``reschedule_min`` times;
      ``rescheduled_share`` = rescheduled / all activities of the user;
    - ``open_leads``: leads whose state is not ``exempt``; ``missing``: leads in state ``missing``;
      ``missing_share`` = missing / open_leads.

    Shares are NaN when their denominator is 0; a user found in only one table has 0 counts and NaN shares
    for the other. Empty input gives an empty frame with these columns.

    Raises:
        ValueError: a missing column (named), or a ``followup_state`` outside the known states.
    """
    require_columns(activities, ACTIVITY_COLUMNS, "activities")
    if leads is not None:
        require_columns(leads, LEAD_COLUMNS, "leads")
    per_user_activities = _activity_counts(activities, quick_seconds, far_days, reschedule_min)
    per_user_leads = _lead_counts(leads)

    users = per_user_activities.index.union(per_user_leads.index, sort=False)
    result = pd.concat([per_user_activities.reindex(users), per_user_leads.reindex(users)], axis=1).fillna(0)
    result = result.astype("int64")
    result.index.name = "user"
    result = result.sort_index(na_position="last")

    result["quick_done_share"] = _share(result["quick_done"], result["done"])
    result["far_placeholder_share"] = _share(result["far_placeholders"], result["open"])
    result["rescheduled_share"] = _share(result["rescheduled"], result["activities"])
    result["missing_share"] = _share(result["missing"], result["open_leads"])
    return result.loc[:, list(SIGNAL_COLUMNS)]


def _activity_counts(
    activities: pd.DataFrame, quick_seconds: float, far_days: int, reschedule_min: int
) -> pd.DataFrame:
    created = _utc(_timestamps(activities["created_at"], "created_at"))
    done_at = _utc(_timestamps(activities["done_at"], "done_at"))
    deadline = _timestamps(activities["deadline"], "deadline")
    feedback = activities["has_feedback"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    reschedules = pd.to_numeric(activities["reschedule_count"], errors="coerce").fillna(0)

    done = done_at.notna()
    quick = done & (done_at - created <= pd.Timedelta(seconds=quick_seconds)) & ~feedback
    open_ = ~done
    created_day = created.dt.tz_localize(None).dt.normalize()
    deadline_day = _wall_clock(deadline).dt.normalize()
    ahead_days = (deadline_day - created_day) / pd.Timedelta(days=1)
    far = open_ & (ahead_days > far_days)
    flags = pd.DataFrame(
        {
            "activities": np.ones(len(activities), dtype="int64"),
            "done": done.to_numpy(dtype="int64"),
            "quick_done": quick.to_numpy(dtype="int64"),
            "open": open_.to_numpy(dtype="int64"),
            "far_placeholders": far.to_numpy(dtype="int64"),
            "rescheduled": (reschedules >= reschedule_min).to_numpy(dtype="int64"),
        }
    )
    return flags.groupby(activities["user"].to_numpy(), dropna=False, sort=False).sum()


def _lead_counts(leads: pd.DataFrame | None) -> pd.DataFrame:
    if leads is None or leads.empty:
        return pd.DataFrame({column: pd.Series(dtype="int64") for column in _LEAD_COUNTS})
    states = leads["followup_state"]
    unknown = sorted({repr(value) for value in states[~states.isin(STATES)].unique()})
    if unknown:
        raise ValueError(
            f"leads.followup_state has unknown value(s) {', '.join(unknown)}; "
            f"expected one of {', '.join(STATES)}"
        )
    flags = pd.DataFrame(
        {
            "open_leads": (states != EXEMPT).to_numpy(dtype="int64"),
            "missing": (states == MISSING).to_numpy(dtype="int64"),
        }
    )
    return flags.groupby(leads["user"].to_numpy(), dropna=False, sort=False).sum()


def _timestamps(column: pd.Series, name: str) -> pd.Series:
    try:
        return pd.to_datetime(column)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"activities.{name} must hold dates or datetimes ({exc})") from exc


def _utc(stamps: pd.Series) -> pd.Series:
    """Instants in UTC; naive values are taken as UTC."""
    return stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")


def _wall_clock(stamps: pd.Series) -> pd.Series:
    """Naive wall-clock values in the series' own time zone (so each value keeps its calendar date)."""
    return stamps.dt.tz_localize(None) if stamps.dt.tz is not None else stamps


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    whole_f = whole.to_numpy(dtype="float64")
    out = np.full(len(whole_f), np.nan)
    np.divide(part.to_numpy(dtype="float64"), whole_f, out=out, where=whole_f > 0)
    return pd.Series(out, index=part.index)
