"""wilson_interval: published values, the score-test identity at its bounds, coverage, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from funnel_metrics import wilson_interval
from funnel_metrics.stats import normal_quantile


@pytest.mark.parametrize(
    ("successes", "trials", "confidence", "low", "high"),
    [
        # Values of the Wilson score interval as tabulated (e.g. Newcombe 1998, Brown-Cai-DasGupta 2001).
        pytest.param(0, 10, 0.95, 0.0, 0.2775, id="0-of-10"),
        pytest.param(1, 10, 0.95, 0.0179, 0.4042, id="1-of-10"),
        pytest.param(5, 10, 0.95, 0.2366, 0.7634, id="5-of-10"),
        pytest.param(10, 10, 0.95, 0.7225, 1.0, id="10-of-10"),
        pytest.param(81, 263, 0.95, 0.2553, 0.3662, id="81-of-263"),
        # by hand: z = 2.5758, centre 0.5, half-width z / (1 + z^2/10) * sqrt(0.025 + z^2/400) = 0.3158
        pytest.param(5, 10, 0.99, 0.1842, 0.8158, id="5-of-10-at-99"),
    ],
)
def test_known_values(successes, trials, confidence, low, high):
    got_low, got_high = wilson_interval(successes, trials, confidence)
    assert got_low.shape == () and got_high.shape == ()
    assert float(got_low) == pytest.approx(low, abs=1e-4)
    assert float(got_high) == pytest.approx(high, abs=1e-4)


def test_bounds_are_where_the_score_statistic_equals_z():
    """The Wilson interval is the set of p whose score test accepts k/n: |k/n - p| / sqrt(p(1-p)/n) = z at
    both ends (away from 0 and n successes)."""
    k = np.array([1, 3, 7, 20, 49])
    n = np.array([5, 10, 30, 40, 50])
    z = normal_quantile(0.9)
    low, high = wilson_interval(k, n, 0.9)
    for bound, sign in ((low, 1.0), (high, -1.0)):
        score = sign * (k / n - bound) / np.sqrt(bound * (1 - bound) / n)
        np.testing.assert_allclose(score, z, rtol=1e-10)


def test_nan_without_trials_and_exact_ends():
    low, high = wilson_interval([0, 0, 3, 4], [0, 4, 4, 4])
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert low[1] == 0.0 and high[3] == 1.0  # exactly, not 1e-17 off
    assert 0 < low[2] < 0.75 < high[2] < 1


def test_vectorised_with_broadcasting():
    low, high = wilson_interval(np.array([[0], [1]]), np.array([1, 4, 10]))
    assert low.shape == high.shape == (2, 3)
    for i, k in enumerate([0, 1]):
        for j, n in enumerate([1, 4, 10]):
            one_low, one_high = wilson_interval(k, n)
            assert (low[i, j], high[i, j]) == (float(one_low), float(one_high))


def test_interval_contains_the_estimate_and_narrows_with_more_trials():
    trials = np.array([10, 100, 1000, 10000])
    low, high = wilson_interval(trials * 3 // 10, trials)
    assert ((low < 0.3) & (high > 0.3)).all()
    assert (np.diff(high - low) < 0).all()


def test_coverage_is_close_to_the_confidence_level():
    rng = np.random.default_rng(11)
    truth, trials = 0.3, 60
    successes = rng.binomial(trials, truth, 5000)
    low, high = wilson_interval(successes, trials, 0.95)
    coverage = float(((low <= truth) & (truth <= high)).mean())
    assert 0.93 <= coverage <= 0.97


@pytest.mark.parametrize(
    ("successes", "trials", "confidence", "message"),
    [
        pytest.param(5, 4, 0.95, "cannot exceed", id="more-successes-than-trials"),
        pytest.param(-1, 4, 0.95, ">= 0", id="negative"),
        pytest.param(np.nan, 4, 0.95, "finite", id="nan"),
        pytest.param(1, 4, 95, "between 0 and 1", id="confidence-in-percent"),
        pytest.param(1, 4, 0.0, "between 0 and 1", id="confidence-zero"),
    ],
)
def test_bad_input_is_refused(successes, trials, confidence, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, trials, confidence)
