"""No name can change where a message goes: every To: header names the customer's own address,
read by Python's parser and by the older parser many mail programs still follow."""

from email import message_from_bytes, policy
from email.utils import getaddresses

import pytest

from ticketing.notify import email

HOSTILE = [
    "Zoë, <attacker@x.example>",
    "attacker@x.example",
    "<attacker@x.example>",
    '"Li Lei" <attacker@x.example>',
    "Li, Lei",
    "Li Lei; attacker@x.example",
    "Li (attacker@x.example) Lei",
    'Li "Lei" <a@x.example>, b@x.example',
    "Li\\ Lei\\",
    "=?utf-8?q?attacker=40x.example?=",
    "=?utf-8?b?PGF0dGFja2VyQHguZXhhbXBsZT4=?=",
    "محمد <attacker@x.example>",
    "\u202eelpmaxe.x@rekcatta\u202c",
    "王芳, 李雷 <attacker@x.example>",
    "Ōsaka: Café “Ünïcödé” <x@y>",
    "Li\r\nBcc: victim@example.com",
    "Li\x0bLei\x0c<attacker@x.example>",
    "A" * 300 + " <attacker@x.example>",
    "\u200b\u2066attacker@x.example\u2069",
    "Group: attacker@x.example;",
]


def _written(message) -> bytes:
    return message.as_bytes(policy=policy.SMTP)


@pytest.mark.parametrize("name", HOSTILE)
def test_every_to_header_parses_to_the_customers_own_address(app, name):
    message = email.build_message(
        to="li.lei@example.com", to_name=name, subject="Your case C-2026-000001", body="Body", token="t-1"
    )
    raw = _written(message)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["li.lei@example.com"]
    header = raw.decode("ascii").split("\r\n\r\n", 1)[0]
    to_lines = [line for line in header.replace("\r\n ", " ").split("\r\n") if line.lower().startswith("to:")]
    assert len(to_lines) == 1 and [addr for _name, addr in getaddresses([to_lines[0][3:]])] == ["li.lei@example.com"]
    assert parsed["Bcc"] is None and parsed["Cc"] is None
    assert len(str(parsed["To"].addresses[0].display_name)) <= email.NAME_IN_HEADER


def test_an_ordinary_name_is_kept_as_written(app):
    for name in ("Li Lei", "王芳", "Zoë O'Brien-Smith", "محمد علي"):
        message = message_from_bytes(
            _written(email.build_message(to="c@example.com", to_name=name, subject="S", body="B", token="t")),
            policy=policy.default,
        )
        assert message["To"].addresses[0].display_name == name
