"""cohort_rows: the stays a report over a period and some teams looks at."""

from datetime import datetime

import numpy as np
import pandas as pd

from funnel_metrics import cohort_rows

# lead 1 entered in January, lead 2 in December of the year before (and moved on in January),
# lead 3 in February; lead 1 was handed to team 7 on its second stay
LEADS = [1, 2, 1, 3, 2]
ENTERED = pd.to_datetime(
    ["2026-01-05 09:00", "2025-12-30 10:00", "2026-01-20 09:00", "2026-02-01 00:00", "2026-01-02 08:00"]
)
TEAMS = np.array([3, 3, 7, 3, 7])


def test_a_lead_belongs_to_the_period_its_first_stay_began_in_with_its_whole_history():
    january = cohort_rows(LEADS, ENTERED, datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert january.tolist() == [True, False, True, False, False]
    # open bounds, and the end excluded: lead 3 entered at midnight on 1 February
    assert cohort_rows(LEADS, ENTERED, start=datetime(2026, 1, 1)).tolist() == [
        True,
        False,
        True,
        True,
        False,
    ]
    assert cohort_rows(LEADS, ENTERED, end=datetime(2026, 2, 1)).tolist() == [True, True, True, False, True]
    assert cohort_rows(LEADS, ENTERED).all()


def test_a_lead_with_one_stay_of_the_teams_is_kept_whole():
    of_team_7 = TEAMS == 7
    assert cohort_rows(LEADS, ENTERED, of_scope=of_team_7).tolist() == [True, True, True, False, True]
    january_team_7 = cohort_rows(LEADS, ENTERED, datetime(2026, 1, 1), datetime(2026, 2, 1), of_team_7)
    assert january_team_7.tolist() == [True, False, True, False, False]


def test_time_zone_aware_instants_are_compared_in_utc():
    aware = pd.Series(ENTERED).dt.tz_localize("UTC").dt.tz_convert("Australia/Sydney")
    assert cohort_rows(LEADS, aware, datetime(2026, 1, 1), datetime(2026, 2, 1)).tolist() == [
        True,
        False,
        True,
        False,
        False,
    ]


def test_no_stays():
    assert cohort_rows([], pd.to_datetime([]), datetime(2026, 1, 1)).tolist() == []
