"""cost_per_lead on a hand-counted scenario: attribution to source and period, costs without leads."""

from __future__ import annotations

import pandas as pd
import pytest

from funnel_metrics import TransitionsError, cost_per_lead

NAN = float("nan")
NA = None

# days since 2024-01-01; the source of each stay is given beside it
STAYS = [
    ((1, "New", 1, 4, 6, "open"), "web"),
    ((1, "Qualified", 2, 6, None, "open"), "web"),  # L1 web, January, qualified
    ((2, "New", 1, 19, None, "open"), "web"),  # L2 web, January
    ((3, "New", 1, 32, 33, "lost"), "web"),
    ((3, "Proposal", 3, 33, 35, "lost"), "web"),  # L3 web, February, qualified by skipping past it
    ((4, "New", 1, 9, 12, "lost"), "event"),  # L4 event, January
    ((5, "New", 1, 2, 3, "won"), NA),
    ((5, "Qualified", 2, 3, 8, "won"), NA),
    ((5, "Won", 9, 8, None, "won"), NA),  # L5 no source, January, qualified
    ((6, "New", 1, 40, 41, "open"), "event"),  # L6 event (its first stay), February
    ((6, "Qualified", 2, 41, None, "open"), "web"),
]
COSTS = pd.DataFrame(
    {
        "source": ["web", "web", "event", "tv"],
        "period": ["2024-01", "2024-01-15", "2024-02-01", "2024-01"],
        "cost": [300.0, 100.0, 50.0, 70.0],
    }
)


def frame_of(make_transitions) -> pd.DataFrame:
    frame = make_transitions([stay for stay, _ in STAYS])
    frame["source"] = pd.Series([source for _, source in STAYS], index=frame.index, dtype=object)
    return frame


def expected_frame(rows: list[tuple], by: str = "source") -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=[by, "period", "leads", "cost", "cost_per_lead", "qualified", "cost_per_qualified"]
    )
    frame["period"] = pd.to_datetime(frame["period"], utc=True).astype("datetime64[ns, UTC]")
    return frame.astype({by: "string", "leads": "int64", "cost": "float64", "qualified": "int64"})


def test_cost_per_lead_and_per_qualified_lead_by_source_and_month(make_transitions):
    expected = expected_frame(
        [
            ("event", "2024-01-01", 1, 0.0, 0.0, 0, NAN),  # L4: a lead without cost costs 0
            ("event", "2024-02-01", 1, 50.0, 50.0, 1, 50.0),  # L6, by the source of its first stay
            ("tv", "2024-01-01", 0, 70.0, NAN, 0, NAN),  # money spent, no lead
            ("web", "2024-01-01", 2, 400.0, 200.0, 1, 400.0),  # two cost rows of January added up
            ("web", "2024-02-01", 1, 0.0, 0.0, 1, 0.0),
            (NA, "2024-01-01", 1, 0.0, 0.0, 1, 0.0),  # L5 has no source
        ]
    )
    pd.testing.assert_frame_equal(cost_per_lead(frame_of(make_transitions), COSTS), expected)


def test_qualified_stage_and_quarters(make_transitions):
    result = cost_per_lead(frame_of(make_transitions), COSTS, qualified_stage="Proposal", freq="QS")
    expected = expected_frame(
        [
            ("event", "2024-01-01", 2, 50.0, 25.0, 0, NAN),
            ("tv", "2024-01-01", 0, 70.0, NAN, 0, NAN),
            ("web", "2024-01-01", 3, 400.0, 400 / 3, 1, 400.0),  # only L3 got to Proposal
            (NA, "2024-01-01", 1, 0.0, 0.0, 1, 0.0),  # L5 was won: past Proposal
        ]
    )
    pd.testing.assert_frame_equal(result, expected)


@pytest.mark.parametrize(
    "periods",
    [
        pytest.param(
            pd.to_datetime(["2024-01-31", "2024-01-01", "2024-02-29", "2024-01-02"]), id="timestamps"
        ),
        pytest.param(pd.PeriodIndex(["2024-01", "2024-01", "2024-02", "2024-01"], freq="M"), id="periods"),
        pytest.param(["2024-01-31T12:00:00Z", "2024-01-01", "2024-02-01 08:00", "2024-01-09"], id="strings"),
    ],
)
def test_periods_in_any_form_are_normalised_to_the_period_start(make_transitions, periods):
    costs = COSTS.assign(period=periods)
    result = cost_per_lead(frame_of(make_transitions), costs)
    pd.testing.assert_frame_equal(result, cost_per_lead(frame_of(make_transitions), COSTS))


def test_naive_periods_are_utc_and_aware_ones_are_converted(make_transitions):
    costs = pd.DataFrame(
        {
            "source": ["web", "web"],
            "period": ["2024-01-31T23:00:00-05:00", "2024-01-31T23:00:00"],
            "cost": [1.0, 2.0],
        }
    )
    result = cost_per_lead(frame_of(make_transitions), costs).set_index(["source", "period"])
    assert result.loc[("web", pd.Timestamp("2024-02-01", tz="UTC")), "cost"] == 1.0
    assert result.loc[("web", pd.Timestamp("2024-01-01", tz="UTC")), "cost"] == 2.0


def test_by_an_extra_column(make_transitions):
    frame = frame_of(make_transitions)
    frame["campaign"] = frame["lead_id"].map(
        {1: "spring", 2: "spring", 3: "fair", 4: "fair", 5: "spring", 6: NA}
    )
    costs = pd.DataFrame(
        {"campaign": ["spring", "fair"], "period": ["2024-01", "2024-02"], "cost": [90.0, 10.0]}
    )
    result = cost_per_lead(frame, costs, by="campaign")
    expected = expected_frame(
        [
            ("fair", "2024-01-01", 1, 0.0, 0.0, 0, NAN),
            ("fair", "2024-02-01", 1, 10.0, 10.0, 1, 10.0),
            ("spring", "2024-01-01", 3, 90.0, 30.0, 2, 45.0),
            (NA, "2024-02-01", 1, 0.0, 0.0, 1, 0.0),
        ],
        by="campaign",
    )
    pd.testing.assert_frame_equal(result, expected)


def test_missing_by_column_in_the_transitions_names_it(make_transitions):
    costs = pd.DataFrame({"campaign": ["x"], "period": ["2024-01"], "cost": [1.0]})
    with pytest.raises(TransitionsError, match="needs a 'campaign' column in the transitions table"):
        cost_per_lead(frame_of(make_transitions), costs, by="campaign")


@pytest.mark.parametrize(
    ("costs", "message"),
    [
        pytest.param(COSTS.drop(columns=["cost"]), r"missing column\(s\): cost", id="no-cost"),
        pytest.param(COSTS.assign(cost=["1", "two", "3", "4"]), "cannot read 'two'", id="bad-cost"),
        pytest.param(COSTS.assign(period=["2024-01", "someday", "2024-02", None]), "period", id="bad-period"),
    ],
)
def test_bad_costs_are_refused(make_transitions, costs, message):
    with pytest.raises(ValueError, match=message):
        cost_per_lead(frame_of(make_transitions), costs)
