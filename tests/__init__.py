"""The test suite. Imported before any conftest or test module: development settings for the apps the
tests make from Config and for the flask processes they start (which inherit this environment), so
made-up keys are fine there; tests/deploy starts production processes with an environment of its own."""

import os

os.environ.setdefault("APP_ENV", "development")
