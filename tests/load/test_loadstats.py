"""The load test's pure parts: the mix, the classification of Odoo's answers, percentiles and the summary."""

import math
import random
from collections import Counter

import loadstats as ls
import pytest


def test_percentile_interpolates_between_ranks_as_numpy_does():
    values = [15, 20, 35, 40, 50]
    assert ls.percentile(values, 0) == 15
    assert ls.percentile(values, 50) == 35
    assert ls.percentile(values, 100) == 50
    assert ls.percentile(values, 95) == pytest.approx(48.0)  # numpy.percentile gives 48.0
    assert ls.percentile([7.0], 95) == 7.0
    assert ls.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_percentile_of_nothing_is_nan_and_refuses_a_bad_rank():
    assert math.isnan(ls.percentile([], 50))
    with pytest.raises(ValueError, match="within 0 and 100"):
        ls.percentile([1, 2], 101)


def test_product_refusals_are_told_apart_from_errors():
    refusal = {"name": "odoo.exceptions.UserError", "message": "Lead would be left without a next step."}
    assert ls.classify(422, refusal) == (ls.REFUSAL, "Lead would be left without a next step.")
    for name in ("ValidationError", "AccessError"):
        kind, _message = ls.classify(403, {"name": f"odoo.exceptions.{name}", "message": "no"})
        assert kind == ls.REFUSAL
    kind, message = ls.classify(500, {"name": "builtins.KeyError", "message": "'stage_id'"})
    assert kind == ls.ERROR and "KeyError" in message and "500" in message
    assert ls.classify(502, "<html>Bad Gateway</html>")[0] == ls.ERROR
    assert ls.classify(404, {"name": "werkzeug.exceptions.NotFound", "message": "nope"})[0] == ls.ERROR


def test_serialization_failures_and_deadlocks_that_reach_a_user_are_counted_apart():
    failure = {"name": "psycopg2.errors.SerializationFailure", "message": "could not serialize access"}
    assert ls.classify(500, failure)[0] == ls.CONCURRENCY
    deadlock = {"name": "psycopg2.errors.DeadlockDetected", "message": "deadlock detected"}
    assert ls.classify(500, deadlock)[0] == ls.CONCURRENCY
    # JSON-RPC's envelope (the survey's pages): the error is under "error", its details under "data"
    envelope = {"error": {"code": 200, "data": {"name": "psycopg2.errors.DeadlockDetected", "message": "x"}}}
    assert ls.classify(200, envelope)[0] == ls.CONCURRENCY


def test_an_answer_is_ok_whatever_its_shape():
    assert ls.classify(200, [1, 2]) == (ls.OK, "")
    assert ls.classify(200, {"length": 0, "records": []}) == (ls.OK, "")
    assert ls.classify(200, None) == (ls.OK, "")


def test_the_mix_follows_the_role_the_team_and_the_side():
    rep = ls.mix("rep", can_stage=True, can_qualify=False, native=False)
    assert ls.STAGE in rep and ls.QUALIFY not in rep
    field_rep = ls.mix("rep", can_stage=False, can_qualify=True, native=False)
    assert ls.QUALIFY in field_rep and ls.STAGE not in field_rep
    manager = ls.mix("manager", can_stage=True, can_qualify=True, native=False)
    assert manager[ls.FUNNEL] > rep[ls.FUNNEL]
    native = ls.mix("manager", can_stage=True, can_qualify=True, native=True)
    assert set(native) == ls.NATIVE_CALLS == {ls.PIPELINE, ls.LEAD_FORM, ls.COMPLETE, ls.STAGE}
    assert all(native[name] == manager[name] for name in native)


def test_sampling_follows_the_weights_and_the_seed():
    weights = {"a": 1, "b": 3, "c": 6}
    rng = random.Random(42)
    counts = Counter(ls.pick(rng, weights) for _ in range(20_000))
    for name, weight in weights.items():
        assert counts[name] / 20_000 == pytest.approx(weight / 10, abs=0.02)
    first = [ls.pick(random.Random(3), weights) for _ in range(5)]
    assert first == [ls.pick(random.Random(3), weights) for _ in range(5)]
    assert ls.pick(random.Random(1), {"only": 1}) == "only"


def test_think_time_is_bounded():
    rng = random.Random(5)
    waits = [ls.think(rng, 2.0) for _ in range(5_000)]
    assert max(waits) <= 8.0 and min(waits) >= 0
    assert sum(waits) / len(waits) == pytest.approx(2.0, rel=0.1)
    assert ls.think(rng, 0) == 0


def test_summary_per_call_and_ratio_to_native():
    samples = [
        {"call": ls.PIPELINE, "ms": ms, "kind": ls.OK, "message": ""} for ms in (100, 200, 300, 400, 500)
    ] + [
        {"call": ls.STAGE, "ms": 50, "kind": ls.REFUSAL, "message": "needs a next step"},
        {"call": ls.STAGE, "ms": 60, "kind": ls.REFUSAL, "message": "needs a next step"},
        {"call": ls.STAGE, "ms": 70, "kind": ls.ERROR, "message": "HTTP 500 boom"},
    ]
    summary = ls.summarize(samples, seconds=10)
    pipeline, stage = summary[ls.PIPELINE], summary[ls.STAGE]
    assert (pipeline["count"], pipeline["p50_ms"], pipeline["max_ms"], pipeline["per_s"]) == (
        5,
        300,
        500,
        0.5,
    )
    assert pipeline["p95_ms"] == 480
    assert (stage["refusal"], stage["error"], stage["concurrency"]) == (2, 1, 0)
    assert stage["refusal_messages"] == ["needs a next step"]
    native = ls.summarize(
        [{"call": ls.PIPELINE, "ms": ms, "kind": ls.OK, "message": ""} for ms in (100, 400)]
        + [{"call": ls.STAGE, "ms": 70, "kind": ls.OK, "message": ""}],
        seconds=10,
    )
    ratios = ls.ratios({**summary, ls.MY_DAY: pipeline}, native)
    assert set(ratios) == {ls.PIPELINE, ls.STAGE}  # My Day has no native counterpart
    assert ratios[ls.PIPELINE]["ratio"] == pytest.approx(480 / 385, abs=0.01)
    assert ratios[ls.PIPELINE]["met"] is False
    assert ratios[ls.STAGE]["met"] is True
