"""Stage-to-stage conversion of a funnel, counted in distinct leads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel_metrics.funnel import _Facts, _validated

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
    facts = _Facts(_validated(transitions))
    counts = {name: count[0] for name, count in facts.counts().items()}  # one group: the whole table
    result = facts.stages.copy()
    for column in ("entered", "advanced", "lost", "open"):
        result[column] = counts[column]
    decided = (counts["advanced"] + counts["lost"]).astype("float64")
    rate = np.full(facts.n_stages, np.nan)
    np.divide(counts["advanced"].astype("float64"), decided, out=rate, where=decided > 0)
    result["conversion_rate"] = rate
    return result
