"""A real SMTP server on 127.0.0.1 for tests: aiosmtpd keeping every message it accepts."""

import socket
from email import message_from_bytes, policy


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address) -> list:
        return [message for recipients, message in self.received if recipients == [address]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
