"""Staff users, their sessions and API tokens (roles themselves are in the kernel, ticketing/roles.py)."""
