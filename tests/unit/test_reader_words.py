"""The words and spans a page writes come from the reader's catalogue, looked up once per language in a
request (ticketing/i18n.py, #18), and they follow a language forced for a notice, in Python and in
templates, exactly as Flask-Babel's own look-ups would."""

import random
from datetime import timedelta

import pytest
from babel import dates
from flask import render_template_string
from flask_babel import force_locale, refresh

from ticketing.i18n import duration, gettext, lazy_gettext


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_span_is_said_as_babel_says_it(app, language):
    rng = random.Random(18)
    spans = [timedelta(seconds=s) for s in (0, 1, 59, 60, 89, 90, 91, 3599, 5399, 5400, 86399, 129600)]
    spans += [timedelta(seconds=rng.randint(0, 10**8), microseconds=rng.randint(0, 999_999)) for _ in range(3000)]
    spans += [-span for span in spans[:50]]
    with app.test_request_context("/", headers={"Accept-Language": language}):
        for span in spans:
            expected = dates.format_timedelta(span, threshold=1.5, granularity="minute", locale=language)
            assert duration(span) == expected, span


WORDS = "{{ _('Cases') }} {{ duration(span) }}"


def test_words_follow_a_forced_language_and_come_back(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        label = lazy_gettext("Cases")
        assert gettext("Cases") == "Cases" == str(label)
        with force_locale("zh_CN"):
            assert gettext("Cases") == "案件列表" == str(label)
            assert render_template_string(WORDS, span=timedelta(hours=3)) == "案件列表 3小时"
        assert gettext("Cases") == "Cases"
        assert render_template_string(WORDS, span=timedelta(hours=3)) == "Cases 3 hours"
        refresh()  # a changed choice of language is found again
        assert gettext("Cases") == "Cases"


def test_placeholders_may_have_any_name(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert gettext("%(text)s", text="a") == "a"
        assert render_template_string("{{ _('%(context)s and %(text)s', context='c', text='t') }}") == "c and t"
