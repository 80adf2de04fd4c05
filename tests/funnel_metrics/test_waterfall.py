"""The demand waterfall: a simulated waterfall's known truth recovered while many leads are still open, and
small hand-built tables whose answer is known row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import (
    PHASE_STAY_COLUMNS,
    kaplan_meier,
    rejection_reasons,
    sales_accepted_cost,
    simulate_waterfall,
    waterfall,
    wilson_interval,
)
from funnel_metrics.waterfall import WATERFALL_COLUMNS, WATERFALL_COUNTS

T0 = pd.Timestamp("2024-01-01T00:00:00Z")
PHASES = {
    "Inquiry": (10, "progress"),
    "Marketing Qualified": (20, "progress"),
    "Sales Accepted": (30, "progress"),
    "Sales Qualified": (40, "progress"),
    "Won": (60, "won"),
    "Lost": (70, "lost"),
    "Recycled": (80, "recycled"),
    "Disqualified": (90, "disqualified"),
}


def day(offset: float | None) -> pd.Timestamp | None:
    return None if offset is None else T0 + pd.Timedelta(days=offset)


def stays_table(rows: list[tuple]) -> pd.DataFrame:
    """Rows ``(lead, phase, entered_day, left_day or None, team, campaign)`` as a raw phase stays frame."""
    records = []
    for lead, phase, entered, left, team, campaign in rows:
        sequence, kind = PHASES[phase]
        records.append(
            {
                "lead_id": lead,
                "phase": phase,
                "phase_sequence": sequence,
                "phase_kind": kind,
                "entered_at": day(entered),
                "left_at": day(left),
                "team": team,
                "user": None,
                "source": "web",
                "medium": None,
                "campaign": campaign,
                "country": None,
                "origin": None,
            }
        )
    return pd.DataFrame(records, columns=list(PHASE_STAY_COLUMNS))


def handoff(number: int, lead: int, phase: str, sent: float, decided: float | None, state: str, **extra):
    return {
        "handoff_id": number,
        "lead_id": lead,
        "route": "Marketing to Inside Sales",
        "from_team": "Marketing",
        "to": "Inside Sales",
        "phase": phase,
        "sent_at": day(sent),
        "decided_at": day(decided),
        "state": state,
        "auto_accepted": extra.get("auto", False),
        "reason": extra.get("reason"),
        "team": extra.get("team", "Marketing"),
        "source": "web",
        "medium": None,
        "campaign": extra.get("campaign", "spring"),
        "country": None,
    }


# ------------------------------------------------------------------------------------------------------
# a hand-built waterfall
# ------------------------------------------------------------------------------------------------------

# lead 1: Inquiry -> MQL -> accepted into SAL (Inside Sales), still there
# lead 2: Inquiry -> MQL -> rejected, recycled, back in Inquiry in February (campaign changed meanwhile)
# lead 3: Inquiry since 2 February, still open
# lead 4: Inquiry -> disqualified
# lead 5: Inquiry -> MQL -> lost
SMALL = [
    (1, "Inquiry", 0, 2, "Marketing", "spring"),
    (1, "Marketing Qualified", 2, 4, "Marketing", "spring"),
    (1, "Sales Accepted", 4, None, "Inside Sales", "spring"),
    (2, "Inquiry", 1, 3, "Marketing", "spring"),
    (2, "Marketing Qualified", 3, 5, "Marketing", "spring"),
    (2, "Recycled", 5, 31, "Marketing", "spring"),
    (2, "Inquiry", 31, None, "Marketing", "autumn"),
    (3, "Inquiry", 32, None, "Marketing", "spring"),
    (4, "Inquiry", 9, 10, "Marketing", "spring"),
    (4, "Disqualified", 10, None, "Marketing", "spring"),
    (5, "Inquiry", 10, 11, "Marketing", "spring"),
    (5, "Marketing Qualified", 11, 20, "Marketing", "spring"),
    (5, "Lost", 20, None, "Marketing", "spring"),
]
SMALL_HANDOFFS = [
    handoff(1, 1, "Marketing Qualified", 3, 4, "accepted", auto=True),
    handoff(2, 2, "Marketing Qualified", 4, 5, "rejected", reason="wrong_persona"),
    handoff(3, 5, "Marketing Qualified", 12, 13, "rejected", reason="wrong_persona"),
    handoff(4, 5, "Marketing Qualified", 14, 16, "returned"),
]


def counts(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> dict:
    return {tuple(row[k] for k in keys): tuple(row[c] for c in columns) for _, row in frame.iterrows()}


OUTCOME = ["entered", "advanced", "recycled", "disqualified", "lost", "open"]


def test_small_waterfall_counts_each_lead_once_per_phase():
    result = waterfall(stays_table(SMALL), pd.DataFrame(SMALL_HANDOFFS))
    assert list(result.columns) == list(WATERFALL_COLUMNS)
    # the counts are whole numbers, every other column of the table is not
    integers = [column for column in result.columns if pd.api.types.is_integer_dtype(result[column])]
    assert set(integers) == {*WATERFALL_COUNTS, "phase_sequence"}
    assert result["phase"].tolist() == [
        "Inquiry",
        "Marketing Qualified",
        "Sales Accepted",
        "Lost",
        "Recycled",
        "Disqualified",
    ]
    assert counts(result, ["phase"], OUTCOME) == {
        # lead 2 advanced before being recycled: its second stay does not make it a new Inquiry
        ("Inquiry",): (5, 3, 0, 1, 0, 1),
        ("Marketing Qualified",): (3, 1, 1, 0, 1, 0),
        ("Sales Accepted",): (1, 0, 0, 0, 0, 1),
        ("Lost",): (1, 0, 0, 0, 0, 1),
        ("Recycled",): (1, 0, 0, 0, 0, 0),
        ("Disqualified",): (1, 0, 0, 0, 0, 1),
    }
    inquiry = result.iloc[0]
    assert inquiry["conversion_rate"] == pytest.approx(3 / 4)  # the open lead is not a failure
    low, high = wilson_interval(3, 4)
    assert (inquiry["ci_low"], inquiry["ci_high"]) == pytest.approx((float(low), float(high)))
    assert (inquiry["stays"], inquiry["open_stays"]) == (6, 2)
    mql = result.iloc[1]
    assert mql["conversion_rate"] == pytest.approx(1 / 3)
    assert counts(
        result.iloc[[1]],
        ["phase"],
        ["handed_over", "accepted", "auto_accepted", "rejected", "returned", "awaiting"],
    ) == {("Marketing Qualified",): (4, 1, 1, 2, 1, 0)}
    assert mql["acceptance_rate"] == pytest.approx(1 / 4)  # the returned one counts as not accepted
    # decisions after 1, 1, 1 and 2 days: the median is 24 hours
    assert mql["median_hours_to_decision"] == pytest.approx(24.0)
    outcome_rows = result[result["phase_kind"] != "progress"]
    assert outcome_rows["conversion_rate"].isna().all() and (outcome_rows["advanced"] == 0).all()
    assert result.attrs["as_of"] == day(32)  # the latest timestamp of the tables


def test_time_in_phase_is_the_kaplan_meier_of_the_stays_with_open_ones_censored():
    as_of = day(40)
    result = waterfall(stays_table(SMALL), as_of=as_of).set_index("phase")
    # Inquiry stays: 2, 2, 1, 1 days closed; lead 2 since day 31 and lead 3 since day 32, open at day 40
    curve = kaplan_meier([2, 2, 1, 1, 9, 8], [True, True, True, True, False, False])
    median = curve.loc[curve["survival"] <= 0.5 + 1e-9, "time"].iloc[0]
    assert result.loc["Inquiry", "median_days"] == pytest.approx(median) == pytest.approx(2.0)
    assert np.isnan(result.loc["Inquiry", "p90_days"])  # a third of the stays are still open
    assert result.attrs["as_of"] == as_of


def test_groups_by_the_stay_in_the_phase_and_periods_by_the_first_entry():
    result = waterfall(stays_table(SMALL), pd.DataFrame(SMALL_HANDOFFS), by="team", period="month")
    assert result.columns[:2].tolist() == ["team", "period"]
    got = counts(result, ["team", "period", "phase"], ["entered", "advanced", "open", "stays", "handed_over"])
    assert got == {
        # lead 2's second Inquiry stay (February) is a stay of February, not a new passage
        ("Inside Sales", "2024-01-01", "Sales Accepted"): (1, 0, 1, 1, 0),
        ("Marketing", "2024-01-01", "Inquiry"): (4, 3, 0, 4, 0),
        ("Marketing", "2024-01-01", "Marketing Qualified"): (3, 1, 0, 3, 4),
        ("Marketing", "2024-01-01", "Lost"): (1, 0, 1, 1, 0),
        ("Marketing", "2024-01-01", "Recycled"): (1, 0, 0, 1, 0),
        ("Marketing", "2024-01-01", "Disqualified"): (1, 0, 1, 1, 0),
        ("Marketing", "2024-02-01", "Inquiry"): (1, 0, 1, 2, 0),
    }
    by_campaign = waterfall(stays_table(SMALL), by="campaign").set_index(["campaign", "phase"])
    # a lead is counted under the campaign of its first stay in the phase, a stay under its own
    assert by_campaign.loc[("spring", "Inquiry"), ["entered", "stays"]].tolist() == [5, 5]
    assert by_campaign.loc[("autumn", "Inquiry"), ["entered", "stays"]].tolist() == [0, 1]


def test_periods_are_counted_in_the_time_zone_and_labelled_by_their_first_day():
    rows = [(1, "Inquiry", 30.99, None, "Marketing", "spring")]  # 31 January 23:45 UTC
    utc = waterfall(stays_table(rows), period="month")
    brussels = waterfall(stays_table(rows), period="month", tz="Europe/Brussels")
    assert utc["period"].tolist() == ["2024-01-01"] and brussels["period"].tolist() == ["2024-02-01"]
    week = waterfall(stays_table(rows), period="week")["period"].tolist()
    quarter = waterfall(stays_table(rows), period="quarter", tz="Europe/Brussels")["period"].tolist()
    assert week == ["2024-01-29"] and quarter == ["2024-01-01"]  # a Monday; Q1


def test_handoffs_grouped_by_user_take_the_user_of_the_lead_in_that_phase():
    stays = stays_table(SMALL)
    stays["user"] = np.where(stays["lead_id"] == 5, "eve", "dan")
    result = waterfall(stays, pd.DataFrame(SMALL_HANDOFFS), by="user").set_index(["user", "phase"])
    assert result.loc[("dan", "Marketing Qualified"), ["handed_over", "accepted"]].tolist() == [2, 1]
    assert result.loc[("eve", "Marketing Qualified"), ["handed_over", "rejected", "returned"]].tolist() == [
        2,
        1,
        1,
    ]


def test_targets_most_specific_first():
    targets = pd.DataFrame(
        {
            "phase": ["Inquiry", "Inquiry", "Marketing Qualified"],
            "team": [None, "Marketing", None],
            "target_conversion_rate": [0.5, 0.8, 0.4],
            "target_days_in_phase": [3, None, 5],
        }
    )
    result = waterfall(stays_table(SMALL), by="team", targets=targets).set_index(["team", "phase"])
    assert result.loc[("Marketing", "Inquiry"), ["target_conversion_rate", "target_days"]].tolist() == [
        0.8,
        3,
    ]
    assert result.loc[("Marketing", "Marketing Qualified"), "target_days"] == 5
    assert np.isnan(result.loc[("Inside Sales", "Sales Accepted"), "target_conversion_rate"])
    plain = waterfall(stays_table(SMALL), targets=targets).set_index("phase")
    assert plain.loc["Inquiry", "target_conversion_rate"] == 0.5  # no team: the phase-wide target
    with pytest.raises(ValueError, match="'phase' column"):
        waterfall(stays_table(SMALL), targets=targets.rename(columns={"phase": "stage"}))


def test_rejection_reasons_share_of_the_phase_rejections():
    extra = handoff(5, 4, "Marketing Qualified", 9, 9.5, "rejected", reason="competitor", team="Events")
    result = rejection_reasons(pd.DataFrame([*SMALL_HANDOFFS, extra]), by="team")
    assert result.columns.tolist() == ["team", "phase", "reason", "rejected", "share"]
    assert counts(result, ["team", "reason"], ["rejected", "share"]) == {
        ("Events", "competitor"): (1, 1.0),
        ("Marketing", "wrong_persona"): (2, 1.0),  # the returned handoff is not a rejection
    }
    with pytest.raises(ValueError, match="no 'user' column"):
        rejection_reasons(pd.DataFrame(SMALL_HANDOFFS), by="user")


def test_cost_per_sales_accepted_lead_per_campaign_and_month():
    costs = pd.DataFrame(
        {
            "campaign": ["spring", "autumn", "spring"],
            "period": ["2024-01", "2024-02", "2024-01-15"],
            "cost": [300.0, 50.0, 100.0],
        }
    )
    result = sales_accepted_cost(stays_table(SMALL), costs)
    assert result.columns.tolist() == [
        "campaign",
        "period",
        "entered",
        "sales_accepted",
        "cost",
        "cost_per_sales_accepted",
    ]
    got = counts(result, ["campaign", "period"], ["entered", "sales_accepted", "cost"])
    assert got == {
        ("autumn", "2024-02-01"): (0, 0, 50.0),
        ("spring", "2024-01-01"): (4, 1, 400.0),
        ("spring", "2024-02-01"): (1, 0, 0.0),
    }
    spring = result[(result["campaign"] == "spring") & (result["period"] == "2024-01-01")]
    assert spring["cost_per_sales_accepted"].item() == 400.0
    assert result.loc[result["campaign"] == "autumn", "cost_per_sales_accepted"].isna().all()
    with pytest.raises(ValueError, match="no phase 'Sales Qualified'"):
        sales_accepted_cost(stays_table(SMALL), costs, phase="Sales Qualified")
    with pytest.raises(ValueError, match="missing column"):
        sales_accepted_cost(stays_table(SMALL), costs.drop(columns="cost"))
    with pytest.raises(ValueError, match="by must be one of team, user"):
        sales_accepted_cost(stays_table(SMALL), costs, by="product")


def test_empty_table_and_a_single_phase():
    empty = waterfall(stays_table([]))
    assert empty.empty and list(empty.columns) == list(WATERFALL_COLUMNS)
    assert empty.attrs["as_of"] is None
    one = waterfall(stays_table([(1, "Inquiry", 0, None, "M", "a"), (2, "Inquiry", 1, None, "M", "a")]))
    assert one[OUTCOME].iloc[0].tolist() == [2, 0, 0, 0, 0, 2]
    assert np.isnan(one["conversion_rate"].iloc[0])  # nothing decided yet


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ({"by": "product"}, "by: group by"),
        ({"by": ["team", "team"]}, "by: group by"),
        ({"period": "year"}, "period must be"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"confidence": 1.5}, "confidence"),
    ],
)
def test_bad_arguments_are_refused(argument, message):
    with pytest.raises(ValueError, match=message):
        waterfall(stays_table(SMALL), **argument)


# ------------------------------------------------------------------------------------------------------
# the simulated waterfall: known truth, many leads still open
# ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    """60 000 leads over two months with slow phases, cut at the end: about 40 % of the leads are still in a
    phase of the waterfall; recycled leads do not come back, so each lead passes each phase at most once."""
    stays, handoffs, truth = simulate_waterfall(
        60_000, median_days=(4, 12, 8, 20, 40), re_entry=0.0, start="2024-01-01", end="2024-03-01", seed=7
    )
    return stays, handoffs, truth, waterfall(stays, handoffs, confidence=0.999).set_index("phase")


def test_many_leads_are_still_open(simulated):
    stays, _handoffs, _truth, _result = simulated
    last = stays.groupby("lead_id").tail(1)
    still_in_play = (last["phase_kind"] == "progress") & last["left_at"].isna()
    assert still_in_play.mean() >= 0.3


def test_conversion_per_phase_is_recovered_within_its_interval(simulated):
    _stays, _handoffs, truth, result = simulated
    for phase in truth["phases"]:
        row = result.loc[phase]
        assert row["open"] > 0
        assert row["ci_low"] <= truth["conversion"][phase] <= row["ci_high"], phase
    # failures are counted by kind: the recycled share of the decided leads is the recycling truth
    mql = result.loc["Marketing Qualified"]
    decided = mql[["advanced", "recycled", "disqualified", "lost"]].sum()
    low, high = wilson_interval(mql["recycled"], decided, 0.999)
    assert low <= truth["recycle"]["Marketing Qualified"] <= high


def test_time_per_phase_is_recovered_despite_censoring_where_closed_stays_alone_are_biased(simulated):
    stays, _handoffs, truth, result = simulated
    closed = stays[stays["left_at"].notna()]
    naive = (
        ((closed["left_at"] - closed["entered_at"]).dt.total_seconds() / 86_400)
        .groupby(closed["phase"])
        .median()
    )
    for phase in truth["phases"]:
        assert result.loc[phase, "median_days"] == pytest.approx(truth["median_days"][phase], rel=0.12), phase
    # the slow phases' open stays are the long ones: the closed ones alone say Opportunity takes a week
    assert naive["Opportunity"] < 0.5 * truth["median_days"]["Opportunity"]
    assert naive["Sales Qualified"] < 0.6 * truth["median_days"]["Sales Qualified"]


def test_acceptance_and_rejection_reasons_are_recovered(simulated):
    _stays, handoffs, truth, result = simulated
    for phase, acceptance in truth["acceptance"].items():
        row = result.loc[phase]
        decided = row["accepted"] + row["rejected"] + row["returned"]
        low, high = wilson_interval(row["accepted"], decided, 0.999)
        assert low <= acceptance <= high and row["acceptance_rate"] == pytest.approx(
            row["accepted"] / decided
        )
        assert row["median_hours_to_decision"] == pytest.approx(
            truth["median_hours_to_decision"][phase], rel=0.1
        )
    assert result.loc["Marketing Qualified", "awaiting"] > 0
    assert result.loc["Marketing Qualified", "auto_accepted"] == pytest.approx(
        0.2 * result.loc["Marketing Qualified", "accepted"], rel=0.1
    )
    reasons = rejection_reasons(handoffs).groupby("reason")["rejected"].sum()
    shares = reasons / reasons.sum()
    for reason, share in truth["reason_share"].items():
        assert shares[reason] == pytest.approx(share, abs=0.02), reason


def test_recycling_is_counted_and_recycled_leads_coming_back_count_once():
    stays, handoffs, truth = simulate_waterfall(20_000, re_entry=0.6, recycled_median_days=5, seed=3)
    result = waterfall(stays, handoffs, confidence=0.999).set_index("phase")
    recycled_leads = stays.loc[stays["phase"] == "Recycled", "lead_id"].nunique()
    assert result.loc["Recycled", "entered"] == recycled_leads
    # every Recycled stay that ended brought its lead back to Inquiry: a new stay there, not a new lead
    came_back = result.loc["Recycled", "stays"] - result.loc["Recycled", "open_stays"]
    assert came_back > 1000 and result.loc["Inquiry", "entered"] == stays["lead_id"].nunique()
    assert result.loc["Inquiry", "stays"] == result.loc["Inquiry", "entered"] + came_back
    # Inquiry and Opportunity recycle nobody back into themselves: recovered as they are
    for phase in ("Inquiry", "Opportunity"):
        assert result.loc[phase, "ci_low"] <= truth["conversion"][phase] <= result.loc[phase, "ci_high"]
    # a lead rejected from Marketing Qualified and accepted on its second try has advanced
    assert result.loc["Marketing Qualified", "ci_low"] > truth["conversion"]["Marketing Qualified"]
