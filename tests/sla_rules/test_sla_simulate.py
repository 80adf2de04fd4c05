"""evaluate(): selection per rule against cutoffs, ordering, planned actions, inputs and errors."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sla_calendars import BRUSSELS

from sla_rules import OUTPUT_COLUMNS, Member, Rule, RuleError, TeamInfo, WorkCalendar, evaluate
from sla_rules.simulate import REQUIRED_COLUMNS

NOW = dt.datetime(2026, 11, 23, 9, 0)  # Monday, 10:00 in Brussels
UTC_NS = "datetime64[ns, UTC]"


def hours_ago(hours: float | None) -> pd.Timestamp:
    return pd.NaT if hours is None else pd.Timestamp(NOW) - pd.Timedelta(hours=hours)


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "type": "opportunity",
        "team_id": "Europe",
        "user_id": "bob",
        "stage_id": "New",
        "company_id": 1,
        "create_date": hours_ago(1000),
        "date_last_stage_update": pd.NaT,
        "date_open": pd.NaT,
        "sla_last_action_date": pd.NaT,
    }
    return pd.DataFrame([{**base, **row} for row in rows])


ESCALATE = Rule(
    id="stage",
    name="Stage 48h",
    clock="stage_entry",
    threshold=48,
    unit="hours",
    action="escalate",
    warning_before=12,
    team_ids={"Europe"},
)
REASSIGN = Rule(
    id="assign",
    name="Assign 1 day",
    clock="assignment",
    threshold=1,
    unit="business_days",
    action="reassign",
    lead_type="opportunity",
)
TEAMS = {
    "Europe": TeamInfo("Europe", "alice", (Member("bob"), Member("carol", capacity_left=1), Member("dave"))),
}

LEADS = frame(
    [
        {"id": 1, "name": "just breached", "date_last_stage_update": hours_ago(48)},
        {"id": 2, "name": "long breached", "date_last_stage_update": hours_ago(50)},
        {"id": 3, "name": "warned", "date_last_stage_update": hours_ago(47)},
        {"id": 4, "name": "warned at the limit", "date_last_stage_update": hours_ago(36)},
        {"id": 5, "name": "fine", "date_last_stage_update": hours_ago(35)},
        {"id": 6, "name": "no clock", "date_last_stage_update": pd.NaT},
        {"id": 7, "name": "archived", "date_last_stage_update": hours_ago(90), "active": False},
        {"id": 8, "name": "won", "date_last_stage_update": hours_ago(90), "won": True},
        {"id": 9, "name": "other team", "date_last_stage_update": hours_ago(90), "team_id": "Asia"},
        # business days, Brussels: cutoff Fri 2026-11-20 10:00 local (09:00 UTC)
        {"id": 10, "name": "assigned Friday early", "date_open": pd.Timestamp("2026-11-20T08:59")},
        {"id": 11, "name": "assigned Friday at the cutoff", "date_open": pd.Timestamp("2026-11-20T09:00")},
        {"id": 12, "name": "assigned Friday later", "date_open": pd.Timestamp("2026-11-20T09:01")},
        {"id": 13, "name": "unassigned", "date_open": pd.Timestamp("2026-11-02T09:00"), "user_id": None},
        {"id": 14, "name": "a lead", "date_open": pd.Timestamp("2026-11-02T09:00"), "type": "lead"},
        {"id": 15, "name": "", "date_open": pd.Timestamp("2026-11-10T09:00"), "user_id": "carol"},
        {"id": 16, "name": "owned by dave", "date_open": pd.Timestamp("2026-11-12T09:00"), "user_id": "dave"},
    ]
)


def test_evaluate_known_answer():
    result = evaluate(
        [ESCALATE, REASSIGN], LEADS, NOW, calendars=BRUSSELS, teams=TEAMS, names={"alice": "Alice"}
    )
    assert list(result.columns) == list(OUTPUT_COLUMNS)
    assert result.index.tolist() == list(range(len(result)))
    assert result[["rule", "lead_id", "status"]].values.tolist() == [
        ["Stage 48h", 2, "breach"],
        ["Stage 48h", 1, "breach"],
        ["Stage 48h", 3, "warn"],
        ["Stage 48h", 4, "warn"],
        ["Assign 1 day", 15, "breach"],  # deadline 2026-11-11 09:00
        ["Assign 1 day", 16, "breach"],  # deadline 2026-11-13 09:00
        ["Assign 1 day", 10, "breach"],  # deadline 2026-11-23 08:59
        ["Assign 1 day", 11, "breach"],  # deadline 2026-11-23 09:00
    ]
    assert str(result["clock_start"].dtype) == UTC_NS
    assert str(result["deadline"].dtype) == UTC_NS
    first = result.iloc[0]
    assert first["lead"] == "long breached"
    assert first["clock"] == "stage_entry"
    assert first["clock_start"] == pd.Timestamp("2026-11-21T07:00Z")
    assert first["deadline"] == pd.Timestamp("2026-11-23T07:00Z")
    assert first["action"] == "escalate"
    assert first["description"] == "Escalated to Alice (leader of Europe)."
    assert first["error"] is None
    warned = result.iloc[2]
    assert warned["deadline"] == pd.Timestamp("2026-11-23T10:00Z")
    assert warned["description"] == "Warning: the breach is due on 2026-11-23 10:00 UTC."
    assert warned["action"] == "escalate"
    assert warned["error"] is None
    assigned = result[result["rule"] == "Assign 1 day"]
    assert assigned["lead"].tolist() == [
        "15",
        "owned by dave",
        "assigned Friday early",
        "assigned Friday at the cutoff",
    ]
    # round robin in deadline order, from the first member: carol's lead -> bob; dave's -> carol (now full);
    # bob's -> dave; bob's -> (bob owns it, carol full) dave
    assert assigned["description"].tolist() == [
        "Reassigned from carol to bob (round robin in Europe).",
        "Reassigned from dave to carol (round robin in Europe).",
        "Reassigned from bob to dave (round robin in Europe).",
        "Reassigned from bob to dave (round robin in Europe).",
    ]
    assert assigned["deadline"].tolist()[2:] == [
        pd.Timestamp("2026-11-23T08:59Z"),
        pd.Timestamp("2026-11-23T09:00Z"),
    ]


def test_rules_are_independent_and_share_capacity():
    later = Rule(id="again", name="Again", clock="create", threshold=1, unit="days", action="reassign")
    result = evaluate([REASSIGN, later], LEADS[LEADS["id"].isin([10, 11])], NOW, BRUSSELS, TEAMS)
    assert result[["rule", "lead_id"]].values.tolist() == [
        ["Assign 1 day", 10],
        ["Assign 1 day", 11],
        ["Again", 10],
        ["Again", 11],
    ]
    # carol's one lead of capacity went to the first rule: the second skips her
    assert result["description"].str.extract(r"to (\w+) ")[0].tolist() == ["carol", "dave", "dave", "dave"]


def test_errors_are_reported_per_lead():
    lonely = {"Europe": TeamInfo("Europe", None, (Member("bob"),))}
    result = evaluate([ESCALATE, REASSIGN], LEADS, NOW, {None: BRUSSELS}, lonely)
    stage = result[(result["rule"] == "Stage 48h") & (result["status"] == "breach")]
    assert stage["error"].tolist() == ["Europe has no team leader to escalate to."] * 2
    assert stage["description"].tolist() == ["", ""]
    bob = result[(result["rule"] == "Assign 1 day") & (result["lead_id"] == 10)]
    assert bob["error"].tolist() == ["No member of Europe can take it: bob owns it."]


def test_calendars_by_rule_id():
    # Monday 09:00 UTC is Sunday 23:00 in Honolulu: the cutoff is Friday 00:00 there (10:00 UTC)
    honolulu = WorkCalendar(tz="Pacific/Honolulu")
    only = LEADS[LEADS["id"] == 12]
    assert evaluate([REASSIGN], only, NOW, BRUSSELS, TEAMS).empty
    assert evaluate([REASSIGN], only, NOW, {"assign": BRUSSELS, None: honolulu}, TEAMS).empty
    assert evaluate([REASSIGN], only, NOW, {"other": BRUSSELS, None: honolulu}, TEAMS)[
        "lead_id"
    ].tolist() == [12]
    assert evaluate([REASSIGN], only, NOW, {"assign": honolulu}, TEAMS)["lead_id"].tolist() == [12]


def test_evaluate_empty_results_keep_columns_and_types():
    for result in (
        evaluate([], LEADS, NOW),
        evaluate([ESCALATE], LEADS.iloc[0:0], NOW),
        evaluate([ESCALATE], LEADS[LEADS["id"] == 5], NOW),
    ):
        assert result.empty
        assert list(result.columns) == list(OUTPUT_COLUMNS)
        assert str(result["deadline"].dtype) == UTC_NS


def test_optional_columns_default_and_flags_from_text():
    minimal = LEADS.loc[LEADS["id"].isin([1, 7, 8]), list(REQUIRED_COLUMNS)]
    assert evaluate([ESCALATE], minimal, NOW, teams=TEAMS)["lead_id"].tolist() == [7, 8, 1]
    texts = minimal.assign(active=["true", "False", ""], won=["0", "no", "yes"])
    assert evaluate([ESCALATE], texts, NOW, teams=TEAMS)["lead_id"].tolist() == [1]
    with pytest.raises(RuleError, match="Column active: cannot read 'maybe'"):
        evaluate([ESCALATE], minimal.assign(active="maybe"), NOW)


def test_aware_and_text_datetimes():
    aware = LEADS.assign(
        date_last_stage_update=LEADS["date_last_stage_update"].dt.tz_localize("Europe/Brussels")
    )
    result = evaluate([ESCALATE], aware, NOW.replace(tzinfo=dt.timezone.utc), teams=TEAMS)
    assert result["lead_id"].tolist() == [2, 1, 3, 4, 5]  # an hour earlier in UTC
    text = LEADS.assign(
        date_last_stage_update=LEADS["date_last_stage_update"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert evaluate([ESCALATE], text, NOW, teams=TEAMS)["lead_id"].tolist() == [2, 1, 3, 4]


def test_a_new_owner_gets_a_fresh_clock():
    """Two leads idle for ten days: the one just handed to another salesperson is not breached."""
    idle = Rule(
        id="idle", name="Idle 48h", clock="last_action", threshold=48, unit="hours", action="escalate"
    )
    leads = frame(
        [
            {"id": 1, "name": "still with its idle owner", "sla_last_action_date": hours_ago(240)},
            {
                "id": 2,
                "name": "handed over an hour ago",
                "sla_last_action_date": hours_ago(240),
                "sla_owner_since": hours_ago(1),
            },
        ]
    )
    assert evaluate([idle], leads, NOW, teams=TEAMS)["lead_id"].tolist() == [1]


@pytest.mark.parametrize("column", ["id", "team_id", "sla_last_action_date", "company_id"])
def test_missing_required_column(column):
    with pytest.raises(RuleError, match=f"missing column\\(s\\) {column}"):
        evaluate([ESCALATE], LEADS.drop(columns=column), NOW)


def test_invalid_rule_is_named():
    with pytest.raises(RuleError, match="Rule 'Assign 1 day': Business days and business hours need"):
        evaluate([ESCALATE, REASSIGN], LEADS, NOW)
    with pytest.raises(RuleError, match="calendars must be"):
        evaluate([REASSIGN], LEADS, NOW, calendars=["brussels"])


def test_bad_datetimes():
    with pytest.raises(RuleError, match="date_last_stage_update"):
        evaluate([ESCALATE], LEADS.assign(date_last_stage_update="soon"), NOW)


def test_evaluate_matches_status_lead_by_lead():
    from sla_rules import LeadSnapshot, clock_start, in_scope, status

    rule = Rule(
        id=3,
        name="BH",
        clock="stage_entry",
        threshold=6,
        unit="business_hours",
        action="archive",
        warning_before=2,
    )
    starts = pd.date_range("2026-11-18T06:00", "2026-11-23T09:00", freq="37min")
    leads = frame([{"id": i, "date_last_stage_update": start} for i, start in enumerate(starts)])
    result = evaluate([rule], leads, NOW, BRUSSELS).set_index("lead_id")["status"]
    for record in leads.to_dict("records"):
        snap = LeadSnapshot(
            **{k: (None if k == "date_open" else v) for k, v in record.items() if k != "name"}
        )
        expected = status(rule, clock_start(rule, snap), NOW, BRUSSELS) if in_scope(rule, snap) else "ok"
        assert result.get(record["id"], "ok") == expected
    assert set(result) == {"breach", "warn"}
