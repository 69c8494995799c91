"""Reply templates' placeholders: the names a template may use, the check made when one is saved,
and the filling of a template for one case.

A template is plain text with `{name}` placeholders (`{{` and `}}` write a brace). Filling never
uses str.format (a template could reach attributes with `{reference.__class__}`): the text is read
with string.Formatter's parser, and only the known names, without conversion or format, are
replaced. The result is plain text; pages escape it like any other.

The customer's private link is not a placeholder: a link is a fresh token, minted only when it is
sent (scheduling/delivery.py); one minted for a page or an internal field could open the case to
whoever reads it. A message to the customer already ends with their private link in its e-mail;
`{portal_url}` is the public page where a customer asks for a link with their reference and e-mail.
"""

from string import Formatter

from flask import current_app
from flask_babel import force_locale

from ticketing.i18n import day
from ticketing.i18n import lazy_gettext as _l

PLACEHOLDERS = {
    "customer_name": _l("the customer's name"),
    "reference": _l("the case reference"),
    "subject": _l("the case's subject"),
    "product": _l("the product or service involved"),
    "promised_date": _l("the date promised to the customer (… until a proposal promises one)"),
    "agent_name": _l("your own name, as the one who writes"),
    "portal_url": _l("the page where customers ask for their private link (never the link itself)"),
}
MISSING = "…"  # what a placeholder the case has no value for becomes: the agent sees what to complete


class PlaceholderError(ValueError):
    """A template that cannot be filled: a malformed brace or an unknown name (`reason` says which)."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def known() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def _pieces(body: str):
    """(literal text, placeholder name or None) in order; PlaceholderError when the text cannot be read."""
    try:
        parsed = list(Formatter().parse(body))
    except ValueError:
        raise PlaceholderError(
            _l("A brace is not closed or not opened. Write {name} for a placeholder, {{ or }} for a brace itself.")
        ) from None
    for literal, name, spec, conversion in parsed:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            raise PlaceholderError(
                _l("Unknown placeholder %(name)s. The known ones are: %(known)s.", name=shown, known=known())
            )
        yield literal, name


def check(body: str) -> None:
    """Refuse (PlaceholderError) a template that names an unknown placeholder or has a stray brace."""
    for _piece in _pieces(body):
        pass


def values(ticket, writer, locale: str) -> dict:
    """What each placeholder stands for on `ticket`, written in `locale` (dates in its format)."""
    with force_locale(locale):
        promised = day(ticket.promised_date) if ticket.promised_date else ""
    return {
        "customer_name": ticket.customer.name,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "product": ticket.product or "",
        "promised_date": promised,
        "agent_name": writer.name,
        "portal_url": f"{current_app.config['PUBLIC_URL'].rstrip('/')}/track/lost",
    }


def fill(body: str, filled: dict) -> str:
    """The template's text with its placeholders replaced by `filled` (see values())."""
    return "".join(literal + ((filled.get(name) or MISSING) if name else "") for literal, name in _pieces(body))
