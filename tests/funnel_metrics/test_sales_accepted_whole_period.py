"""sales_accepted_cost over the whole table (period None): a campaign's total cost over its leads."""

import pandas as pd
import pytest

from funnel_metrics import sales_accepted_cost


def _stays() -> pd.DataFrame:
    # three Spring leads (two in January, one in February), two of them accepted by sales in February
    rows = [
        (1, "Inquiry", 10, "2026-01-05", "2026-02-02"),
        (1, "Sales Accepted", 30, "2026-02-02", None),
        (2, "Inquiry", 10, "2026-01-20", "2026-02-10"),
        (2, "Sales Accepted", 30, "2026-02-10", None),
        (3, "Inquiry", 10, "2026-02-03", None),
    ]
    return pd.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "phase": [r[1] for r in rows],
            "phase_sequence": [r[2] for r in rows],
            "phase_kind": "progress",
            "entered_at": [r[3] for r in rows],
            "left_at": [r[4] for r in rows],
            "team": None,
            "user": None,
            "source": None,
            "medium": None,
            "campaign": "Spring",
            "country": None,
            "origin": None,
        }
    )


COSTS = pd.DataFrame({"campaign": ["Spring"], "period": ["2026-01-01"], "cost": [600.0]})


def test_whole_period_gives_one_row_per_campaign():
    result = sales_accepted_cost(_stays(), COSTS, period=None)
    assert "period" not in result.columns
    assert result.to_dict("records") == [
        {
            "campaign": "Spring",
            "entered": 3,
            "sales_accepted": 2,
            "cost": 600.0,
            "cost_per_sales_accepted": 300.0,
        }
    ]


def test_per_month_splits_entries_and_acceptances_by_month():
    result = sales_accepted_cost(_stays(), COSTS, period="month")
    assert result[["period", "entered", "sales_accepted", "cost"]].values.tolist() == [
        ["2026-01-01", 2, 0, 600.0],
        ["2026-02-01", 1, 2, 0.0],
    ]


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="period"):
        sales_accepted_cost(_stays(), COSTS, period="year")
