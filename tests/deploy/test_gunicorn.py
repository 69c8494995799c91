"""The web process as production runs it: gunicorn with gunicorn.conf.py, two workers, production
settings (APP_ENV unset), a migrated SQLite file database and Redis for the rate limits."""

import html
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.mail import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
PASSWORD = "a long deploy-test passphrase 7"


def _production_env(tmp: Path, **changes) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("APP_ENV", "SECRET_KEY", "AUDIT_KEYS")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'deploy.sqlite'}",
        SECRET_KEY=secrets.token_hex(32),
        AUDIT_KEYS=f"deploy1:{secrets.token_hex(32)}",
        UPLOAD_DIR=str(tmp / "uploads"),
        AUDIT_ANCHOR_DIR=str(tmp / "anchors"),
        GUNICORN_ACCESS_LOG=str(tmp / "access.log"),
        PUBLIC_URL="http://127.0.0.1",
    )
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis of the tests' own; without redis-server a skip, or a failure where the run must be whole
    (E2E_REQUIRED=1, as .ci/run sets, which installs it)."""
    if shutil.which("redis-server") is None:
        (pytest.fail if os.environ.get("E2E_REQUIRED") == "1" else pytest.skip)(
            "needs redis-server (apt-get install redis)"
        )
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory, redis_url):
    """gunicorn serving a migrated database with one agent; yields (url, folder)."""
    tmp = tmp_path_factory.mktemp("deploy")
    env = _production_env(tmp, RATELIMIT_STORAGE_URI=redis_url)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (
        ["db", "upgrade"],
        ["create-user", "--email", "agent@example.com", "--password", PASSWORD, "--role", "agent"],
    ):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    with open(tmp / "gunicorn.log", "w") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, tmp)
        yield url, tmp
    finally:
        process.terminate()
        process.wait(30)


def _wait_until_serving(url: str, process: subprocess.Popen, tmp: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp / "gunicorn.log").read_text()
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer within 30 s:\n{(tmp / 'gunicorn.log').read_text()}")


def _status(opener, url: str, data: dict | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, body, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _access_lines(tmp: Path, until) -> list[str]:
    """The access log's lines once `until(lines)` holds, or after 10 s (workers write as they answer)."""
    deadline = time.monotonic() + 10
    while True:
        lines = (tmp / "access.log").read_text().splitlines() if (tmp / "access.log").exists() else []
        if until(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_the_access_log_has_every_request_with_the_tracking_token_masked(site):
    url, tmp = site
    opener = urllib.request.build_opener()
    assert _status(opener, f"{url}/track/sometoken-secret-123?from=access-test")[0] == 404
    assert _status(opener, f"{url}/login?from=access-test")[0] == 200
    wanted = ['"GET /track/[token]?from=access-test HTTP/1.1" 404', '"GET /login?from=access-test HTTP/1.1" 200']
    lines = _access_lines(tmp, lambda lines: all(any(w in line for line in lines) for w in wanted))
    assert [w for w in wanted if not any(w in line for line in lines)] == [], lines
    assert "sometoken" not in (tmp / "access.log").read_text()
    assert "Traceback" not in (tmp / "gunicorn.log").read_text()


def test_a_session_is_valid_on_every_worker(site):
    url, tmp = site
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = _status(opener, f"{url}/login")[1]
    token = html.unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))
    status, landing = _status(
        opener, f"{url}/login", {"csrf_token": token, "email": "agent@example.com", "password": PASSWORD}
    )
    assert status == 200 and 'name="password"' not in landing  # redirected to the desk, not the form again
    # Five at a time, a connection each: one sync worker cannot take them all, so both serve some.
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda n: _status(opener, f"{url}/account?signed-in={n}")[0], range(30)))
    assert answers == [200] * 30
    lines = _access_lines(tmp, lambda lines: sum("/account?signed-in=" in line for line in lines) == 30)
    served = [line for line in lines if "/account?signed-in=" in line]
    assert len(served) == 30 and all('" 200 ' in line for line in served)
    assert len({re.search(r"pid=<(\d+)>", line).group(1) for line in served}) == 2  # both workers took some


def _boot(tmp: Path, **changes) -> subprocess.CompletedProcess:
    env = _production_env(tmp, **changes)
    port = free_port()
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_gunicorn_without_a_secret_key_fails_at_boot_saying_why(tmp_path):
    booted = _boot(tmp_path, SECRET_KEY=None)
    assert booted.returncode != 0
    assert "SECRET_KEY is not set" in booted.stderr  # (the app is preloaded: gunicorn itself stops, no worker starts)
    short = _boot(tmp_path, SECRET_KEY="short-key")
    assert short.returncode != 0 and "SECRET_KEY is too short" in short.stderr


def test_gunicorn_without_audit_keys_fails_at_boot(tmp_path):
    booted = _boot(tmp_path, AUDIT_KEYS=None)
    assert booted.returncode != 0 and "AUDIT_KEYS or AUDIT_KEY_FILE is not set" in booted.stderr


def test_several_workers_on_per_process_rate_limits_are_refused(tmp_path):
    env = _production_env(tmp_path, RATELIMIT_STORAGE_URI=None)
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}", "-w", "3", "wsgi:app"]
    booted = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert booted.returncode != 0 and "3 workers with RATELIMIT_STORAGE_URI=memory://" in booted.stderr
