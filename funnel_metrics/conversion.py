"""Stage-to-stage conversion of a funnel, counted in distinct leads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel_metrics.transitions import _stage_codes, validate_transitions

CONVERSION_COLUMNS: tuple[str, ...] = (
    "stage",
    "stage_sequence",
    "entered",
    "advanced",
    "lost",
    "open",
    "conversion_rate",
)


def stage_conversion(transitions: pd.DataFrame) -> pd.DataFrame:
    """Per stage: how many leads entered it, moved on to a later stage, were lost in it, are still in it.

    Input: a transitions table (see :mod:`funnel_metrics.transitions`; it is validated first, so a raw frame
    with the right columns is accepted).

    Output: one row per stage, keyed by (``stage``, ``stage_sequence``) -- two stages with the same name but
    different sequences are two rows -- in pipeline order (by sequence, then name), index 0..n-1, columns:

    - ``stage`` (string), ``stage_sequence`` (int64);
    - ``entered`` (int64, leads): distinct leads with at least one stay in the stage (a lead that enters the
      stage twice counts once);
    - ``advanced`` (int64, leads): of those, the leads with a stay in a stage of higher ``stage_sequence``
      that began at or after their first entry into this stage. The won stage is simply the last stage, so
      reaching it counts as advancing; the won stage itself has ``advanced`` = 0;
    - ``lost`` (int64, leads): leads whose outcome is ``lost``, whose last stay (latest ``entered_at``, ties
      broken by the higher sequence) is in this stage, and that did not advance from it;
    - ``open`` (int64, leads): the same for leads whose outcome is ``open`` (still in the pipeline);
    - ``conversion_rate`` (float64, fraction in [0, 1]): ``advanced / (advanced + lost)``; NaN when that
      denominator is 0. Open leads are not failures, so they are left out of the rate.

    ``entered`` >= ``advanced + lost + open``: a lead can be in none of the three for a stage, e.g. it moved
    back to an earlier stage and ended there, or it is won without having passed through a later stage.

    An empty table gives an empty frame with these columns and dtypes.
    """
    table = validate_transitions(transitions)
    stages, codes = _stage_codes(table)
    n_stages = len(stages)
    result = stages.copy()
    if n_stages == 0:
        for column in ("entered", "advanced", "lost", "open"):
            result[column] = pd.Series(dtype="int64")
        result["conversion_rate"] = pd.Series(dtype="float64")
        return result

    stage_seq = stages["stage_sequence"].to_numpy()
    lead = table["lead_id"].to_numpy(dtype="int64")
    seq = table["stage_sequence"].to_numpy(dtype="int64")
    entered_at = table["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")

    # Stays of each lead in time order; among stays entered at the same instant the later stage comes last
    # (codes follow the pipeline order), so the last row of a lead is its last stay (latest entered_at, ties
    # broken by the higher sequence).
    order = np.lexsort((codes, entered_at, lead))
    stays = pd.DataFrame(
        {
            "lead": lead[order],
            "entered_at": entered_at[order],
            "code": codes[order],
            "seq": seq[order],
            "outcome": table["outcome"].to_numpy(dtype=object)[order],
        }
    )
    # Highest sequence among the stays of the lead that began at or after this stay began: a suffix maximum
    # in that order. Stays that began at the same instant count as "after" each other; those sorted before
    # this one have a lower (or equal) sequence, so leaving them out of its suffix changes nothing.
    reversed_stays = stays.iloc[::-1]
    stays["later_max_seq"] = reversed_stays.groupby("lead", sort=False)["seq"].cummax().iloc[::-1]

    last_of_lead = np.r_[stays["lead"].to_numpy()[1:] != stays["lead"].to_numpy()[:-1], True]
    last = stays.loc[last_of_lead, ["lead", "code", "outcome"]].set_index("lead")

    # later_max_seq only decreases over a lead's stays, so its maximum over the stays in a stage is its value
    # at the first entry into that stage.
    pairs = stays.groupby(["lead", "code"], sort=False, as_index=False)["later_max_seq"].max()
    pair_code = pairs["code"].to_numpy()
    advanced = pairs["later_max_seq"].to_numpy() > stage_seq[pair_code]
    ends_here = (pairs["lead"].map(last["code"]).to_numpy() == pair_code) & ~advanced
    final_outcome = pairs["lead"].map(last["outcome"]).to_numpy(dtype=object)

    def per_stage(mask: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(pair_code if mask is None else pair_code[mask], minlength=n_stages).astype("int64")

    result["entered"] = per_stage()
    result["advanced"] = per_stage(advanced)
    result["lost"] = per_stage(ends_here & (final_outcome == "lost"))
    result["open"] = per_stage(ends_here & (final_outcome == "open"))
    decided = (result["advanced"] + result["lost"]).to_numpy(dtype="float64")
    rate = np.full(n_stages, np.nan)
    np.divide(result["advanced"].to_numpy(dtype="float64"), decided, out=rate, where=decided > 0)
    result["conversion_rate"] = rate
    return result
