"""Insight: the dashboard, early warnings, customers at risk, win-back actions and the team view."""
