"""What a browser journey records: page loads and form submissions (the effort it takes), keys
pressed, screenshots, console errors, failed requests and accessibility violations (axe-core)."""

import json
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.e2e.seed import ENGLISH_DATA
from tests.factories import LISTEN

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
AXE_VERSION = "4.14.1"
AXE_SOURCE = (HERE / "vendor" / "axe.min.js").read_text(encoding="utf-8")
BLOCKING_IMPACTS = ("serious", "critical")
SUMMARIES: list[dict] = []  # one per journey run, for the terminal summary

# The app's CSP forbids inline scripts, so a <script> tag with axe's source would be blocked (and
# logged as a console error). Evaluating the source through the DevTools protocol is not subject to
# the page's CSP and leaves the page's own policy untouched.
_LOAD_AXE = "() => { if (!window.axe) { " + AXE_SOURCE + "\n } return window.axe.version; }"
_RUN_AXE = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(
      n => n.target.join(" ") + " — " + (n.failureSummary || "").split("\\n").join(" "))}));
}"""
_TIMING = """() => { const n = performance.getEntriesByType("navigation")[0];
  return n ? {server_ms: Math.round(n.responseEnd - n.requestStart),
              load_ms: Math.round(n.loadEventEnd || n.duration)} : null; }"""
_FOCUSED = """() => { const e = document.activeElement;
  return e && e !== document.body ? (e.id || e.getAttribute("name") || e.tagName.toLowerCase()) : null; }"""


# Latin-letter words a Chinese page may show: names of standards, formats and keys, the product's
# own codes. Anything else in a zh_CN checkpoint is an untranslated string (or English in a template).
# Text inside code, pre, kbd and samp, or marked lang="en" (a language's own name, a catalogue entry's
# English name shown beside the Chinese one), is not the page's wording and is not read.
LATIN_ALLOWED = {
    "API",
    "CSV",
    "CSP",
    "HTML",
    "HTTP",
    "HTTPS",
    "ICS",
    "ics",
    "iCalendar",
    "ID",
    "IP",
    "ISO",
    "RFC",
    "UID",
    "IMAP",
    "IMAPS",
    "JSON",
    "PDF",
    "SMTP",
    "SQL",
    "SQLite",
    "PostgreSQL",
    "URL",
    "UTC",
    "VIP",
    "XLSX",
    "Excel",
    "Alt",
    "Ctrl",
    "Enter",
    "Tab",
    "Esc",
    "Shift",
    "NPS",
    "CSAT",
    "CNY",
    "RMB",
    "SLA",
    "Pareto",
    "Token",
    "Bearer",
    "OpenAPI",
    "Redoc",
    "Asia",
    "Shanghai",
    "C",
    "MB",
    "P",  # the early warnings' test, P(X ≥ n), and its p value
    "X",
    "p",
    "English",  # the language's own name, as the language switch and a customer's language show it
}
# The English data the shared test helpers (tests/factories.py) write into cases: a customer's words, not the page's.
FACTORY_TEXTS = (
    *(str(value) for key, value in LISTEN.items() if key in ("customer_words", "restatement", "expectation")),
    "Li Lei",
    "Leaking kettle",
    "We are sorry.",
    "Faulty seal",
    "Replace the kettle",
)
_LATIN_WORDS = r"""() => {
  const skip = "code, pre, kbd, samp, script, style, noscript, [lang=en], [hidden], [data-user-text]";
  const words = [];
  const read = (text, where) => {  // e-mail addresses and anything with a digit (references, codes) are data
    const plain = text.replace(/\S+@\S+|\S*\d\S*/g, " ");
    (plain.match(/[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]/g) || []).forEach(w => words.push([w, where]));
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    read(node.textContent, parent.tagName.toLowerCase() + (parent.className ? "." + parent.className : ""));
  }
  document.querySelectorAll("[aria-label], [placeholder], [title]").forEach(e => {
    if (e.closest(skip)) return;
    ["aria-label", "placeholder", "title"].forEach(a => e.hasAttribute(a) && read(e.getAttribute(a), a));
  });
  return words;
}"""


class Journey:
    """One walk through the app in one browser page, with everything it costs and everything that broke."""

    def __init__(self, page, name: str, lang: str, folder: Path):
        self.page, self.name, self.lang, self.folder = page, name, lang, folder
        self.events: list[tuple[str, str]] = []  # ("load" | "submit", path), in order
        self.steps: list[tuple[str, int, int]] = []  # (label, first event, end)
        self.problems: list[str] = []
        self.expected: set[tuple[int, str]] = set()  # (status, path) a journey provokes on purpose
        self.audits: dict[str, list[dict]] = {}
        self.timings: dict[str, dict] = {}  # per checkpoint: the server's answer and the whole load, in ms
        self.allowed = set(LATIN_ALLOWED)  # and the English data of the cases it shows (allow())
        self.allow(*FACTORY_TEXTS)
        self.keys = 0  # keys pressed to move, choose and submit (typed text not counted)
        self.shots = 0
        self.completed = False
        page.on("load", lambda p: self.events.append(("load", urlsplit(p.url).path)))
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.method} {r.url} ({r.failure})"))
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))

    # -- what happened -------------------------------------------------------------------------------
    def _on_request(self, request):
        posted = request.method == "POST" and (
            (request.is_navigation_request() and request.frame == self.page.main_frame)
            or request.resource_type in ("fetch", "xhr")
        )
        if posted:
            self.events.append(("submit", urlsplit(request.url).path))

    def _on_response(self, response):
        path = urlsplit(response.url).path
        if response.status >= 400 and (response.status, path) not in self.expected:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def _on_console(self, message):
        if message.type != "error":
            return
        if any(f"status of {status}" in message.text for status, _ in self.expected):
            return  # the browser's own line for a response the journey expects
        self.problems.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def allow(self, *texts: str) -> None:
        """Words of data the journey shows that are not the page's wording (a product's English name)."""
        for text in texts:
            self.allowed.update(re.findall(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]", text))

    def expect_status(self, status: int, path: str) -> None:
        """A 4xx this journey provokes on purpose (a form sent with a mistake) is not a failure."""
        self.expected.add((status, path))

    @contextmanager
    def step(self, label: str):
        """Count the page loads and submissions of one part of the journey."""
        start = len(self.events)
        yield
        self.steps.append((label, start, len(self.events)))

    def counted(self, label: str) -> dict:
        _, start, end = next(step for step in self.steps if step[0] == label)
        return _count(self.events[start:end])

    def on_path(self, path: str) -> dict:
        """Page loads of, and submissions to, one address over the whole journey."""
        return _count([event for event in self.events if event[1] == path])

    # -- the keyboard --------------------------------------------------------------------------------
    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.keys += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def focused(self) -> str | None:
        """The id (else name, else tag) of the element that has the focus."""
        return self.page.evaluate(_FOCUSED)

    def wait_for_focus(self, ident: str) -> None:
        """Wait until `ident` has the focus (the browser applies `autofocus` after it renders the page)."""
        self.page.wait_for_function(
            "ident => { const e = document.activeElement; return !!e && (e.id || e.getAttribute('name')) === ident; }",
            arg=ident,
        )

    def tab_to(self, ident: str, limit: int = 6, backwards: bool = False) -> int:
        """Press Tab until `ident` has the focus; fail when that takes more than `limit` presses."""
        for presses in range(limit + 1):
            if self.focused() == ident:
                return presses
            if presses < limit:
                self.press("Shift+Tab" if backwards else "Tab")
        raise AssertionError(f"{ident!r} not reached in {limit} Tab presses; the focus is on {self.focused()!r}")

    # -- checkpoints ---------------------------------------------------------------------------------
    def check(self, label: str) -> None:
        """A screenshot, an axe audit the first time this page is seen, and no error so far."""
        self.page.wait_for_load_state("load")
        self.timings[label] = self.page.evaluate(_TIMING)
        self.shots += 1
        self.page.screenshot(path=str(self.folder / f"{self.shots:02d}-{label}.png"), full_page=True)
        if label not in self.audits:
            assert self.page.evaluate(_LOAD_AXE) == AXE_VERSION
            self.audits[label] = self.page.evaluate(_RUN_AXE)
        if self.lang == "zh_CN":
            self.english_words(label)
        self.assert_clean(label)

    def english_words(self, label: str) -> None:
        """A Chinese page says everything in Chinese: a Latin-letter word of the page's own wording
        (not a customer's words, not a code) is a problem of this checkpoint."""
        self.allow(*ENGLISH_DATA)  # (read now: every journey module has added its data by the time one runs)
        found = [(word, where) for word, where in self.page.evaluate(_LATIN_WORDS) if word not in self.allowed]
        if found:
            listed = ", ".join(sorted({f"{word} ({where})" for word, where in found}))
            self.problems.append(f"English on the Chinese page {label} ({self.page.url}): {listed}")

    def assert_clean(self, where: str = "") -> None:
        assert not self.problems, f"{self.name}-{self.lang} at {where}:\n" + "\n".join(self.problems)
        blocking = {
            label: [v for v in found if v["impact"] in BLOCKING_IMPACTS] for label, found in self.audits.items()
        }
        blocking = {label: found for label, found in blocking.items() if found}
        assert not blocking, f"{self.name}-{self.lang}: serious accessibility violations:\n" + json.dumps(
            blocking, indent=1, ensure_ascii=False
        )

    def finish(self) -> dict:
        self.assert_clean("the end")
        self.completed = True
        return self.save()

    # -- the record ----------------------------------------------------------------------------------
    def slowest(self) -> tuple[str, int]:
        """The checkpoint whose page took longest to load, and how long (ms)."""
        timed = {label: t["load_ms"] for label, t in self.timings.items() if t}
        label = max(timed, key=timed.get, default="")
        return label, timed.get(label, 0)

    def totals(self) -> dict:
        return {
            "journey": self.name,
            "lang": self.lang,
            **_count(self.events),
            "keys": self.keys,
            "slowest_page": "{} ({} ms)".format(*self.slowest()),
            "pages_audited": len(self.audits),
            "completed": self.completed,
            "violations": sum(len(found) for found in self.audits.values()),
            "blocking_violations": sum(
                1 for found in self.audits.values() for v in found if v["impact"] in BLOCKING_IMPACTS
            ),
        }

    def save(self, final: bool = False) -> dict:
        record = {
            **self.totals(),
            "steps": [{"step": label, **_count(self.events[start:end])} for label, start, end in self.steps],
            "timings": self.timings,
            "events": self.events,
            "problems": self.problems,
            "axe_version": AXE_VERSION,
            "axe": self.audits,
        }
        (self.folder / "effort.json").write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
        (self.folder / "effort.md").write_text(_markdown(record), encoding="utf-8")
        if final:
            SUMMARIES.append(self.totals())
        else:
            print(_markdown(record))
        return record


def _count(events) -> dict:
    return {
        "page_loads": sum(1 for kind, _ in events if kind == "load"),
        "submissions": sum(1 for kind, _ in events if kind == "submit"),
    }


def _markdown(record: dict) -> str:
    lines = [
        f"## {record['journey']} ({record['lang']})",
        "",
        f"page loads: {record['page_loads']} · form submissions: {record['submissions']} · "
        f"keys pressed (besides typed text): {record['keys']} · pages audited with axe-core "
        f"{record['axe_version']}: {record['pages_audited']} · violations: {record['violations']} "
        f"(serious or critical: {record['blocking_violations']}) · slowest page: {record['slowest_page']}",
        "",
        "| step | page loads | submissions |",
        "|---|---|---|",
    ]
    lines += [f"| {s['step']} | {s['page_loads']} | {s['submissions']} |" for s in record["steps"]]
    return "\n".join(lines) + "\n"


def summary_table() -> str:
    lines = [
        "| journey | language | page loads | submissions | keys | axe violations (serious+) | slowest page "
        "| completed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s['journey']} | {s['lang']} | {s['page_loads']} | {s['submissions']} | {s['keys']} | "
        f"{s['violations']} ({s['blocking_violations']}) | {s['slowest_page']} | "
        f"{'yes' if s['completed'] else 'no'} |"
        for s in SUMMARIES
    ]
    return "\n".join(lines)


def fits_the_screen(page) -> bool:
    """Nothing wider than the phone: no sideways scrolling to find a button."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


SURVEY_ANSWERS = (
    ("satisfaction", "5"),
    ("recommend", "9"),
    ("buy_again", "yes"),
    ("fair_outcome", "5"),
    ("fair_process", "4"),
    ("fair_treatment", "5"),
)


def tap_survey_answers(page) -> None:
    """Answer the tracking page's survey as a pleased customer would, by tapping."""
    for name, value in SURVEY_ANSWERS:
        page.locator(f"input[name='{name}'][value='{value}']").tap()
