"""Tests that run real scheduler processes against a real database and a real SMTP server."""
