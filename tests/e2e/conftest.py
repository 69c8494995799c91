"""Browser tests: the real app served on a free local port, walked in headless Chromium.

The app runs as its own process (`flask --app wsgi run`) against a fresh database built with
`flask db upgrade`; the tests seed users and cases through the services in this process, on the
same database. Debian's /usr/bin/chromium is launched by path — Playwright never downloads a
browser. Without it the tests skip, unless E2E_REQUIRED=1 (CI), which makes that a failure.
"""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from config import Config, TestConfig
from tests.databases import temporary_postgres_database
from tests.e2e.support import ARTIFACTS, SUMMARIES, Journey, summary_table
from tests.mail import free_port

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SECRET_KEY = "e2e-secret-key-not-for-production"


def _why_unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="package", autouse=True)
def _browser_available():
    reason = _why_unavailable()
    if reason and os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(f"E2E_REQUIRED=1 but {reason}", pytrace=False)
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="package")
def e2e_database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        with temporary_postgres_database(base, "ticketing_e2e") as url:
            yield url
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.sqlite'}"


@pytest.fixture(scope="package")
def live_server(e2e_database_url, tmp_path_factory):
    """The app in its own process on a free port, its schema made by `flask db upgrade`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": e2e_database_url,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_URL": url,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("e2e-uploads")),
        "FLASK_DEBUG": "0",
        # Every journey's staff sign in from 127.0.0.1 within a minute or two: more than the
        # production limit allows one address (the limit itself is tested in tests/web).
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "server.log", "w")
    process = subprocess.Popen(
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_serving(url + "/login", process)
        yield type("LiveServer", (), {"url": url, "env": env})
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}; see {ARTIFACTS / 'server.log'}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the app did not answer on {url} within {timeout} s")


@pytest.fixture(scope="package")
def seed_app(live_server):
    """An app in the test process on the server's database, to seed users and cases with the services."""
    from ticketing import create_app
    from ticketing.extensions import db

    settings = {
        "SQLALCHEMY_DATABASE_URI": live_server.env["DATABASE_URL"],
        "SECRET_KEY": SECRET_KEY,
        "UPLOAD_DIR": live_server.env["UPLOAD_DIR"],
        "PUBLIC_URL": live_server.url,
        # the seeded users' hashes are cheap like every test's; the server checks any method
        "PASSWORD_HASH_METHOD": TestConfig.PASSWORD_HASH_METHOD,
    }
    app = create_app(type("E2ESeedConfig", (Config,), settings))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="package")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    yield type("Browser", (), {"chromium": chromium, "devices": playwright.devices})
    chromium.close()
    playwright.stop()


@pytest.fixture
def journey(browser, live_server):
    """journey(name, lang, **context options) → a Journey on a fresh browser context."""
    contexts, journeys = [], []

    def start(name: str, lang: str, device: str | None = None, **options) -> Journey:
        settings = dict(browser.devices[device]) if device else {"viewport": {"width": 1280, "height": 900}}
        settings.update(
            locale="zh-CN" if lang == "zh_CN" else "en-GB",
            timezone_id="Asia/Shanghai",
            base_url=live_server.url,
            **options,
        )
        context = browser.chromium.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        folder = ARTIFACTS / f"{name}-{lang}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        started = Journey(context.new_page(), name, lang, folder)
        journeys.append(started)
        return started

    yield start
    for started in journeys:
        started.save(final=True)
    for context in contexts:
        context.close()


def pytest_terminal_summary(terminalreporter):
    if SUMMARIES:
        terminalreporter.write_sep("-", "browser journeys: page loads and form submissions")
        table = summary_table()
        terminalreporter.write_line(table)
        (ARTIFACTS / "effort.md").write_text(table + "\n", encoding="utf-8")
