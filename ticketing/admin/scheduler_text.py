"""The scheduler's "Last result" in the reader's language.

The jobs keep their result as one line of English text (ticketing/scheduling/jobs.py and the summaries
of the dispatcher, the mail intake and the reports; the CLI prints the same line). The known forms are
recognised here and said again in the reader's language, with their numbers; a line of another form
(a result written by an older version) is shown as it was kept.
"""

import re

from babel.lists import format_list
from flask_babel import get_locale, ngettext

from ticketing.admin.mail import OUTCOME_LABELS
from ticketing.i18n import gettext as _


def _dispatch(m):
    return _(
        "sent %(sent)s, mailed %(mailed)s, skipped %(skipped)s, cancelled %(cancelled)s, "
        "retried %(retried)s, failed %(failed)s",
        **m.groupdict(),
    )


def _intake(m):
    parts = []
    for item in m["filed"].split(", "):
        count, _space, outcome = item.partition(" ")
        if count.isdigit() and outcome in OUTCOME_LABELS:
            parts.append(_("%(count)s %(what)s", count=count, what=OUTCOME_LABELS[outcome]))
        elif item == "nothing new":
            parts.append(_("nothing new"))
        else:
            parts.append(item)
    said = ngettext(
        "%(num)d mail read: %(filed)s; %(duplicates)s already filed",
        "%(num)d mails read: %(filed)s; %(duplicates)s already filed",
        int(m["read"]),
        filed=format_list(parts, locale=get_locale()),
        duplicates=m["duplicates"],
    )
    return said + (_("; errors: %(errors)s", errors=m["errors"]) if m["errors"] else "")


def _retention(m):
    said = ngettext(
        "%(num)d reminder row older than %(days)d days removed; %(notices)d in-app notices kept whole",
        "%(num)d reminder rows older than %(days)d days removed; %(notices)d in-app notices kept whole",
        int(m["removed"]),
        days=int(m["days"]),
        notices=int(m["notices"]),
    )
    return said + (_("; the query planner's statistics gathered") if m["analyzed"] else "")


def _anchor(m):
    said = ngettext(
        "%(num)d case anchored in %(file)s", "%(num)d cases anchored in %(file)s", int(m["cases"]), file=m["file"]
    )
    if m["unmailed"]:
        return said + _("; not mailed: no SMTP server is configured")
    if m["mailed"]:
        return said + _("; mailed to the auditor")
    if m["error"] is not None:
        return said + _("; mailing it failed: %(error)s", error=m["error"])
    return said


FORMS = [
    (
        r"sent (?P<sent>\d+), mailed (?P<mailed>\d+), skipped (?P<skipped>\d+), cancelled (?P<cancelled>\d+), "
        r"retried (?P<retried>\d+), failed (?P<failed>\d+)",
        _dispatch,
    ),
    (r"not the digest hour", lambda m: _("not the digest hour")),
    (r"(?P<n>\d+) digests queued", lambda m: ngettext("%(num)d digest queued", "%(num)d digests queued", int(m["n"]))),
    (
        r"(?P<n>\d+) early-warning notices queued",
        lambda m: ngettext("%(num)d early-warning notice queued", "%(num)d early-warning notices queued", int(m["n"])),
    ),
    (
        r"facts of (?P<n>\d+) changed cases written",
        lambda m: ngettext(
            "facts of %(num)d changed case written", "facts of %(num)d changed cases written", int(m["n"])
        ),
    ),
    (r"no intake mailbox is set \(MAIL_INTAKE\)", lambda m: _("no intake mailbox is set (MAIL_INTAKE)")),
    (
        r"(?P<read>\d+) mails read: (?P<filed>.*?); (?P<duplicates>\d+) already filed(?:; errors: (?P<errors>.*))?",
        _intake,
    ),
    (
        r"(?P<n>\d+) reports worked out in (?P<seconds>[\d.]+) s, (?P<failed>\d+) failed, (?P<forgotten>\d+) forgotten",
        lambda m: ngettext(
            "%(num)d report worked out in %(seconds)s s, %(failed)s failed, %(forgotten)s forgotten",
            "%(num)d reports worked out in %(seconds)s s, %(failed)s failed, %(forgotten)s forgotten",
            int(m["n"]),
            seconds=m["seconds"],
            failed=m["failed"],
            forgotten=m["forgotten"],
        ),
    ),
    (
        r"(?P<removed>\d+) reminder rows? older than (?P<days>\d+) days removed; (?P<notices>\d+) in-app notices "
        r"kept whole(?P<analyzed>; the query planner's statistics gathered)?",
        _retention,
    ),
    (
        r"(?P<cases>\d+) cases anchored in (?P<file>\S+?)(?:(?P<unmailed>; not mailed: no SMTP server is configured)|"
        r"(?P<mailed>; mailed to the auditor)|; mailing it failed: (?P<error>.*))?",
        _anchor,
    ),
    (r"alive", lambda m: _("alive")),
]
COMPILED = [(re.compile(pattern, re.DOTALL), say) for pattern, say in FORMS]


def result_text(kept: str | None) -> str:
    """A job's kept result in the reader's language, or as kept when it is of no known form."""
    if not kept:
        return ""
    for pattern, say in COMPILED:
        match = pattern.fullmatch(kept)
        if match:
            return say(match)
    return kept
