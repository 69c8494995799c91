"""The desk's time formatter writes exactly what Babel's format_datetime writes, in every language,
zone and named format, for times on both sides of a date line and of daylight saving."""

from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import format_datetime, refresh

from ticketing.i18n import when

TIMES = [datetime(2026, 12, 1, 16, 20, tzinfo=timezone.utc) + timedelta(hours=7 * n, minutes=13 * n) for n in range(40)]
TIMES += [datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc), datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/London", "America/New_York"])
def test_the_same_words_as_babel(app, language, zone):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        app.config["BABEL_DEFAULT_TIMEZONE"] = zone
        refresh()
        for fmt in ("short", "medium", "long", "full"):
            for value in TIMES:
                assert when(value, fmt) == format_datetime(value, fmt)
        assert when(None) == ""


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
