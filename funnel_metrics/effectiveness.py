"""Rep effectiveness: per salesperson, the share of leads brought to a target stage, with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel_metrics.funnel import LOST, OPEN, _factorize_groups, _Facts, _selection, _validated
from funnel_metrics.stats import normal_quantile, wilson_interval

EFFECTIVENESS_COLUMNS: tuple[str, ...] = (
    "user",
    "started",
    "reached",
    "lost_before",
    "open",
    "rate",
    "ci_low",
    "ci_high",
    "enough_data",
)


def rep_effectiveness(
    transitions: pd.DataFrame,
    target_stage: str,
    start_stage: str | None = None,
    min_sample: int = 20,
    confidence: float = 0.95,
    *,
    selected: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Per salesperson: of the leads they had in a start stage, the share that reached a target stage.

    Inputs:

    - ``transitions``: a transitions table (validated first);
    - ``target_stage``: name of the stage to reach (a later stage counts too: a lead that skipped it or was
      won past it reached it);
    - ``start_stage``: name of the stage the count starts from; default the first stage of the pipeline. If
      several stages share a name, the first in pipeline order is meant. Leads that never entered it are
      left out;
    - ``min_sample``: decided leads (``reached + lost_before``) a salesperson needs for a rate;
    - ``confidence``: level of the Wilson interval (default 0.95);
    - ``selected``: optional, one bool per row of ``transitions`` (in row order; NA = not selected): the
      stays of a selection (e.g. of some teams); only the leads whose first stay in the start stage is
      selected are counted, as in :func:`funnel_metrics.selection_funnel`. Default: every stay.

    A lead belongs to the salesperson (``user``) of its first stay in the start stage (NA = no salesperson,
    a group of its own). It has *reached* the target when it has a stay in the target stage or in a stage of
    higher sequence; otherwise it is *lost before* if its outcome is lost, *open* if it is still open. Open
    leads that have not reached the target are censored, not failures: they are left out of the rate.

    Output: one row per salesperson, index 0..n-1, sorted by ``rate`` descending (NaN last), then ``started``
    descending, then name; columns

    - ``user`` (string), ``started``, ``reached``, ``lost_before``, ``open`` (int64 leads);
    - ``rate`` (float64 fraction): ``reached / (reached + lost_before)``;
    - ``ci_low``, ``ci_high`` (float64): Wilson score interval of the rate (see
      :func:`funnel_metrics.wilson_interval`);
    - ``enough_data`` (bool): ``reached + lost_before >= max(min_sample, 1)``; ``rate`` and the interval
      are NaN when not, so that small samples are not ranked as if they were known.

    ``started`` >= ``reached + lost_before + open`` (a won lead that never reached the target, e.g. won from
    an earlier stage, is in none of them).

    The rate estimates the salesperson's conversion without bias from open leads when the target is the
    next stage (or when the leads have had time to resolve). For a target several stages ahead in a young
    pipeline, the leads decided so far over-represent those lost early (losing early is quicker than going
    far), so the rate is then biased low; the stage-by-stage product of
    :func:`funnel_metrics.calibration` corrects that.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: unknown stage, a target not after the start stage, ``min_sample`` < 0, a bad
            ``confidence``, or ``selected`` not one bool per row.
    """
    normal_quantile(confidence)
    if int(min_sample) < 0:
        raise ValueError(f"min_sample must be >= 0, got {min_sample!r}")
    table = _validated(transitions)
    mask = _selection(selected, len(table))
    facts = _Facts(table)
    if facts.n_stages == 0:
        return _empty()
    start = 0 if start_stage is None else facts.stage_code(start_stage, "start_stage")
    target = facts.stage_code(target_stage, "target_stage")
    if facts.stage_seq[target] <= facts.stage_seq[start]:
        raise ValueError(
            f"target_stage {target_stage!r} must come after the start stage "
            f"{facts.stages['stage'].iloc[start]!r} in the pipeline (higher stage_sequence)"
        )
    started = np.flatnonzero(facts.has[:, start])
    row = facts.first_row[started, start]
    if mask is not None:
        started, row = started[mask[row]], row[mask[row]]
    codes, labels = _factorize_groups(table["user"].iloc[row].reset_index(drop=True))
    n_users = len(labels)
    reached = facts.reached[started, target]
    outcome = facts.outcome[started]

    def per_user(mask: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(codes if mask is None else codes[mask], minlength=n_users).astype("int64")

    result = pd.DataFrame(
        {
            "user": labels.astype("string").reset_index(drop=True),
            "started": per_user(),
            "reached": per_user(reached),
            "lost_before": per_user(~reached & (outcome == LOST)),
            "open": per_user(~reached & (outcome == OPEN)),
        }
    )
    decided = (result["reached"] + result["lost_before"]).to_numpy(dtype="float64")
    enough = decided >= max(int(min_sample), 1)
    rate = np.full(n_users, np.nan)
    np.divide(result["reached"].to_numpy(dtype="float64"), decided, out=rate, where=enough)
    low, high = wilson_interval(result["reached"].to_numpy(), decided, confidence)
    result["rate"] = rate
    result["ci_low"] = np.where(enough, low, np.nan)
    result["ci_high"] = np.where(enough, high, np.nan)
    result["enough_data"] = enough
    result = result.sort_values(
        ["rate", "started", "user"], ascending=[False, False, True], na_position="last", kind="stable"
    )
    return result.reset_index(drop=True)


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype="int64") for column in EFFECTIVENESS_COLUMNS})
    return frame.astype(
        {"user": "string", "rate": "float64", "ci_low": "float64", "ci_high": "float64", "enough_data": bool}
    )
