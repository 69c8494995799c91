"""The early-warning rule as a pure function: hand-computed Poisson tails, firing and not firing."""

import math

import pytest

from ticketing.cases.early_warning import Rule, evaluate, poisson_tail


def hand_tail(count, mean):
    """1 - P(X <= count - 1), written out term by term."""
    return 1 - sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(count))


@pytest.mark.parametrize(
    "count, mean, expected",
    [
        (3, 0.5, 1 - math.exp(-0.5) * (1 + 0.5 + 0.125)),  # 0.014388
        (4, 0.5, 1 - math.exp(-0.5) * (1 + 0.5 + 0.125 + 0.125 / 6 * 1)),  # 0.001752
        (7, 5.0, 0.2378165),
        (13, 5.0, 0.0020189),
        (0, 3.0, 1.0),
        (1, 0.0, 0.0),
    ],
)
def test_the_poisson_tail_matches_the_hand_computation(count, mean, expected):
    assert poisson_tail(count, mean) == pytest.approx(expected, abs=1e-6)
    if count and mean:
        assert poisson_tail(count, mean) == pytest.approx(hand_tail(count, mean), rel=1e-9)


def test_a_week_far_above_a_quiet_baseline_fires():
    # Previous 8 weeks: 1,0,1,0,1,0,1,0 -> mean 0.5; P(X >= 4 | 0.5) = 0.00175 < 0.01.
    check = evaluate([1, 0, 1, 0, 1, 0, 1, 0], 4)
    assert check.baseline == 0.5
    assert check.p_value == pytest.approx(0.0017516, abs=1e-6)
    assert check.alert


def test_one_complaint_fewer_does_not_fire():
    # P(X >= 3 | 0.5) = 0.0144: not rare enough.
    check = evaluate([1, 0, 1, 0, 1, 0, 1, 0], 3)
    assert check.p_value == pytest.approx(0.0143877, abs=1e-6)
    assert not check.alert


def test_a_busy_series_fires_only_when_far_above_its_own_level():
    steady = [5] * 8
    assert not evaluate(steady, 7).alert  # P = 0.238
    assert evaluate(steady, 11).p_value == pytest.approx(0.0136953, abs=1e-6)  # still above 1%
    assert not evaluate(steady, 11).alert
    assert evaluate(steady, 12).p_value == pytest.approx(0.0054531, abs=1e-6)
    assert evaluate(steady, 12).alert


def test_a_zero_baseline_uses_the_floor_so_a_few_first_complaints_do_not_fire():
    quiet = [0] * 8
    assert evaluate(quiet, 3).baseline == 0.0
    assert evaluate(quiet, 3).p_value == pytest.approx(0.0143877, abs=1e-6)  # as if the mean were 0.5
    assert not evaluate(quiet, 3).alert
    assert evaluate(quiet, 4).alert
    assert not evaluate(quiet, 0).alert


def test_never_fewer_than_the_minimum_count():
    rule = Rule(baseline_floor=0.01)  # P(X >= 2 | 0.01) = 0.00005, far below 1%
    check = evaluate([0] * 8, 2, rule)
    assert check.p_value < 0.001
    assert not check.alert
    assert evaluate([0] * 8, 3, rule).alert


def test_large_counts_do_not_underflow():
    assert evaluate([800] * 8, 900).p_value == pytest.approx(0.000276, abs=2e-5)
    assert evaluate([800] * 8, 900).alert
    assert not evaluate([800] * 8, 860).alert  # P = 0.0186
