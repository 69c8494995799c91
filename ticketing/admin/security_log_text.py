"""The security log in words: what an entry was about and its details, in the reader's language."""

import json

from ticketing.auth.security_log import SecurityEntry
from ticketing.cases.settings import KEYS as SETTING_KEYS
from ticketing.cases.settings_labels import key_label
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.labelled import label_for
from ticketing.roles import Role

SUBJECTS = {
    "user": _l("Account"),
    "token": _l("API token"),
    "template": _l("Reply template"),
    "setting": _l("Setting"),
    "product": _l("Product"),
    "category": _l("Category"),
    "tier": _l("Value tier"),
}
FIELDS = {
    "email": _l("Email"),
    "name": _l("Name"),
    "role": _l("Role"),
    "active": _l("Active"),
    "reason": _l("Why it failed"),
    "hint": _l("Starts with"),
    "read_only": _l("Read-only"),
    "created": _l("New"),
    "kind": _l("Used for"),
    "locale": _l("Language"),
    "title": _l("Title"),
    "body": _l("Wording"),
    "action": _l("Change"),
    "code": _l("Code"),
    "name_en": _l("English name"),
    "name_zh": _l("Chinese name"),
    "position": _l("Position"),
    "high_value": _l("High value"),
    "alias": _l("Other name"),
    "into": _l("Merged into"),
    "from": _l("Merged from"),
    "cases": _l("Cases"),
    "via": _l("Through"),
    "filters": _l("Filters"),
}
REASONS = {
    "unknown": _l("no account has this address"),
    "password": _l("wrong password"),
    "disabled": _l("the account is disabled"),
    "refused_form": _l("the form was refused (an empty or malformed field)"),
    "throttled": _l("too many failed logins with this address lately: refused without checking the password"),
}


def subject_text(entry: SecurityEntry, names: dict[int, str]) -> str:
    """ "Account: Ann Agent", "Setting: Currency", "API token 3"."""
    if entry.subject_type is None:
        return ""
    kind = SUBJECTS.get(entry.subject_type, entry.subject_type)
    if entry.subject_type == "setting" and entry.subject_id in SETTING_KEYS:
        return _line(kind, key_label(entry.subject_id))
    if entry.subject_type == "user" and entry.account_id in names:
        return _line(kind, names[entry.account_id])
    return f"{kind} {entry.subject_id}"


def detail_lines(entry: SecurityEntry) -> list[str]:
    """One line per fact: "Role: Agent → Supervisor", "Email: a@example.com"."""
    details = dict(entry.details or {})
    changes = details.pop("changes", {})
    before, after = details.pop("before", None), details.pop("after", None)
    if before is not None or after is not None:
        before, after = before or {}, after or {}
        changes.update({name: [before.get(name), after.get(name)] for name in {**before, **after}})
    lines = [_line(_field(name), _value(name, value)) for name, value in details.items()]
    for name, (old, new) in changes.items():
        old_text = _value(name, old) if old is not None else "—"
        lines.append(_line(_field(name), f"{old_text} → {_value(name, new)}"))
    return lines


def _line(name, value) -> str:
    return _("%(name)s: %(value)s", name=name, value=value)  # Chinese writes a full-width colon


def _field(name: str) -> str:
    if name in SETTING_KEYS:
        return str(key_label(name))
    return str(FIELDS.get(name, name))


def _value(name: str, value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "reason":
        return str(REASONS.get(value, value))
    if name == "role":
        return str(label_for(Role, value))
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
