"""The dashboard's pictures, drawn on the server as inline SVG: horizontal bars, columns over time,
and the Pareto chart (bars with their cumulative share). No script: hover text comes from SVG
<title> elements, colours come from app.css, and every bar carries its number in words too."""

import math
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

from ticketing.i18n import gettext as _
from ticketing.insight.results import COUNT, PERCENT, display

BARS, COLUMNS, PARETO = "bars", "columns", "pareto"
WIDTH = 640
FONT = 13


@dataclass
class Bar:
    label: str
    values: tuple  # one number per series (None: nothing to draw)
    texts: tuple  # each value as written beside its bar
    hover: str = ""  # more words for the hover text

    def __post_init__(self):
        """Labels may arrive as lazy translations: drawn text is plain text in the reader's language."""
        self.label, self.hover, self.texts = str(self.label), str(self.hover), tuple(str(t) for t in self.texts)


@dataclass
class Chart:
    kind: str
    bars: list[Bar]
    series: tuple = ()  # series names, shown as a legend when there are several
    axis_max: float | None = None  # a fixed end of the scale (100 for shares, 5 for scores)
    axis_kind: str = COUNT

    def __post_init__(self):
        self.series = tuple(str(name) for name in self.series)


def text_width(text: str, size: float = FONT) -> float:
    """Roughly how wide a text is drawn: Chinese characters are square, Latin ones about half as wide."""
    return sum(size * (1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6) for ch in str(text))


def fit(text: str, width: float, size: float = FONT) -> str:
    """The text, cut with an ellipsis to fit `width`."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, width: float, size: float = FONT, lines: int = 3) -> list[str]:
    """Up to `lines` lines of at most `width`: by words when the text has spaces, else by characters."""
    words = str(text).split(" ") if " " in str(text) else list(str(text))
    joiner = " " if " " in str(text) else ""
    result, current = [], ""
    for word in words:
        candidate = f"{current}{joiner}{word}" if current else word
        if current and text_width(candidate, size) > width:
            result.append(current)
            current = word
        else:
            current = candidate
    result.append(current)
    if len(result) > lines:
        result = result[: lines - 1] + [fit(joiner.join(result[lines - 1 :]), width, size)]
    return [fit(line, width, size) for line in result]


def nice_step(value: float, whole: bool) -> float:
    """The next round step at or above `value` (1, 2, 2.5 or 5 times a power of ten; whole numbers
    only when counting)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    steps = [step * power for step in (1, 2, 2.5, 5, 10)]
    return next(step for step in steps if step >= value and (not whole or step >= 1 and step == int(step)))


def _scale(chart: Chart) -> tuple[float, float]:
    """(end of the scale, gridline step): a fixed end in quarters, else round steps, at most four."""
    if chart.axis_max is not None:
        return chart.axis_max, chart.axis_max / 4
    values = [value for bar in chart.bars for value in bar.values if value is not None]
    step = nice_step(max(values, default=0) / 4, whole=chart.axis_kind == COUNT)
    return step * max(1, math.ceil(max(values, default=0) / step)), step


def _text(x, y, content, anchor="start", cls="", extra="") -> str:
    attrs = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{attrs}{extra}>{escape(content)}</text>'


def _rect(x, y, width, height, cls, hover, pattern: str | None = None) -> str:
    """A bar with its hover text; the second series is hatched, so it differs by more than colour."""
    fill = f' fill="url(#{pattern})"' if pattern and cls.endswith("s1") else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" class="{cls}"{fill}>'
        f"<title>{escape(hover)}</title></rect>"
    )


def _hatch(chart_id: str) -> str:
    return f"{chart_id}-hatch"


def _svg(chart_id: str, title: str, height: float, body: list[str], kind: str) -> Markup:
    pattern = _hatch(chart_id)
    defs = (
        f'<defs><pattern id="{pattern}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern></defs>'
    )
    markup = (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-svg-title" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-svg-title">{escape(title)}</title>{defs}{"".join(body)}</svg>'
    )
    return Markup(markup)


def _legend(chart: Chart, chart_id: str, y: float) -> list[str]:
    parts, x = [], 0.0
    for index, name in enumerate(chart.series):
        parts.append(_rect(x, y - 10, 14, 12, f"bar s{index}", name, _hatch(chart_id)))
        parts.append(_text(x + 19, y, name))
        x += 19 + text_width(name) + 18
    return parts


def bars(chart: Chart, chart_id: str, title: str) -> Markup:
    """Horizontal bars, one group per label; each value written at the end of its bar."""
    series = max(len(bar.values) for bar in chart.bars)
    bar_height, gap = 16, 10
    group = series * bar_height + gap
    top = 24 if len(chart.series) > 1 else 6
    label_width = min(max(text_width(bar.label) for bar in chart.bars) + 12, WIDTH * 0.48)
    value_width = max(text_width(text) for bar in chart.bars for text in bar.texts) + 10
    plot = WIDTH - label_width - value_width
    scale, _step = _scale(chart)
    body = _legend(chart, chart_id, 14) if len(chart.series) > 1 else []
    for row, bar in enumerate(chart.bars):
        y = top + row * group
        body.append(
            f"<g><title>{escape(bar.label)}</title>"
            + _text(label_width - 8, y + series * bar_height / 2 + 4, fit(bar.label, label_width - 10), "end")
            + "</g>"
        )
        for index, (value, text) in enumerate(zip(bar.values, bar.texts)):
            name = chart.series[index] if len(chart.series) > 1 else ""
            hover = " · ".join(part for part in (bar.label, name, text, bar.hover) if part)
            width = plot * (value or 0) / scale
            body.append(
                _rect(
                    label_width, y + index * bar_height, width, bar_height - 3, f"bar s{index}", hover, _hatch(chart_id)
                )
            )
            body.append(_text(label_width + width + 4, y + index * bar_height + bar_height - 6, text, cls="value"))
    height = top + len(chart.bars) * group + 2
    body.append(
        f'<line x1="{label_width:.1f}" y1="{top - 3}" x2="{label_width:.1f}" y2="{height - gap + 2:.1f}" class="axis"/>'
    )
    return _svg(chart_id, title, height, body, BARS)


def _grid(chart: Chart, kind: str, left: float, top: float, plot_height: float, right: float) -> list[str]:
    """Gridlines at round values, labelled on the left axis."""
    scale, step = _scale(chart)
    parts = []
    for index in range(round(scale / step) + 1):
        y = top + plot_height - plot_height * index * step / scale
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="grid"/>')
        parts.append(_text(left - 5, y + 4, display(index * step, kind), "end", "tick"))
    return parts


def columns(chart: Chart, chart_id: str, title: str) -> Markup:
    """Columns along time, the axis labelled at most about ten times."""
    left, top, plot_height, bottom = 48, 14, 170, 36
    right = WIDTH - 8
    slot = (right - left) / len(chart.bars)
    scale, _step = _scale(chart)
    every = math.ceil(len(chart.bars) / 10)
    body = _grid(chart, chart.axis_kind, left, top, plot_height, right)
    for index, bar in enumerate(chart.bars):
        value, text = bar.values[0] or 0, bar.texts[0]
        height = plot_height * value / scale
        x = left + index * slot + slot * 0.15
        hover = " · ".join(part for part in (bar.hover or bar.label, text) if part)
        body.append(_rect(x, top + plot_height - height, slot * 0.7, height, "bar s0", hover))
        if len(chart.bars) <= 16 and value:
            body.append(_text(x + slot * 0.35, top + plot_height - height - 3, text, "middle", "value"))
        if index % every == 0:
            body.append(_text(x + slot * 0.35, top + plot_height + 16, bar.label, "middle", "tick"))
    body.append(f'<line x1="{left}" y1="{top + plot_height}" x2="{right}" y2="{top + plot_height}" class="axis"/>')
    return _svg(chart_id, title, top + plot_height + bottom, body, COLUMNS)


def pareto(chart: Chart, chart_id: str, title: str) -> Markup:
    """Bars from the largest down with the cumulative share as a line (right axis, 0-100%):
    the few causes left of where the line crosses 80% make most of the complaints."""
    left, top, plot_height, right = 48, 16, 180, WIDTH - 44
    slot = (right - left) / len(chart.bars)
    scale, _step = _scale(chart)
    total = sum(bar.values[0] or 0 for bar in chart.bars) or 1
    body = _grid(chart, COUNT, left, top, plot_height, right)
    for step in range(5):
        y = top + plot_height - plot_height * step / 4
        body.append(_text(right + 5, y + 4, display(25 * step, PERCENT), cls="tick"))
    y80 = top + plot_height * 0.2
    body.append(f'<line x1="{left}" y1="{y80:.1f}" x2="{right}" y2="{y80:.1f}" class="reference"/>')
    body.append(_text(left + 4, y80 - 4, display(80, PERCENT), cls="reference-label"))
    points, running, value_y = [], 0.0, []
    for index, bar in enumerate(chart.bars):
        value = bar.values[0] or 0
        running += value
        share = 100 * running / total
        height = plot_height * value / scale
        x = left + index * slot + slot * 0.15
        body.append(_rect(x, top + plot_height - height, slot * 0.7, height, "bar s0", f"{bar.label} · {bar.texts[0]}"))
        inside = height > 18  # the count inside a tall bar, so the cumulative labels above stay clear
        value_y.append(top + plot_height - height + (14 if inside else -3))
        body.append(
            _text(
                x + slot * 0.35,
                top + plot_height - height + (14 if inside else -3),
                bar.texts[0],
                "middle",
                "value inside" if inside else "value",
            )
        )
        for line, words in enumerate(wrap(bar.label, slot - 10, 12)):
            body.append(_text(x + slot * 0.35, top + plot_height + 15 + line * 14, words, "middle", "tick"))
        points.append((x + slot * 0.35, top + plot_height - plot_height * share / 100, share))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _share in points)
    body.append(f'<polyline points="{path}" class="cumulative"/>')
    for (x, y, share), bar, count_y in zip(points, chart.bars, value_y):
        label_y = _clear_of(y - 8, count_y, top)
        hover = _("%(label)s: %(share)s of all so far", label=bar.label, share=display(share, PERCENT))
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" class="cumulative-point"><title>{escape(hover)}'
            f"</title></circle>"
        )
        body.append(_text(x, label_y, display(share, PERCENT), "middle", "cumulative-value"))
    body.append(f'<line x1="{left}" y1="{top + plot_height}" x2="{right}" y2="{top + plot_height}" class="axis"/>')
    return _svg(chart_id, title, top + plot_height + 56, body, PARETO)


def _clear_of(label_y: float, count_y: float, top: float, line: float = 13) -> float:
    """Where a cumulative share's label goes so it never sits on its bar's count (inside a tall bar or
    above a short one): above the count when there is room, else just below it."""
    if abs(label_y - count_y) >= line:
        return label_y
    above = min(label_y, count_y) - line
    return above if above >= top else count_y + line


RENDERERS = {BARS: bars, COLUMNS: columns, PARETO: pareto}


def render(chart: Chart | None, chart_id: str, title: str) -> Markup:
    """The chart as inline SVG markup (empty when there is nothing to draw)."""
    if chart is None or not chart.bars:
        return Markup("")
    return RENDERERS[chart.kind](chart, chart_id, str(title))
