"""The load test's pure parts (no Odoo, no network): the working day's mix, the sampling of the next call,
the classification of an answer, percentiles and the per-call summary, the ratio to the native run.

Standard library only: the simulated users and the tests import this module in any Python.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence

# The calls of a working day, their weights in the mix (how often one user makes each, relative to the
# others) and whether Odoo without our addons has them (the native comparator runs those only).
PIPELINE = "open the pipeline"
MY_DAY = "My Day"
LEAD_FORM = "open a lead form"
COMPLETE = "Done & Schedule Next"
STAGE = "change a stage (manual team)"
QUALIFY = "Qualify (survey team)"
FUNNEL = "open the funnel report"
SHARE = "share a document"
OPEN_LINK = "open a shared link (anonymous)"

CALLS: tuple[tuple[str, int, bool], ...] = (
    (PIPELINE, 20, True),
    (MY_DAY, 15, False),
    (LEAD_FORM, 25, True),
    (COMPLETE, 15, True),
    (STAGE, 8, True),
    (QUALIFY, 5, False),
    (FUNNEL, 4, False),
    (SHARE, 3, False),
)
NATIVE_CALLS = frozenset(name for name, _weight, native in CALLS if native)
# calls made by another call (not drawn from the mix): the link opened after a share
FOLLOW_UPS = {SHARE: OPEN_LINK}
# what a sales manager does more of, and what a rep of a team cannot do there
MANAGER_WEIGHTS = {FUNNEL: 10, PIPELINE: 15}
GOAL_RATIO = 1.2  # the goal: p95 of every everyday call at most 1.2x native

OK, REFUSAL, CONCURRENCY, ERROR = "ok", "refusal", "concurrency", "error"
# the product's refusals: what a user is told to do instead (Odoo's exceptions for the user)
REFUSALS = frozenset(
    f"odoo.exceptions.{name}" for name in ("UserError", "ValidationError", "AccessError", "RedirectWarning")
)
CONCURRENCY_MARKS = (
    "SerializationFailure",
    "DeadlockDetected",
    "LockNotAvailable",
    "could not serialize access",
    "deadlock detected",
    "could not obtain lock",
)


def mix(role: str, can_stage: bool, can_qualify: bool, native: bool) -> dict[str, int]:
    """The weights of one simulated user's calls: ``role`` is ``manager`` or ``rep``; a rep changes stages
    only in a manual team (``can_stage``) and qualifies only in a survey team (``can_qualify``); the native
    comparator keeps the calls Odoo has without our addons."""
    weights = {name: weight for name, weight, _native in CALLS}
    if role == "manager":
        weights.update(MANAGER_WEIGHTS)
    if not can_stage:
        weights.pop(STAGE)
    if not can_qualify:
        weights.pop(QUALIFY)
    if native:
        weights = {name: weight for name, weight in weights.items() if name in NATIVE_CALLS}
    return weights


def pick(rng: random.Random, weights: Mapping[str, int]) -> str:
    """The next call, drawn with the mix's weights."""
    names = sorted(weights)
    return rng.choices(names, weights=[weights[name] for name in names])[0]


def think(rng: random.Random, mean_s: float) -> float:
    """Seconds a user waits before the next call: exponential around ``mean_s``, at most 4 times it."""
    if mean_s <= 0:
        return 0.0
    return min(rng.expovariate(1.0 / mean_s), 4 * mean_s)


def classify(status: int, body: object) -> tuple[str, str]:
    """``(kind, message)`` of an answer of Odoo: ``ok``; ``refusal`` for the product's own refusals
    (UserError, ValidationError, AccessError: the user is told what to do instead); ``concurrency`` for a
    serialization failure or deadlock that reached the user (Odoo retries those a few times first);
    ``error`` for anything else (a server error, a page not found, an answer that is not JSON...)."""
    if 200 <= status < 300 and not (isinstance(body, dict) and "error" in body and "name" not in body):
        return OK, ""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("data"), dict):  # JSON-RPC's error envelope
            error = error["data"]
        name = str(error.get("name", "")) if isinstance(error, dict) else ""
        message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
        text = f"{name}: {message}" if name else message
        if any(mark in name or mark in message for mark in CONCURRENCY_MARKS):
            return CONCURRENCY, text
        if name in REFUSALS:
            return REFUSAL, message
        return ERROR, f"HTTP {status} {text}"
    return ERROR, f"HTTP {status} {str(body)[:200]}"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linear between the closest ranks (numpy's default)."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0 and 100, got {q!r}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(samples: Iterable[Mapping], seconds: float, first: int = 3) -> dict[str, dict]:
    """Per call: count, p50 / p95 / max (ms) of the answered calls, throughput (calls/s over ``seconds``),
    refusals, concurrency failures and other errors with the ``first`` distinct messages of each.

    A sample is ``{"call": name, "ms": float, "kind": ok|refusal|concurrency|error, "message": str}``."""
    by_call: dict[str, list[Mapping]] = {}
    for sample in samples:
        by_call.setdefault(sample["call"], []).append(sample)
    summary = {}
    for call, rows in sorted(by_call.items()):
        times = [row["ms"] for row in rows]
        entry = {
            "count": len(rows),
            "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1),
            "per_s": round(len(rows) / seconds, 2) if seconds > 0 else math.nan,
        }
        for kind in (REFUSAL, CONCURRENCY, ERROR):
            messages = [row["message"] for row in rows if row["kind"] == kind]
            entry[kind] = len(messages)
            entry[f"{kind}_messages"] = list(dict.fromkeys(messages))[:first]
        summary[call] = entry
    return summary


def ratios(ours: Mapping[str, Mapping], native: Mapping[str, Mapping]) -> dict[str, dict]:
    """p95 ours / native of each call both runs made, and whether it meets the issue's goal."""
    result = {}
    for call in sorted(set(ours) & set(native) & NATIVE_CALLS):
        mine, theirs = ours[call]["p95_ms"], native[call]["p95_ms"]
        ratio = mine / theirs if theirs else math.nan
        result[call] = {
            "ours_p95_ms": mine,
            "native_p95_ms": theirs,
            "ratio": round(ratio, 2),
            "met": ratio <= GOAL_RATIO,
        }
    return result
