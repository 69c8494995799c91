"""Supervisor review: the review queue, approvals, quality sampling and the record-log browser."""
