"""Benchmark of the funnel_metrics package on about a million transitions, no Odoo needed.

    python tests/benchmarks/bench_funnel_metrics.py [--leads 200000] [--repeat 3] [--seed 0]

Builds a pipeline with :func:`funnel_metrics.simulate_funnel` (7 stages plus Won, 200,000 leads give about
960,000 stays, snapshotted while part of them are open), then times every public metric on it, each called
as a user would call it (on the frame, so each call validates the table itself): the best of ``--repeat``
runs. The *floor* is a plain ``groupby("stage").agg(...)`` over the same frame: what any per-stage summary of
it costs at least.

Memory: the peak resident set size of the process, which covers numpy and pandas buffers (tracemalloc would
miss memory that pyarrow allocates). Per metric, the kernel's high-water mark ``VmHWM`` is reset before the
call (``/proc/self/clear_refs``) and read after it; the process figure is the highest mark seen, building the
data included (where the mark cannot be reset, ``getrusage(RUSAGE_SELF).ru_maxrss``, the peak since start).

Targets: all metrics <= 3 s in total, peak memory <= 1.5 GB; the week's early warnings (issue 20, apart from
the total) <= 5 s. Prints a table, PASS/FAIL, and one JSON object
on its last line.

A block times the demand waterfall (:func:`funnel_metrics.waterfall`, issue 19) on about a million lifecycle
phase stays of as many leads, drawn by :func:`funnel_metrics.simulate_waterfall` with handoffs, rejections and
recycling: on its own, by campaign and month, by team and country and week in a time zone; target <= 3 s for
each; in the JSON object's ``waterfall``.

A separate block times which activities win deals (:func:`funnel_metrics.win_rate_by_count` and its
companions) on about 5 million completed activities drawn onto the same pipeline by
:func:`funnel_metrics.simulate_activities` (about 25 a lead): target <= 5 s in total; in the JSON object's
``activity_wins``. It runs after the memory figure above is taken.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import funnel_metrics as fm  # noqa: E402
from funnel_metrics.funnel import _validated  # noqa: E402

TARGET_SECONDS = 3.0
TARGET_BYTES = 1.5 * 1024**3
EARLY_WARNING_SECONDS = 5.0  # issue 20: the week's early warnings, on its own
STAGES = ("New", "Contacted", "Qualified", "Demo", "Proposal", "Negotiation", "Contract")
ADVANCE = (0.95, 0.9, 0.88, 0.85, 0.82, 0.8, 0.75)
MEDIAN_DAYS = (2, 4, 6, 8, 10, 12, 14)


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def peak_bytes() -> int:
    """The peak resident set size since the last reset (VmHWM), else since the start (ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return process_peak_bytes()


def process_peak_bytes() -> int:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux (bytes on macOS)
    return kib if sys.platform == "darwin" else kib * 1024


def build(leads: int, seed: int) -> pd.DataFrame:
    frame, _ = fm.simulate_funnel(
        leads,
        stages=STAGES,
        advance=ADVANCE,
        median_days=MEDIAN_DAYS,
        start="2024-01-01",
        end="2024-07-01",
        snapshot="2024-07-01",
        users=tuple(f"rep{i:02d}" for i in range(40)),
        teams=("Europe", "Americas", "Asia"),
        seed=seed,
    )
    return frame


def inputs(frame: pd.DataFrame) -> dict:
    """The side tables the metrics need: targets, costs, stated probabilities."""
    targets = pd.DataFrame(
        {
            "stage": [*STAGES, "Qualified", "Proposal"],
            "user": [None] * len(STAGES) + ["rep01", "rep02"],
            "team": [None] * len(STAGES) + [None, "Europe"],
            "target_conversion_rate": [0.9, 0.85, 0.8, 0.8, 0.75, 0.7, 0.7, 0.9, None],
            "target_days_in_stage": [3, 6, 9, 12, 15, 18, 21, 5, 10],
        }
    )
    months = pd.date_range("2024-01-01", "2024-07-01", freq="MS")
    sources = frame["source"].dropna().unique().tolist()
    costs = pd.DataFrame(
        [(source, month, 1000.0 * (i + 1)) for i, source in enumerate(sources) for month in months],
        columns=["source", "period", "cost"],
    )
    stated = dict(zip(STAGES, (0.1, 0.15, 0.25, 0.35, 0.5, 0.7, 0.9), strict=True))
    return {"targets": targets, "costs": costs, "stated": stated}


def metrics(frame: pd.DataFrame, side: dict) -> dict[str, Callable[[], object]]:
    return {
        "stage_conversion": lambda: fm.stage_conversion(frame),
        "time_in_stage": lambda: fm.time_in_stage(frame),
        "cumulative_funnel": lambda: fm.cumulative_funnel(frame),
        "stage_skips": lambda: fm.stage_skips(frame),
        "cohort_conversion": lambda: fm.cohort_conversion(frame),
        "stuck_leads": lambda: fm.stuck_leads(frame, side["targets"]),
        "breakdown(user)": lambda: fm.breakdown(frame, "user", targets=side["targets"]),
        "rep_effectiveness": lambda: fm.rep_effectiveness(frame, "Qualified"),
        "cost_per_lead": lambda: fm.cost_per_lead(frame, side["costs"]),
        "calibration": lambda: fm.calibration(frame, side["stated"]),
        "forecast": lambda: fm.forecast(frame),
    }


# --- issue 20: the customer's decision phase as a forecast input (its own target: <= 5 s) -----------------
PHASE_TARGET_SECONDS = 5.0


def phase_changes(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A decision phase history for the pipeline: up to two changes per lead (two independent draws of
    :func:`funnel_metrics.simulate_phase_changes`, within 30 days of the lead's entry)."""
    phases = {"Exploring": (0.3, 0.4), "Comparing vendors": (0.4, 0.2), "Deciding": (0.2, 0.1)}
    draws = [fm.simulate_phase_changes(frame, phases, delay_days=30, seed=seed + k) for k in (1, 2)]
    return pd.concat(draws, ignore_index=True).sort_values(["lead_id", "changed_at"], ignore_index=True)


def decision_phase(frame: pd.DataFrame, changes: pd.DataFrame) -> object:
    """Observations at the month ends, win rates by stage x phase, and the held-out forecast gain."""
    observations = fm.phase_observations(frame, changes)
    return fm.phase_win_rates(observations), fm.phase_forecast_gain(observations)


def timed(call: Callable[[], object], repeat: int) -> tuple[float, int]:
    """Best wall time of ``repeat`` calls (seconds) and the peak RSS seen during them (bytes)."""
    best, peak = float("inf"), 0
    for _ in range(repeat):
        reset_peak()
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
        peak = max(peak, peak_bytes())
    return best, peak


def floor(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(["stage"], observed=True).agg(
        stays=("lead_id", "size"),
        leads=("lead_id", "nunique"),
        first_entry=("entered_at", "min"),
        last_exit=("left_at", "max"),
    )


SNAPSHOT_TARGET_SECONDS = 5.0


def bench_snapshots(frame: pd.DataFrame, side: dict, repeat: int) -> dict:
    """Calibration by month-end snapshots (issue 20, item 3): the snapshots of the frame's stays at every
    month end (``month_end_snapshots``, what the Odoo fill-back stores), then ``probability_bands`` and
    ``snapshot_stage_rates`` on them; target <= 5 s for the three."""
    snapshots = fm.month_end_snapshots(frame, side["stated"])
    seconds = {
        "month_end_snapshots": timed(lambda: fm.month_end_snapshots(frame, side["stated"]), repeat)[0],
        "probability_bands": timed(lambda: fm.probability_bands(snapshots), repeat)[0],
        "snapshot_stage_rates": timed(lambda: fm.snapshot_stage_rates(snapshots, side["stated"]), repeat)[0],
    }
    total = sum(seconds.values())
    print(f"  month-end snapshots: {len(snapshots):,} snapshots of {snapshots['lead_id'].nunique():,} leads")
    for name, value in seconds.items():
        print(f"    {name:<22} {value:7.3f} s")
    ok = total <= SNAPSHOT_TARGET_SECONDS
    print(
        f"{'PASS' if ok else 'FAIL'}: month-end snapshots {total:.2f} s "
        f"against <= {SNAPSHOT_TARGET_SECONDS:.1f} s"
    )
    return {"snapshots": len(snapshots), "seconds": {k: round(v, 4) for k, v in seconds.items()}, "pass": ok}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=200_000, help="simulated leads (default 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per metric, the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    frame = build(args.leads, args.seed)
    simulate_seconds = time.perf_counter() - start
    build_peak = peak_bytes()  # before any reset of the mark: building the data
    side = inputs(frame)
    open_share = float(frame.groupby("lead_id")["outcome"].first().eq("open").mean())
    data_bytes = int(frame.memory_usage(deep=True).sum())
    print(
        f"funnel_metrics benchmark: {args.leads:,} leads, {len(frame):,} transitions "
        f"({data_bytes / 1024**2:,.0f} MB in memory), {open_share:.0%} of the leads open; "
        f"simulate_funnel took {simulate_seconds:.2f} s; best of {args.repeat}",
        flush=True,
    )

    seconds, peaks = {}, {}
    for name, call in metrics(frame, side).items():
        seconds[name], peaks[name] = timed(call, args.repeat)
        print(f"  {name:<20} {seconds[name]:7.3f} s   peak RSS {peaks[name] / 1024**2:8,.0f} MB", flush=True)
    total = sum(seconds.values())
    validation, validation_peak = timed(lambda: fm.validate_transitions(frame), args.repeat)
    shortcut, _ = timed(lambda: _validated(frame), args.repeat)
    floor_seconds, floor_peak = timed(lambda: floor(frame), args.repeat)
    # resetting the mark resets ru_maxrss too: the process peak is the highest mark seen
    process_peak = max(build_peak, validation_peak, floor_peak, *peaks.values(), process_peak_bytes())

    print(f"  {'total':<20} {total:7.3f} s   ({len(seconds)} metrics)")
    print(
        f"  validation           {validation:7.3f} s   validate_transitions on a raw frame; every metric "
        f"checks an already valid table in {shortcut:.3f} s"
    )
    print(f"  floor                {floor_seconds:7.3f} s   groupby('stage').agg(size, nunique, min, max)")
    print(f"  total / floor        {total / floor_seconds:7.1f} x")
    print(f"  peak RSS (process)   {process_peak / 1024**2:7,.0f} MB (includes building the data)")
    changes = phase_changes(frame, args.seed)
    phase_seconds, phase_peak = timed(lambda: decision_phase(frame, changes), args.repeat)
    print(
        f"  decision phase       {phase_seconds:7.3f} s   peak RSS {phase_peak / 1024**2:8,.0f} MB   "
        f"observations, win rates, forecast gain ({len(changes):,} phase changes; "
        f"target <= {PHASE_TARGET_SECONDS:.0f} s)"
    )
    time_ok = total <= TARGET_SECONDS and phase_seconds <= PHASE_TARGET_SECONDS
    memory_ok = process_peak <= TARGET_BYTES
    print(f"{'PASS' if time_ok else 'FAIL'}: time {total:.2f} s against <= {TARGET_SECONDS:.1f} s")
    print(f"{'PASS' if memory_ok else 'FAIL'}: memory {process_peak / 1024**3:.2f} GB against <= 1.5 GB")
    # early warnings (issue 20): the week's tests over every segment and stage, with targets, on their own
    warning_seconds, warning_peak = timed(
        lambda: fm.early_warnings(frame, "2024-07-01", side["targets"]), args.repeat
    )
    warning_ok = warning_seconds <= EARLY_WARNING_SECONDS
    print(
        f"{'PASS' if warning_ok else 'FAIL'}: early_warnings {warning_seconds:.2f} s against <= "
        f"{EARLY_WARNING_SECONDS:.1f} s (peak RSS {warning_peak / 1024**2:,.0f} MB)"
    )
    wins = activity_wins_block(frame, args.repeat, args.seed)
    snapshots = bench_snapshots(frame, side, args.repeat)
    waterfall = waterfall_block(args.leads, args.repeat, args.seed)
    print(
        json.dumps(
            {
                "activity_wins": wins,
                "waterfall": waterfall,
                "month_end_snapshots": snapshots,
                "early_warnings_seconds": round(warning_seconds, 3),
                "leads": args.leads,
                "transitions": len(frame),
                "open_share": round(open_share, 4),
                "simulate_seconds": round(simulate_seconds, 3),
                "seconds": {name: round(value, 4) for name, value in seconds.items()},
                "total_seconds": round(total, 3),
                "validation_seconds": round(validation, 4),
                "validation_shortcut_seconds": round(shortcut, 4),
                "floor_seconds": round(floor_seconds, 4),
                "ratio_to_floor": round(total / floor_seconds, 2),
                "peak_rss_mb": {name: round(value / 1024**2) for name, value in peaks.items()},
                "decision_phase_seconds": round(phase_seconds, 4),
                "process_peak_rss_mb": round(process_peak / 1024**2),
                "pass": bool(time_ok and memory_ok and warning_ok and wins["pass"] and snapshots["pass"])
                and waterfall["pass"],
            }
        )
    )
    passed = time_ok and memory_ok and warning_ok and wins["pass"] and snapshots["pass"] and waterfall["pass"]
    return 0 if passed else 1


# ------------------------------------------------------------------------------------------------------
# which activities win deals: a separate block, on about 5 million completed activities
# ------------------------------------------------------------------------------------------------------

ACTIVITY_TARGET_SECONDS = 5.0
# mean activities per lead by type: about 25 a lead, 5 million on 200,000 leads
ACTIVITY_MEANS = {"Meeting": 3.0, "Call": 12.0, "Email": 10.0}


def activity_wins_block(frame: pd.DataFrame, repeat: int, seed: int) -> dict:
    """Times the activity-wins functions on activities simulated onto ``frame``; prints and returns them."""
    start = time.perf_counter()
    activities, _truth = fm.simulate_activities(frame, means=ACTIVITY_MEANS, seed=seed)
    simulate_seconds = time.perf_counter() - start
    deals = fm.deals_from_transitions(frame)
    by_count = fm.win_rate_by_count(activities, deals)
    calls = {
        "deals_from_transitions": lambda: fm.deals_from_transitions(frame),
        "win_rate_by_count": lambda: fm.win_rate_by_count(activities, deals),
        "saturation": lambda: fm.saturation(by_count),
        "activity_sequences": lambda: fm.activity_sequences(activities, deals),
        "touch_gaps": lambda: fm.touch_gaps(activities, deals),
        "rep_activity_shares": lambda: fm.rep_activity_shares(activities, deals, fm.saturation(by_count)),
    }
    print(
        f"which activities win deals: {len(activities):,} completed activities on {len(deals):,} decided "
        f"deals; simulate_activities took {simulate_seconds:.2f} s",
        flush=True,
    )
    seconds, peaks = {}, {}
    for name, call in calls.items():
        seconds[name], peaks[name] = timed(call, repeat)
        print(f"  {name:<22} {seconds[name]:7.3f} s   peak RSS {peaks[name] / 1024**2:8,.0f} MB", flush=True)
    total = sum(seconds.values())
    passed = total <= ACTIVITY_TARGET_SECONDS
    verdict = "PASS" if passed else "FAIL"
    print(f"{verdict}: activity wins {total:.2f} s against <= {ACTIVITY_TARGET_SECONDS:.1f} s")
    return {
        "activities": len(activities),
        "deals": len(deals),
        "seconds": {name: round(value, 4) for name, value in seconds.items()},
        "total_seconds": round(total, 3),
        "peak_rss_mb": {name: round(value / 1024**2) for name, value in peaks.items()},
        "pass": passed,
    }


# ------------------------------------------------------------------------------------------------------
# the demand waterfall: about a million lifecycle phase stays
# ------------------------------------------------------------------------------------------------------

WATERFALL_TARGET_SECONDS = 3.0


def waterfall_block(leads: int, repeat: int, seed: int) -> dict:
    """Times :func:`funnel_metrics.waterfall` on the phase stays and handoffs of ``leads`` simulated leads
    (about 5 stays a lead: 200,000 leads give about a million stays), three ways; prints and returns them."""
    start = time.perf_counter()
    stays, handoffs, _truth = fm.simulate_waterfall(
        leads,
        advance=(0.95, 0.9, 0.9, 0.9, 0.6),
        recycle=(0.0, 0.05, 0.05, 0.05, 0.0),
        disqualify=(0.03, 0.02, 0.02, 0.0, 0.0),
        re_entry=0.35,
        recycled_median_days=5,
        end="2025-01-01",
        seed=seed,
    )
    simulate_seconds = time.perf_counter() - start
    calls = {
        "waterfall": lambda: fm.waterfall(stays, handoffs),
        "by campaign, month": lambda: fm.waterfall(stays, handoffs, by="campaign", period="month"),
        "by team+country, week": lambda: fm.waterfall(
            stays, handoffs, by=["team", "country"], period="week", tz="Europe/Brussels"
        ),
    }
    print(
        f"demand waterfall: {len(stays):,} phase stays of {stays['lead_id'].nunique():,} leads, "
        f"{len(handoffs):,} handoffs; simulate_waterfall took {simulate_seconds:.2f} s",
        flush=True,
    )
    seconds, peaks = {}, {}
    for name, call in calls.items():
        seconds[name], peaks[name] = timed(call, repeat)
        print(f"  {name:<22} {seconds[name]:7.3f} s   peak RSS {peaks[name] / 1024**2:8,.0f} MB", flush=True)
    slowest = max(seconds.values())
    passed = slowest <= WATERFALL_TARGET_SECONDS
    print(
        f"{'PASS' if passed else 'FAIL'}: waterfall {slowest:.2f} s (slowest of the three) against "
        f"<= {WATERFALL_TARGET_SECONDS:.1f} s"
    )
    return {
        "phase_stays": len(stays),
        "handoffs": len(handoffs),
        "seconds": {name: round(value, 4) for name, value in seconds.items()},
        "peak_rss_mb": {name: round(value / 1024**2) for name, value in peaks.items()},
        "pass": passed,
    }


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
