"""Each dashboard figure against values worked out by hand from the story in figures_data.py."""

from datetime import date
from decimal import Decimal

import pytest

from tests.insight.figures_data import build, period
from ticketing.insight import causes, handling, recovery, voice, volume
from ticketing.insight.figures import FIGURES, dashboard
from ticketing.insight.results import Money


@pytest.fixture
def story(app, frozen_clock, agent, make_user, supervisor):
    return build(frozen_clock, agent, make_user("agent", "bob@example.com", "Bob Agent"), supervisor)


def table(result) -> list[list]:
    """The rows with every label as plain text."""
    return [
        [cell if isinstance(cell, (int, float, Decimal, date, Money)) or cell is None else str(cell) for cell in row]
        for row in result.rows
    ]


def stat(result, key):
    return result.headline[key].value


# --- where complaints come from -------------------------------------------------------------


def test_volume_counts_the_cases_opened_each_day_and_never_a_merged_duplicate(story):
    result = volume.volume(period())
    assert len(result.rows) == 30  # 30 days: one column a day
    assert result.rows[:7] == [[date(2026, 11, day), 1 if day <= 5 else 0] for day in range(1, 8)]
    assert stat(result, "total") == 5


def test_a_longer_period_counts_by_seven_days_or_by_calendar_month(story):
    weekly = volume.volume(period(first_day=date(2026, 10, 1)))  # 61 days: 7-day columns from Oct 1
    assert [row[0] for row in weekly.rows][:3] == [date(2026, 10, 1), date(2026, 10, 8), date(2026, 10, 15)]
    assert [row[1] for row in weekly.rows] == [2, 0, 0, 0, 4, 1, 0, 0, 0]
    monthly = volume.volume(period(first_day=date(2025, 11, 1)))  # 395 days: calendar months
    assert len(monthly.rows) == 13
    assert monthly.rows[-2:] == [[date(2026, 10, 1), 2], [date(2026, 11, 1), 5]]


def test_cases_by_category_and_channel_with_their_shares(story):
    assert table(volume.categories(period()))[:3] == [
        ["Product quality", 3, 60.0],
        ["Delivery", 1, 20.0],
        ["Billing", 1, 20.0],
    ]
    assert table(volume.channels(period()))[:3] == [["Phone", 3, 60.0], ["Email", 1, 20.0], ["WeChat", 1, 20.0]]


# --- how fast -------------------------------------------------------------------------------


def test_time_to_first_response_apology_and_resolution_median_and_90th_percentile(story):
    # Responses 1, 2, 3 h (case 3's message came before its apology); apologies 1, 2, 4 h;
    # latest resolution carried out 10, 12, 60 h. Nearest-rank P90 of three values is the third.
    assert table(handling.handling_times(period())) == [
        ["First response", 3, 2.0, 3.0],
        ["Apology", 3, 2.0, 4.0],
        ["Resolution carried out", 3, 12.0, 60.0],
    ]


def test_the_median_of_an_even_count_is_the_mean_of_the_two_middle_values(story):
    # Product cases: responses of 1 h (case 1) and 3 h (case 3); case 5 never got one.
    response = table(handling.handling_times(period(category="product")))[0]
    assert response == ["First response", 2, 2.0, 3.0]


def test_deadline_compliance_leaves_out_cancelled_cases(story):
    # Cases 1-4. Response: 1 h and 2 h kept; case 3 (urgent, 1 h allowed) answered after 3 h, case 4 never.
    # Resolution: first proposals 5, 6, 8 h inside 72/72/24 h; case 4 has none and its deadline passed.
    assert table(handling.deadlines(period())) == [
        ["First response", 2, 2, 0, 50.0],
        ["Proposed resolution", 3, 1, 0, 75.0],
    ]


def test_where_cases_stall_waits_of_open_cases_and_time_each_step_took(story):
    result = table(handling.stalls(period()))
    # Open at review: case 1 idle since Nov 2 05:00 (532 h), case 3 since Nov 6 07:00 (434 h): median 483.
    # Open at apologise: case 4 since Nov 4 09:00 (480 h).
    # Took: listen 0 (recorded at intake, 5 cases); apologise 1, 2, 4; analyse 2, 2, 2; resolve 7, 8, 14;
    # follow-up 10, 18, 20; review 12 (case 2 only: closed 42 h, follow-up 30 h).
    assert result == [
        ["Accept and listen", 0, None, 5, 0.0],
        ["Empathise and apologise", 1, 480.0, 3, 2.0],
        ["Analyse the cause", 0, None, 3, 2.0],
        ["Propose a resolution", 0, None, 3, 8.0],
        ["Follow up", 0, None, 3, 18.0],
        ["Record and review", 2, 483.0, 1, 12.0],
    ]
    assert stat(handling.stalls(period()), "open") == 3


def test_first_contact_resolution_needs_one_proposal_and_no_unsatisfied_follow_up(story):
    # Followed up: cases 1, 2, 3. Case 2 had a rejected first proposal, case 3 an unsatisfied follow-up.
    result = handling.first_contact(period())
    assert table(result) == [
        ["Put right at the first attempt", 1, pytest.approx(100 / 3)],
        ["Needed another round", 2, pytest.approx(200 / 3)],
    ]


# --- whether recovery works -----------------------------------------------------------------


def test_retention_and_churn_rates_as_domain_defines_them(story):
    # Customers followed up: A (case 1, retained), B (case 2, retained), C (case 3: latest follow-up lost).
    # Retention rate = retained / all = 2/3; churn rate = lost / all = 1/3; retention = 1 - churn here.
    result = recovery.retention(period())
    assert table(result) == [
        ["Retained", 2, pytest.approx(200 / 3)],
        ["At risk", 0, 0.0],
        ["Lost", 1, pytest.approx(100 / 3)],
    ]
    assert stat(result, "retention_rate") == pytest.approx(66.667, abs=1e-3)
    assert stat(result, "churn_rate") == pytest.approx(33.333, abs=1e-3)
    assert stat(result, "retention_rate") == pytest.approx(100 - stat(result, "churn_rate"))
    assert stat(result, "followed_up") == 3


def test_a_customer_counts_once_by_the_latest_follow_up(story):
    # Case 3 alone: its first follow-up said at risk, the latest lost.
    result = recovery.retention(period(first_day=date(2026, 11, 3), last_day=date(2026, 11, 3)))
    assert table(result) == [["Retained", 0, 0.0], ["At risk", 0, 0.0], ["Lost", 1, 100.0]]
    assert stat(result, "churn_rate") == 100.0


def test_lost_customers_by_churn_type(story):
    assert table(recovery.churn_types(period())) == [
        ["Natural (moved away, no longer needs us)", 0, 0.0],
        ["Competitive (won by a competitor)", 1, 100.0],
        ["Negligent (our own failure)", 0, 0.0],
        ["Malicious", 0, 0.0],
        ["Passive, not malicious (e.g. never told of a renewal or a new service)", 0, 0.0],
        ["Passive, retaliatory (after a badly handled complaint)", 0, 0.0],
        ["Passive, fraudulent (low credit or deliberate fraud: no need to retain)", 0, 0.0],
    ]


def test_recovery_paradox_compares_with_the_rating_given_before_the_case(story):
    # A: 3 before, 5 after (higher); C: 4 before, 2 after (lower); B never rated before (left out).
    result = recovery.recovery_paradox(period())
    assert table(result) == [["Higher than before", 1, 50.0], ["The same", 0, 0.0], ["Lower than before", 1, 50.0]]
    assert (stat(result, "before"), stat(result, "after"), stat(result, "pairs")) == (3.5, 3.5, 2)


def test_compensation_granted_counts_only_resolutions_carried_out(story):
    # Carried out: case 1 (refund 50, gift 10), case 2's second proposal (voucher 40; the rejected 20 is not
    # granted), both of case 3's (refund 30, refund 60).
    assert table(recovery.compensation(period())) == [
        ["Refund", "Economic", 3, Money(Decimal("140.00"), "CNY"), "CNY"],
        ["Small gift", "Emotional", 1, Money(Decimal("10.00"), "CNY"), "CNY"],
        ["Voucher", "Economic", 1, Money(Decimal("40.00"), "CNY"), "CNY"],
    ]


def test_compensation_against_the_estimated_loss(story):
    # Economic 50 + 40 + 30 + 60 = 180, emotional 10, loss 100 + 40 + 30 + 60 = 230: 190 / 230.
    result = recovery.compensation_against_loss(period())
    [row] = table(result)
    assert row[:5] == [
        "CNY",
        4,
        Money(Decimal("180.00"), "CNY"),
        Money(Decimal("10.00"), "CNY"),
        Money(Decimal("230.00"), "CNY"),
    ]
    assert row[5] == pytest.approx(100 * 190 / 230)


# --- what customers say ---------------------------------------------------------------------


def test_satisfaction_from_the_survey_and_from_the_follow_up(story):
    result = voice.satisfaction(period())
    assert table(result) == [
        ["5", 1, pytest.approx(100 / 3)],
        ["4", 0, 0.0],
        ["3", 1, pytest.approx(100 / 3)],
        ["2", 1, pytest.approx(100 / 3)],
        ["1", 0, 0.0],
    ]
    assert stat(result, "average") == pytest.approx(10 / 3)
    assert stat(result, "taken_by_staff") == 0  # every customer answered on the portal
    assert stat(result, "follow_up_average") == pytest.approx(13 / 3)  # latest follow-ups: 5, 4, 4


def test_net_promoter_score(story):
    # Recommend 10 (promoter), 7 (passive), 3 (detractor): 33.3% - 33.3% = 0.
    result = voice.nps(period())
    assert [row[:2] for row in table(result)] == [
        ["Promoters (9-10)", 1],
        ["Passives (7-8)", 1],
        ["Detractors (0-6)", 1],
    ]
    assert stat(result, "nps") == pytest.approx(0.0)


def test_would_buy_again_and_perceived_fairness(story):
    assert [row[:2] for row in table(voice.buy_again(period()))] == [["Yes", 1], ["Maybe", 1], ["No", 1]]
    fairness = table(voice.fairness(period()))
    assert [row[:2] for row in fairness] == [["Fair outcome", 3], ["Fair process", 3], ["Fair treatment", 3]]
    assert [row[2] for row in fairness] == pytest.approx([10 / 3, 3.0, 4.0])


# --- what to fix first ----------------------------------------------------------------------


def test_root_causes_pareto_counts_each_case_by_its_latest_analysis(story):
    # Case 3 was first put down to service, then to the product.
    result = causes.root_causes(period())
    assert table(result) == [
        ["Product not satisfactory", 2, pytest.approx(200 / 3), pytest.approx(200 / 3)],
        ["Service attitude or manner", 1, pytest.approx(100 / 3), 100.0],
    ]
    assert stat(result, "vital_few") == 2


def test_products_pareto(story):
    result = causes.products(period())
    assert table(result) == [["Kettle", 2, 50.0, 50.0], ["Sofa", 1, 25.0, 75.0], ["Toaster", 1, 25.0, 100.0]]
    assert stat(result, "vital_few") == 3


def test_repeat_complainants(story):
    # A has cases 1 and 4 (and 6, a merged duplicate of case 1).
    result = recovery.repeat_complainants(period())
    assert table(result) == [["Li", 2]]
    assert (stat(result, "repeat"), stat(result, "complainants"), stat(result, "share")) == (1, 4, 25.0)


# --- filters and the empty period -----------------------------------------------------------


def test_filters_narrow_every_figure_to_matching_cases(story):
    assert stat(volume.volume(period(channel="email")), "total") == 1
    assert stat(volume.volume(period(product="kettle")), "total") == 2
    assert stat(volume.volume(period(assignee_id=story.two.assignee_id)), "total") == 1  # Bob's case 6 is merged
    assert table(recovery.retention(period(category="delivery"))) == [
        ["Retained", 1, 100.0],
        ["At risk", 0, 0.0],
        ["Lost", 0, 0.0],
    ]


def test_a_period_without_cases_gives_no_figures_and_divides_by_nothing(story):
    empty = period(first_day=date(2026, 12, 1), last_day=date(2026, 12, 31))
    assert dashboard(empty) == (0, {})
    for figure in FIGURES.values():  # each figure on its own (the CSV export) copes too
        result = figure.compute(empty)
        assert result.rows == [] or all(
            not any(isinstance(c, (int, float)) and c for c in row[1:]) for row in result.rows
        ), figure.key
