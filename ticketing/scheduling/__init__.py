"""The machinery of time: the dispatcher that claims and delivers due reminder rows, the jobs, and the
APScheduler wiring that runs them (in its own process in production)."""
