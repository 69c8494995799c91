"""English and Simplified Chinese ship complete: every user-facing string has a Chinese text."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "ticketing/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def _ids(catalog):
    return {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id}


def test_every_message_in_the_source_is_in_the_chinese_catalog(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "--ignore-dirs",
            ".*",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as source, CATALOG.open("rb") as translated:
        missing = _ids(read_po(source)) - _ids(read_po(translated))
    assert not missing, f"run `make extract-messages` and translate: {sorted(missing)[:10]}"


def test_every_chinese_message_is_translated_and_not_fuzzy():
    with CATALOG.open("rb") as translated:
        catalog = read_po(translated)
    untranslated = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else m.string[0])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_a_chinese_speaking_user_reads_the_desk_in_chinese(client, make_user):
    from tests.conftest import login

    user = make_user("agent", locale="zh_CN")
    login(client, user.email)
    page = client.get("/intake").get_data(as_text=True)
    assert "新建投诉" in page and "New complaint" not in page
