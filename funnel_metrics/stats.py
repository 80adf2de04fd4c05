"""Small statistical helpers shared by the funnel metrics (confidence intervals of proportions)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

ArrayLike = float | int | Sequence[float] | np.ndarray


def normal_quantile(confidence: float) -> float:
    """The two-sided standard normal quantile of a confidence level (1.959963984540054 for 0.95).

    Raises:
        ValueError: ``confidence`` is not strictly between 0 and 1.
    """
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion, element-wise.

    Inputs (broadcast against each other, like numpy arithmetic):

    - ``successes``: counts of successes, 0 <= successes <= trials;
    - ``trials``: counts of trials, >= 0;
    - ``confidence``: two-sided confidence level, strictly between 0 and 1 (default 0.95).

    Output: ``(low, high)``, two float64 arrays of the broadcast shape (0-d arrays for scalar inputs),
    fractions in [0, 1]: the Wilson score interval of ``successes / trials``. Unlike the normal ("Wald")
    interval it stays inside [0, 1] and does not collapse to a point at 0 or at ``trials`` successes (0 of 10
    at 95 %: [0, 0.2775]). ``low`` is exactly 0 when there is no success and ``high`` exactly 1 when every
    trial succeeded. Both are NaN where ``trials`` is 0 (nothing to estimate).

    Raises:
        ValueError: a count is negative, NaN or infinite, ``successes`` exceeds ``trials``, or
            ``confidence`` is out of range.
    """
    z = normal_quantile(confidence)
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    k, n = np.broadcast_arrays(k, n)
    if not (np.isfinite(k).all() and np.isfinite(n).all()):
        raise ValueError("successes and trials must be finite numbers (found NaN or infinity)")
    if (k < 0).any() or (n < 0).any():
        raise ValueError("successes and trials must be >= 0")
    if (k > n).any():
        raise ValueError("successes cannot exceed trials")
    low = np.full(k.shape, np.nan)
    high = np.full(k.shape, np.nan)
    some = n > 0
    kk, nn = k[some], n[some]
    p = kk / nn
    z2 = z * z
    denominator = 1.0 + z2 / nn
    centre = (p + z2 / (2.0 * nn)) / denominator
    half = z / denominator * np.sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn))
    low[some] = np.where(kk == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high[some] = np.where(kk == nn, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high
