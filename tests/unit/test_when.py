"""The desk's time formatter writes the desk's one format per language (2026年12月1日 16:20 /
1 Dec 2026, 16:20) exactly as Babel's format_datetime writes that pattern, in every language and zone,
for times on both sides of a date line and of daylight saving."""

from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import format_datetime, refresh

from ticketing.i18n import DATETIME_PATTERNS, clock, day, when

TIMES = [datetime(2026, 12, 1, 16, 20, tzinfo=timezone.utc) + timedelta(hours=7 * n, minutes=13 * n) for n in range(40)]
TIMES += [datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc), datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/London", "America/New_York"])
def test_the_same_words_as_babel(app, language, zone):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        app.config["BABEL_DEFAULT_TIMEZONE"] = zone
        refresh()
        pattern = DATETIME_PATTERNS[language[:2]]
        for fmt in ("short", "medium", "long", "full"):
            for value in TIMES:
                assert when(value, fmt) == format_datetime(value, pattern)
        assert when(None) == ""


def test_no_seconds_and_the_day_before_the_month(app):
    """Asia/Shanghai, 08:20 UTC: the desk's local 16:20 on 1 December, whatever language."""
    value = datetime(2026, 12, 1, 8, 20, 59, tzinfo=timezone.utc)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Shanghai"
        refresh()
        english = when(value, "short")
        assert english.startswith("1 ") and "16:20" in english and ":59" not in english and "PM" not in english
        assert day(value).startswith("1 ") and "16" not in day(value) and clock(value) == "16:20"
    with app.test_request_context("/", headers={"Accept-Language": "zh_CN"}):
        refresh()
        chinese = when(value)
        assert chinese.endswith("月1日 16:20") and day(value).endswith("月1日")


def test_a_pattern_of_its_own_is_babels(app):
    with app.test_request_context("/"):
        value = TIMES[0]
        assert when(value, "yyyy-MM-dd HH:mm") == format_datetime(value, "yyyy-MM-dd HH:mm")


def test_a_forced_language_is_followed(app):
    """A notice written in the customer's language during a staff member's request."""
    from flask_babel import force_locale

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        english = when(TIMES[0], "long")
        with force_locale("zh_CN"):
            chinese = when(TIMES[0], "long")
        assert english != chinese and "年" in chinese and when(TIMES[0], "long") == english
