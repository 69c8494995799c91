"""The API reference page in the reader's language (templates/api/docs.html).

The OpenAPI document (ticketing/api/openapi.py) stays in English, as integrations read it; the readable
page says its title, summaries, descriptions and answers through these messages. A text the document
gains without a message here shows in English, and tests/api/test_api_docs_words.py fails on it.
"""

# ruff: noqa: E501 (each message written whole, as the document has it)

import re

from markupsafe import Markup, escape

from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l

MESSAGES = (
    _l("Service Recovery Desk API"),
    _l("Take a complaint from another system"),
    _l(
        "Opens a case in the team queue. Send an `Idempotency-Key` to retry safely: the same key and body answer the same case (with `Idempotent-Replayed: true`)."
    ),
    _l("Success."),
    _l("Malformed JSON, a bad cursor or a bad Idempotency-Key header."),
    _l("No token, or a token that is revoked, unknown or belongs to a disabled account."),
    _l("The token is read-only, or may not do this: changing the settings takes an administrator's token."),
    _l("The body is not JSON."),
    _l(
        "Invalid fields (listed in `errors`), a refusal by the workflow (the reason in `detail`), or an Idempotency-Key reused with another body. Nothing was saved."
    ),
    _l("Too many requests for this token; retry after the time in the Retry-After header."),
    _l("The complaint, in the customer's words."),
    _l("An active category's code (GET /api/v1/catalogues)."),
    _l("As the customer names it; linked to the catalogue's product it names, or a new one."),
    _l("What the customer would like, in their words."),
    _l("List cases, oldest first, a page at a time; or search them with `q`"),
    _l(
        "Search: a reference or part of one (`000011`, `2026-11`), a phone in any format, a name or part of one, an e-mail, a product, or words of the subject, description, messages and internal notes (Chinese substrings too). Every word must appear. With `q` the cases come ranked — the exact reference, then the cases of the customer with that exact phone or e-mail, then open cases, newest first, then the rest — instead of oldest first."
    ),
    _l("A case with its step records, messages, notes and version"),
    _l("No such case or customer (the same answer whether it never existed or is malformed)."),
    _l("The case reference, C-2026-000123."),
    _l("Send a message the customer sees"),
    _l("Optional: notes and messages do not conflict."),
    _l("The case's record log, hash-chained"),
    _l("Record step 1: the complaint heard and restated"),
    _l("The case changed since you read it (stale `version`): read it again. Nothing was saved."),
    _l("The case `version` you read; a newer one answers 409."),
    _l("Record step 2: the apology"),
    _l("Record step 3: the cause, judged fairly"),
    _l("Propose a resolution with compensation"),
    _l("How we will resolve it."),
    _l("Within the next two years, not in the past."),
    _l("ISO 4217 code; the desk's default currency when left out."),
    _l("Why the compensation is fair; required when it is out of proportion to the loss."),
    _l("Approve compensation above the proposer's limit"),
    _l("Refuse compensation above the proposer's limit"),
    _l("The customer accepts the proposal"),
    _l("What the customer said."),
    _l("The customer rejects the proposal"),
    _l("The accepted resolution is carried out"),
    _l("What was done."),
    _l("Record step 5: the follow-up with the customer"),
    _l("1 = very unhappy, 5 = delighted."),
    _l("Required when retention is `lost` or `at_risk`; refused when `retained`."),
    _l("Required when unsatisfied."),
    _l("Record step 6: the summary and the lesson"),
    _l("Approve the review: the case closes"),
    _l("Return the case to a step"),
    _l("Assign the case to a staff member"),
    _l("Add an internal note"),
    _l("Cancel a case that needs no handling"),
    _l("Merge a duplicate into the case it repeats"),
    _l("Reference of the case this one duplicates."),
    _l("Reopen a closed or cancelled case"),
    _l("Correct the category, priority, product or subject"),
    _l("A category's code; `null` for not categorised."),
    _l("`null` or empty for none."),
    _l("Escalate with a reason: a higher priority, a new holder, or both"),
    _l("Above the case's priority now."),
    _l("The supervisor or colleague who takes the case."),
    _l("Find customers by name, e-mail, phone or external id"),
    _l("The customer with that exact phone or e-mail comes first, then the newest."),
    _l("Name (or part of one), e-mail, phone in any format, or external id."),
    _l("A customer with their cases, newest first"),
    _l("The categories, products and value tiers, with their codes and names"),
    _l(
        "The codes a case's `category`, `product_code` and a customer's `value_tier` take, each with its English and Chinese name; retired entries too (`active: false`), and merged products with the product they were merged into."
    ),
    _l("The desk's settings: each with its value, section and whether you may change it"),
    _l("Change some of the desk's settings (administrators' tokens only)"),
    _l(
        "Send only the settings to change. Every value is checked before anything is saved: one refused value (422, the setting named in `errors`) saves none. Each change is recorded with who and when, and is in force at the next request everywhere."
    ),
    _l("Every priority, with its two hours."),
    _l("Categories with hours of their own; the whole table (a category left out has none)."),
    _l(
        'Working hours per weekday, "0" (Monday) to "6": ["09:00", "18:00"], or null (or left out) for a day off; null for the whole setting: deadlines run around the clock.'
    ),
    _l("Days off, whatever their weekday."),
    _l("Make-up working days: worked though their weekday is off."),
    _l("Every role, with its approval limit."),
    _l("ISO 4217, e.g. CNY."),
    _l("Per priority, the compensation lines [type, amount or null] a missed deadline offers."),
    _l("From 0.05 to 0.99."),
    _l("0 to 23, in the desk's timezone."),
    _l("7 to 3650: sent and cancelled reminder rows older than this are removed."),
    _l("true: one person may handle and approve a case alone (recorded on each case it applies to)."),
    _l("Every responsibility, with the factor of the estimated loss an offer may reach (0 to 100)."),
    _l("With no loss entered, an offer may reach this."),
    _l("5 to 1440: a login ends after this many minutes without a request."),
    _l("1 to 720: a login ends this many hours after it began, however active."),
    _l("query"),
    _l("path"),
    _l("header"),
)


def page_text(english: str) -> Markup:
    """One text of the OpenAPI document as the reference page shows it: what is `quoted` so (a
    header, a field, a value) shown as code, in either language."""
    if not english:
        return Markup("")
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(_(english)))))


def code(text) -> Markup:
    """A header, a field or a value named in a sentence of the page."""
    return Markup("<code>{}</code>").format(text)
