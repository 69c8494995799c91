"""Staff users, roles, login and sessions."""
