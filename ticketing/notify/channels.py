"""The ways a notice leaves the building. E-mail today; an SMS or WeChat channel is one more class
with the same four members, registered in CHANNELS — the dispatcher needs nothing else."""

from dataclasses import dataclass
from typing import Protocol

from ticketing.notify import email


@dataclass(frozen=True)
class Outgoing:
    """One message, ready for a channel: who, in which language, what it says, which conversation."""

    address: str
    name: str
    locale: str
    subject: str
    body: str
    token: str  # makes the message's id: a repeat after a crash carries the same one
    thread: str | None = None  # the case's conversation, for the customer's messages


class Session(Protocol):
    def send(self, outgoing: Outgoing) -> None: ...  # raises email.DeliveryError

    def close(self) -> None: ...


class Channel(Protocol):
    name: str

    def configured(self) -> bool: ...

    def address_of(self, person) -> str | None: ...  # a User or a Customer

    def open(self) -> Session: ...  # one per dispatch pass: connections are reused within it


class EmailSession:
    def __init__(self):
        self._mailer = email.Mailer()

    def send(self, outgoing: Outgoing) -> None:
        try:
            message = email.build_message(
                to=outgoing.address,
                to_name=outgoing.name,
                subject=outgoing.subject,
                body=outgoing.body,
                token=outgoing.token,
                locale=outgoing.locale,
                thread=outgoing.thread,
            )
        except ValueError as error:  # a header the library refuses: no retry will change it
            raise email.DeliveryError(f"ValueError: {error}", permanent=True) from error
        self._mailer.send(message)

    def close(self) -> None:
        self._mailer.close()


class EmailChannel:
    name = "email"

    def configured(self) -> bool:
        return email.smtp_configured()

    def address_of(self, person) -> str | None:
        return getattr(person, "email", None) or None

    def open(self) -> Session:
        return EmailSession()


CHANNELS: dict[str, Channel] = {"email": EmailChannel()}


def thread_id(reference: str) -> str:
    """The conversation of one case: every message to its customer refers to this id (In-Reply-To,
    References), so mail programs show them together. No message carries it as its own id, so each
    message's id stays the one its delivery was given."""
    return email.message_id(f"case-{reference}")


class Sessions:
    """The open sessions of one dispatch pass, one per channel, each opened when first needed."""

    def __init__(self):
        self._open: dict[str, Session] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for session in self._open.values():
            session.close()
        self._open.clear()

    def send(self, channel: str, outgoing: Outgoing) -> None:
        if channel not in self._open:
            self._open[channel] = CHANNELS[channel].open()
        self._open[channel].send(outgoing)
