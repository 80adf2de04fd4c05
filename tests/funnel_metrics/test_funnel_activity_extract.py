"""The completed activities and decided deals of Odoo, read over JSON-2 (Odoo stubbed)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_funnel_extract import FakeConnection, FakeOdoo

from funnel_metrics import deals_from_transitions, win_rate_by_count
from funnel_metrics.extract import extract_activities, extract_deals


def _server() -> FakeOdoo:
    messages = [
        # lead 1: a call and a meeting, lead 2: a call; a note without activity type; another model's message
        {"id": 10, "model": "crm.lead", "res_id": 1, "mail_activity_type_id": [2, "Call"],
         "date": "2024-03-01 10:00:00", "author_id": [7, "Alice"]},
        {"id": 11, "model": "crm.lead", "res_id": 1, "mail_activity_type_id": [3, "Meeting"],
         "date": "2024-03-04 10:00:00", "author_id": [7, "Alice"]},
        {"id": 12, "model": "crm.lead", "res_id": 1, "mail_activity_type_id": False,
         "date": "2024-03-05 10:00:00", "author_id": [7, "Alice"]},
        {"id": 13, "model": "crm.lead", "res_id": 2, "mail_activity_type_id": [2, "Call"],
         "date": "2024-03-02 09:00:00", "author_id": False},
        {"id": 14, "model": "res.partner", "res_id": 1, "mail_activity_type_id": [2, "Call"],
         "date": "2024-03-02 09:00:00", "author_id": False},
        {"id": 15, "model": "crm.lead", "res_id": 3, "mail_activity_type_id": [2, "Call"],
         "date": "2024-03-02 09:00:00", "author_id": False},
    ]  # fmt: skip
    leads = [
        {"id": 1, "won_status": "won", "date_closed": "2024-03-10 00:00:00",
         "write_date": "2024-03-11 00:00:00", "user_id": [5, "Bob"], "active": True},
        {"id": 2, "won_status": "lost", "date_closed": False, "write_date": "2024-03-12 00:00:00",
         "user_id": False, "active": False},
        {"id": 3, "won_status": "pending", "date_closed": False, "write_date": "2024-03-12 00:00:00",
         "user_id": False, "active": True},
    ]  # fmt: skip
    return FakeOdoo(
        {
            "mail.message": messages,
            "crm.lead": leads,
            "mail.activity.type": [{"id": 2, "name": "Call"}, {"id": 3, "name": "Meeting"}],
            "res.partner": [{"id": 7, "name": "Alice"}],
            "res.users": [{"id": 5, "name": "Bob"}],
        }
    )


def test_activities_are_the_chatter_messages_with_an_activity_type_read_in_pages():
    server = _server()
    activities = extract_activities(FakeConnection(server), [1, 2], page_size=1)
    assert activities["lead_id"].tolist() == [1, 1, 2]
    assert activities["activity_type"].tolist() == ["Call", "Meeting", "Call"]
    assert activities["done_at"].tolist()[0] == pd.Timestamp("2024-03-01T10:00:00Z")
    assert activities["user"].tolist()[:2] == ["Alice", "Alice"] and pd.isna(activities["user"].iloc[2])
    assert len(server.calls_to("mail.message")) > 2  # one lead per chunk, one message per page


def test_deals_are_the_won_and_lost_leads_decided_when_odoo_closed_them():
    deals = extract_deals(FakeConnection(_server()), [1, 2, 3])
    assert deals["lead_id"].tolist() == [1, 2]  # the open lead is not a deal
    assert deals["outcome"].tolist() == ["won", "lost"]
    assert deals["decided_at"].tolist() == [
        pd.Timestamp("2024-03-10T00:00:00Z"),
        pd.Timestamp("2024-03-12T00:00:00Z"),
    ]
    assert deals["user"].tolist()[0] == "Bob"
    by_count = win_rate_by_count(extract_activities(FakeConnection(_server()), [1, 2, 3]), deals, max_count=1)
    meeting = by_count[by_count["activity_type"] == "Meeting"]
    assert meeting[["deals", "won"]].values.tolist() == [[1, 0], [1, 1]]


def test_no_activity_gives_an_empty_table_the_analysis_accepts(make_transitions):
    activities = extract_activities(FakeConnection(_server()), [])
    assert activities.empty and list(activities.columns) == ["lead_id", "activity_type", "done_at", "user"]
    deals = deals_from_transitions(make_transitions([(1, "New", 1, 0, 2, "lost")]))
    assert win_rate_by_count(activities, deals).empty


@pytest.mark.parametrize("page_size", [0, -1])
def test_bad_page_size_is_refused(page_size):
    from funnel_metrics.extract import ExtractError

    with pytest.raises(ExtractError, match="page size"):
        extract_activities(FakeConnection(_server()), [1], page_size=page_size)
