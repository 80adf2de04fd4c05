"""The waterfall's extractor over JSON-2: the lifecycle phase stays and handoffs of the crm_lead_handoff addon
read from the stand-in Odoo of test_funnel_extract, as the contract's tables, with the report's selection."""

from __future__ import annotations

import pandas as pd
import pytest
from test_funnel_extract import FakeConnection, FakeOdoo

from funnel_metrics import waterfall
from funnel_metrics.extract import ExtractError, extract_handoffs, extract_phase_stays

MARKETING, INSIDE = [1, "Marketing"], [2, "Inside Sales"]
INQUIRY, MQL, SAL, RECYCLED = (
    [10, "Inquiry"],
    [20, "Marketing Qualified"],
    [30, "Sales Accepted"],
    [80, "Recycled"],
)


def _stay(number, lead, phase, date_in, date_out, team, user=False, origin="create"):
    return {
        "id": number,
        "lead_id": [lead, f"Lead {lead}"],
        "phase_id": phase,
        "date_in": date_in,
        "date_out": date_out,
        "user_id": user,
        "team_id": team,
        "origin": origin,
    }


def _server() -> FakeOdoo:
    return FakeOdoo(
        {
            "crm.lead.phase.history": [
                _stay(1, 1, INQUIRY, "2024-01-02 09:00:00", "2024-01-03 09:00:00", MARKETING),
                _stay(2, 1, MQL, "2024-01-03 09:00:00", "2024-01-04 09:00:00", MARKETING, origin=False),
                _stay(3, 1, SAL, "2024-01-04 09:00:00", False, INSIDE, [7, "Ines"], "accept"),
                _stay(4, 2, INQUIRY, "2024-01-05 10:00:00", "2024-01-06 10:00:00", MARKETING),
                _stay(5, 2, MQL, "2024-01-06 10:00:00", "2024-01-07 10:00:00", MARKETING, origin="backfill"),
                _stay(6, 2, RECYCLED, "2024-01-07 10:00:00", False, MARKETING, origin="reject"),
                _stay(7, 3, INQUIRY, "2023-12-20 10:00:00", False, MARKETING),  # before the period
            ],
            "crm.lifecycle.phase": [
                {"id": 10, "name": "Inquiry", "sequence": 10, "kind": "progress"},
                {"id": 20, "name": "Marketing Qualified", "sequence": 20, "kind": "progress"},
                {"id": 30, "name": "Sales Accepted", "sequence": 30, "kind": "progress"},
                {"id": 80, "name": "Recycled", "sequence": 80, "kind": "recycled", "active": False},
            ],
            "crm.lead.handoff": [
                {
                    "id": 1,
                    "lead_id": [1, "Lead 1"],
                    "route_id": [4, "Marketing to Inside Sales"],
                    "from_team_id": MARKETING,
                    "to_team_id": INSIDE,
                    "to_partner_id": False,
                    "phase_id": MQL,
                    "state": "accepted",
                    "date_sent": "2024-01-03 21:00:00",
                    "date_decided": "2024-01-04 09:00:00",
                    "auto_accepted": True,
                    "reason_id": False,
                },
                {
                    "id": 2,
                    "lead_id": [2, "Lead 2"],
                    "route_id": [5, "Marketing to Reseller"],
                    "from_team_id": MARKETING,
                    "to_team_id": False,
                    "to_partner_id": [9, "Acme Reseller"],
                    "phase_id": MQL,
                    "state": "rejected",
                    "date_sent": "2024-01-07 08:00:00",
                    "date_decided": "2024-01-07 10:00:00",
                    "auto_accepted": False,
                    "reason_id": [3, "Wrong persona"],
                },
                {
                    "id": 3,
                    "lead_id": [3, "Lead 3"],  # a lead outside the selection
                    "route_id": [4, "Marketing to Inside Sales"],
                    "from_team_id": MARKETING,
                    "to_team_id": INSIDE,
                    "to_partner_id": False,
                    "phase_id": INQUIRY,
                    "state": "awaiting",
                    "date_sent": "2024-01-08 08:00:00",
                    "date_decided": False,
                    "auto_accepted": False,
                    "reason_id": False,
                },
            ],
            "crm.lead": [
                {
                    "id": 1,
                    "source_id": [1, "Website"],
                    "medium_id": [2, "Email"],
                    "campaign_id": [3, "Spring"],
                    "country_id": [21, "Belgium"],
                },
                {
                    "id": 2,
                    "source_id": False,
                    "medium_id": False,
                    "campaign_id": [3, "Spring"],
                    "country_id": False,
                    "active": False,
                },  # archived: lost leads are, read too
                {"id": 3, "source_id": False, "medium_id": False, "campaign_id": False, "country_id": False},
            ],
            "crm.team": [{"id": 1, "name": "Marketing"}, {"id": 2, "name": "Inside Sales"}],
            "res.users": [{"id": 7, "name": "Ines"}],
            "res.partner": [{"id": 9, "name": "Acme Reseller"}],
            "res.country": [{"id": 21, "name": "Belgium"}],
            "utm.source": [{"id": 1, "name": "Website"}],
            "utm.medium": [{"id": 2, "name": "Email"}],
            "utm.campaign": [{"id": 3, "name": "Spring"}],
            "crm.handoff.route": [
                {"id": 4, "name": "Marketing to Inside Sales"},
                {"id": 5, "name": "Marketing to Reseller"},
            ],
            "crm.handoff.reject.reason": [{"id": 3, "name": "Wrong persona"}],
        }
    )


def test_phase_stays_of_the_period_with_names_in_pages():
    server = _server()
    stays = extract_phase_stays(FakeConnection(server), date_from="2024-01-01", page_size=2)
    assert stays["lead_id"].tolist() == [1, 1, 1, 2, 2, 2]  # lead 3 began before the period
    assert stays["phase"].tolist() == [
        "Inquiry", "Marketing Qualified", "Sales Accepted", "Inquiry", "Marketing Qualified", "Recycled",
    ]  # fmt: skip
    assert stays["phase_kind"].iloc[-1] == "recycled"  # an archived phase is named too
    assert stays["entered_at"].iloc[0] == pd.Timestamp("2024-01-02T09:00:00Z")
    assert stays["left_at"].isna().tolist() == [False, False, True, False, False, True]
    assert stays["team"].tolist()[2] == "Inside Sales" and stays["user"].tolist()[2] == "Ines"
    assert stays.loc[0, ["source", "medium", "campaign", "country"]].tolist() == [
        "Website", "Email", "Spring", "Belgium",
    ]  # fmt: skip
    assert stays["source"].isna().iloc[3] and stays["campaign"].iloc[3] == "Spring"
    assert stays["origin"].isna().tolist() == [False, True, False, False, False, False]
    pages = server.calls_to("crm.lead.phase.history")
    assert [call["domain"] for call in pages] == [
        [("id", ">", 0)],
        [("id", ">", 2)],
        [("id", ">", 4)],
        [("id", ">", 6)],
    ]
    assert all(call["load"] != "_classic_read" for call in pages)  # bare ids: no display name computed


def test_team_selection_keeps_the_whole_history_of_the_teams_leads():
    stays = extract_phase_stays(FakeConnection(_server()), teams=["Inside Sales"])
    assert stays["lead_id"].unique().tolist() == [1] and len(stays) == 3


def test_handoffs_of_the_leads_name_the_receiving_team_or_partner():
    server = _server()
    handoffs = extract_handoffs(FakeConnection(server), [1, 2], page_size=2)
    assert handoffs["handoff_id"].tolist() == [1, 2]
    assert handoffs["to"].tolist() == ["Inside Sales", "Acme Reseller"]
    assert handoffs["route"].tolist() == ["Marketing to Inside Sales", "Marketing to Reseller"]
    assert handoffs["state"].tolist() == ["accepted", "rejected"]
    assert handoffs["auto_accepted"].tolist() == [True, False]
    assert handoffs["reason"].isna().iloc[0] and handoffs["reason"].iloc[1] == "Wrong persona"
    assert handoffs["team"].tolist() == ["Marketing"] * 2 and handoffs["campaign"].tolist() == ["Spring"] * 2
    assert handoffs["decided_at"].iloc[1] == pd.Timestamp("2024-01-07T10:00:00Z")


def test_the_extracted_tables_make_a_waterfall():
    connection = FakeConnection(_server())
    stays = extract_phase_stays(connection, date_from="2024-01-01")
    result = waterfall(stays, extract_handoffs(connection, stays["lead_id"].unique())).set_index("phase")
    assert result.loc["Marketing Qualified", ["entered", "advanced", "recycled"]].tolist() == [2, 1, 1]
    assert result.loc["Marketing Qualified", "acceptance_rate"] == 0.5


def test_a_database_without_the_addon_says_what_to_install():
    with pytest.raises(ExtractError, match="install the crm_lead_handoff module") as caught:
        extract_phase_stays(FakeConnection(FakeOdoo({})))
    assert caught.value.kind == "missing model"
    with pytest.raises(ExtractError, match="install the crm_lead_handoff module"):
        extract_handoffs(FakeConnection(FakeOdoo({})), [1])
