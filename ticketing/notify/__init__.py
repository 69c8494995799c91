"""Delivering reminders: e-mail over SMTP and in-app notifications."""
