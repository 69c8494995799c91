"""The dashboard's figures as they were computed before the per-case facts: straight from the cases and
their records (a copy of ticketing/insight/{queries,volume,handling,recovery,voice,causes}.py as of 79b0243).
Kept as the reference the facts-based figures must equal (tests/insight/test_figures_exact.py)."""
