"""Charts as server-rendered SVG: the same markup in HTML pages and in the PDF report.

Three charts, each a ``markupsafe.Markup`` ``<svg>`` element with ``role="img"``, a ``<title>``,
and an ``aria-label`` that reads out every number (screen readers do not look inside an
``img``):

- ``bar_chart``: horizontal bars, one per row, the value text at the bar end (the funnel, pass
  rates);
- ``paired_bars``: two bars per row, with a legend (pre-test vs post-test per module or value);
- ``histogram``: vertical bars over bins, the count above each bar (score distribution).

Rules the markup follows:

- No ``style=`` attribute and no script (the site's Content-Security-Policy), and no colour from
  CSS: fills and sizes are SVG presentation attributes, which browsers and fpdf2 both read. The
  ``class`` names (``chart``, ``chart-bars`` …) are hooks for page CSS, never needed to draw.
- Only a ``viewBox`` (no ``width``/``height``): in a page the chart takes the width of its
  container and keeps its proportions (so its text scales too: pages should cap it, e.g.
  ``.chart { display: block; width: 100%; max-width: 34rem; height: auto }``); in a PDF the
  caller gives the width. The default viewBox is 400 units wide with 14-unit labels above
  their bars, legible on a 360 px phone; ``width=`` and ``label_width=`` give a wider chart
  with the labels in a column on the left (compact, for the PDF). Labels wrap over two lines,
  then are cut short with an ellipsis; they read in full in the ``aria-label`` and in the
  row's ``<title>`` (a tooltip).
- Texts use ``DejaVuSans`` when it is registered (the PDFs register it), the system font in a
  browser. Colours meet WCAG AA: text at least 4.5:1 on its background, bars at least 3:1.
- Every text that comes in is escaped; numbers are formatted here (decimal comma in
  Indonesian).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape

from app.i18n import translations

__all__ = ["COLORS", "PAD", "WIDTH", "bar_chart", "histogram", "paired_bars", "text_width"]

WIDTH = 400  # viewBox width: everything scales with the container (14 units ≈ 12 px on a phone)
PAD = 8
FONT = "system-ui, -apple-system, Roboto, DejaVuSans, 'DejaVu Sans', sans-serif"

# The site's palette (app/static/css/app.css). Contrast with white (texts on the page, white
# value texts on a bar): ink 16.8, muted 8.1, brand 10.3, accent 7.8, grey 4.6, axis line 3.4;
# on the bars' track: ink 14.2, muted 6.8, grey bar 3.8.
COLORS = {
    "ink": "#1d1d1f",
    "muted": "#4f4f55",
    "brand": "#7a1f1f",
    "accent": "#0b5d4b",
    "grey": "#75757e",
    "track": "#eeebe6",
    "line": "#8d8a84",
    "paper": "#ffffff",
}

_ELLIPSIS = "\u2026"
_DASH = "\u2013"


# --- text helpers -------------------------------------------------------------------------


def _char_em(c: str) -> float:
    """A char's advance in em, close to DejaVu Sans (wider than most system fonts, so text
    measured with it fits in a browser too)."""
    if c == " ":
        return 0.32
    if c in "ijl.,:;'|!":
        return 0.28
    if c in "ft()[]{}":
        return 0.34
    if c in "mM":
        return 0.98
    if c in "wW":
        return 0.9
    if c.isdigit():
        return 0.64
    if c.isupper():
        return 0.72
    return 0.6


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """An estimate of the width of ``text`` at font ``size`` (in user units)."""
    width = sum(_char_em(c) for c in text) * size
    return width * 1.08 if bold else width


def _fit(text: str, width: float, size: float, *, bold: bool = False) -> str:
    """``text`` on one line, cut short with an ellipsis when it is wider than ``width``."""
    text = " ".join(text.split())
    if text_width(text, size, bold=bold) <= width:
        return text
    while text and text_width(text + _ELLIPSIS, size, bold=bold) > width:
        text = text[:-1]
    return text.rstrip() + _ELLIPSIS


def _wrap(text: str, width: float, size: float, *, max_lines: int = 2) -> list[str]:
    """``text`` broken into lines at spaces to fit ``width``; the last line kept is cut short
    with an ellipsis when more would follow (a single long word too)."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for k, word in enumerate(words):
        trial = f"{current} {word}" if current else word
        if text_width(trial, size) <= width or not current:
            current = trial
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            current = " ".join(words[k:])
            break
    if current:
        lines.append(current)
    lines = lines[:max_lines]
    return [_fit(line, width, size) for line in lines] or [""]


def _num(value: float, locale: str, *, decimals: int = 1) -> str:
    """``72`` for whole numbers, ``72,5`` (Indonesian) or ``72.5`` (English) otherwise."""
    if not math.isfinite(value):
        return _DASH
    rounded = round(value, decimals)
    if abs(rounded - round(rounded)) < 10 ** (-decimals) / 2:
        text = str(int(round(rounded)))
    else:
        text = f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.replace(".", ",") if not locale.startswith("en") else text


def _f(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@cache
def _attr_name(key: str) -> str:
    """``font_size`` → ``font-size``, ``class_`` → ``class``."""
    return key.rstrip("_").replace("_", "-")


def _attrs(**attrs: object) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        # a coordinate is digits, a sign and a point: nothing to escape
        text = _f(value) if isinstance(value, float) else escape(str(value))
        parts.append(f'{_attr_name(key)}="{text}"')
    return " ".join(parts)


def _text(
    content: str,
    *,
    x: float,
    y: float,
    size: float = 14,
    fill: str = COLORS["ink"],
    anchor: str = "start",
    bold: bool = False,
    class_: str | None = None,
) -> str:
    attrs = _attrs(
        x=float(x),
        y=float(y),
        font_size=size,
        fill=fill,
        text_anchor=anchor if anchor != "start" else None,
        font_weight="bold" if bold else None,
        class_=class_,
    )
    return f"<text {attrs}>{escape(content)}</text>"


def _rect(*, x: float, y: float, w: float, h: float, fill: str, class_: str | None = None) -> str:
    attrs = _attrs(x=float(x), y=float(y), width=float(max(w, 0.0)), height=float(h), fill=fill)
    if class_:
        attrs += f' class="{escape(class_)}"'
    return f"<rect {attrs}/>"


@dataclass(frozen=True)
class _Frame:
    """The chart's viewBox width, and where a row's label and its bars go: above the bars
    across the chart (``label_width`` 0), or in a column of ``label_width`` on the left."""

    width: float = WIDTH
    label_width: float = 0.0

    @property
    def bar_x(self) -> float:
        return PAD + (self.label_width + 8 if self.label_width else 0.0)

    @property
    def track(self) -> float:
        return self.width - PAD - self.bar_x


def _frame(width: float, label_width: float) -> _Frame:
    width = max(float(width), 160.0)
    label_width = min(max(float(label_width), 0.0), width * 0.6)
    return _Frame(width, label_width)


def _svg(
    kind: str, *, title: str, summary: str, width: float, height: float, body: Sequence[str]
) -> Markup:
    label = f"{title}. {summary}" if summary else title
    head = _attrs(
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {_f(width)} {_f(height)}",
        role="img",
        aria_label=label,
        class_=f"chart chart-{kind}",
        font_family=FONT,
    )
    inner = "".join(body)
    return Markup(f"<svg {head}><title>{escape(title)}</title>{inner}</svg>")  # noqa: S704


def _no_data(kind: str, *, title: str, locale: str, width: float = WIDTH) -> Markup:
    message = translations(locale).gettext("No data yet.")
    height = 56.0
    body = [
        _rect(x=0, y=0, w=width, h=height, fill=COLORS["track"], class_="chart-empty"),
        _text(
            message, x=width / 2, y=height / 2 + 5, size=14, fill=COLORS["muted"], anchor="middle"
        ),
    ]
    return _svg(kind, title=title, summary=message, width=width, height=height, body=body)


def _scale(values: Sequence[float], max_value: float | None) -> float:
    top = max_value if max_value is not None and max_value > 0 else max(values, default=0.0)
    return top if top > 0 else 1.0


def _bar_width(value: float, top: float, track: float) -> float:
    if not math.isfinite(value) or value <= 0:
        return 0.0
    return max(2.0, min(value, top) / top * track)  # a sliver shows "more than nothing"


# --- the charts ---------------------------------------------------------------------------

_LABEL = 14.0  # label font size
_LINE = 17.0  # label line height


def _label(frame: _Frame, label: str, *, y: float, bars_h: float) -> tuple[list[str], float]:
    """A row's label, on up to two lines, with its top at ``y``.

    Returns the elements and where the bars start: below the label when it sits above them;
    at ``y`` when it sits in the left column, where it is centred on the bars (``bars_h``).
    """
    width = frame.label_width or frame.width - 2 * PAD
    lines = _wrap(label, width, _LABEL)
    if frame.label_width:
        text_h = len(lines) * _LINE
        top = y + (bars_h - text_h) / 2 if bars_h > text_h else y
        bars_y = y + max(0.0, (text_h - bars_h) / 2)
    else:
        top = y
        bars_y = y + len(lines) * _LINE + 2
    out = [
        _text(line, x=PAD, y=top + 13 + k * _LINE, size=_LABEL, class_="chart-label")
        for k, line in enumerate(lines)
    ]
    return out, bars_y


def _row_bottom(frame: _Frame, label: str, bars_y: float, bars_h: float, y: float) -> float:
    """The y just below a row."""
    if not frame.label_width:
        return bars_y + bars_h
    text_h = len(_wrap(label, frame.label_width, _LABEL)) * _LINE
    return max(bars_y + bars_h, y + text_h)


def _bar(
    frame: _Frame,
    value: float | None,
    text: str,
    *,
    y: float,
    h: float,
    top: float,
    fill: str,
    size: float,
    class_: str,
) -> list[str]:
    """A track across the chart, the bar on it, and the value text at the bar's end: after
    it, or inside its end (white on the bar) when there is no room after it."""
    x, track = frame.bar_x, frame.track
    bar_w = 0.0 if value is None else _bar_width(float(value), top, track)
    out = [_rect(x=x, y=y, w=track, h=h, fill=COLORS["track"])]
    if bar_w:
        out.append(_rect(x=x, y=y, w=bar_w, h=h, fill=fill, class_=class_))
    baseline = y + h / 2 + size * 0.36
    after = x + bar_w + 5
    if after + text_width(text, size, bold=True) <= frame.width - PAD or not bar_w:
        out.append(_text(text, x=after, y=baseline, size=size, bold=True, class_="chart-value"))
    else:
        out.append(
            _text(
                text,
                x=x + bar_w - 5,
                y=baseline,
                size=size,
                fill=COLORS["paper"],
                anchor="end",
                bold=True,
                class_="chart-value",
            )
        )
    return out


def bar_chart(
    rows: Sequence[tuple[str, float, str]],
    *,
    title: str,
    max_value: float | None = None,
    locale: str = "id",
    color: str = COLORS["brand"],
    width: float = WIDTH,
    label_width: float = 0,
) -> Markup:
    """Horizontal bars: ``(label, value, value text)`` per row, the text shown at the bar end.

    Bar lengths are ``value / max_value`` of the track (``max_value`` defaults to the largest
    value); values past it are drawn full length, negative values as no bar. Labels sit above
    their bars on up to two lines (good on a phone), or, with ``label_width`` > 0, in a
    column of that width on the left (compact: the PDF). ``width`` is the viewBox width.
    """
    frame = _frame(width, label_width)
    if not rows:
        return _no_data("bars", title=title, locale=locale, width=frame.width)
    top = _scale([float(v) for _, v, _ in rows], max_value)
    bar_h = 18.0
    body: list[str] = []
    y = 4.0
    for label, value, value_text in rows:
        body.append(f'<g class="chart-row"><title>{escape(f"{label}: {value_text}")}</title>')
        texts, bars_y = _label(frame, label, y=y, bars_h=bar_h)
        body += texts
        body += _bar(
            frame,
            float(value),
            value_text,
            y=bars_y,
            h=bar_h,
            top=top,
            fill=color,
            size=13,
            class_="chart-bar",
        )
        body.append("</g>")
        y = _row_bottom(frame, label, bars_y, bar_h, y) + (12 if not frame.label_width else 9)
    summary = "; ".join(f"{label}: {text}" for label, _, text in rows)
    return _svg("bars", title=title, summary=summary, width=frame.width, height=y, body=body)


def paired_bars(
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    title: str,
    first_label: str,
    second_label: str,
    max_value: float = 100,
    locale: str = "id",
    suffix: str = "%",
    width: float = WIDTH,
    label_width: float = 0,
) -> Markup:
    """Two bars per row (e.g. pre-test, post-test) under a legend; a missing value is "–".

    Values are in the unit of ``max_value`` (by default percentages, 0–100) and shown as
    numbers followed by ``suffix``. ``width`` and ``label_width`` as for ``bar_chart``.
    """
    frame = _frame(width, label_width)
    if not rows:
        return _no_data("paired", title=title, locale=locale, width=frame.width)
    colors = (COLORS["grey"], COLORS["accent"])
    top = max_value if max_value > 0 else 1.0
    bar_h, bars_h = 14.0, 32.0

    def shown(value: float | None) -> str:
        if value is None or not math.isfinite(value):
            return _DASH
        return _num(value, locale) + suffix

    body: list[str] = ['<g class="chart-legend">']
    half = (frame.width - frame.bar_x - PAD) / 2
    for k, (name, fill) in enumerate(zip((first_label, second_label), colors, strict=True)):
        x = frame.bar_x + k * half
        body.append(_rect(x=x, y=6, w=14, h=14, fill=fill))
        body.append(_text(_fit(name, half - 26, 13), x=x + 20, y=18, size=13))
    body.append("</g>")
    summaries = []
    y = 32.0
    for label, first, second in rows:
        texts = (shown(first), shown(second))
        row_title = f"{label}: {first_label} {texts[0]}, {second_label} {texts[1]}"
        summaries.append(row_title)
        body.append(f'<g class="chart-row"><title>{escape(row_title)}</title>')
        lines, bars_y = _label(frame, label, y=y, bars_h=bars_h)
        body += lines
        for j, value in enumerate((first, second)):
            body += _bar(
                frame,
                value,
                texts[j],
                y=bars_y + j * (bars_h - bar_h),
                h=bar_h,
                top=top,
                fill=colors[j],
                size=12,
                class_=f"chart-bar-{j + 1}",
            )
        body.append("</g>")
        y = _row_bottom(frame, label, bars_y, bars_h, y) + 12
    summary = "; ".join(summaries)
    return _svg("paired", title=title, summary=summary, width=frame.width, height=y - 4, body=body)


def histogram(
    counts: Sequence[int],
    *,
    edges: Sequence[float],
    title: str,
    locale: str = "id",
    x_label: str = "",
    color: str = COLORS["brand"],
    width: float = WIDTH,
) -> Markup:
    """Vertical bars over bins ``[edges[i], edges[i + 1])``, the count above each bar and the
    edges along the axis (``x_label`` under them). ``len(edges)`` is ``len(counts) + 1``; no
    counts, or only zeros, give the "no data" chart. Bar heights are ``count / max(counts)``."""
    if counts and len(edges) != len(counts) + 1:
        raise ValueError("histogram: len(edges) must be len(counts) + 1")
    width = max(float(width), 160.0)
    if not counts or sum(max(c, 0) for c in counts) == 0:
        return _no_data("histogram", title=title, locale=locale, width=width)
    n = len(counts)
    tick_size = 12.0
    plot_x, plot_w = PAD + 6.0, width - 2 * PAD - 12.0
    plot_top, plot_h = 22.0, 140.0
    base = plot_top + plot_h
    slot = plot_w / n
    gap = min(4.0, slot * 0.15)
    top = max(counts)
    labels = [_num(float(e), locale) for e in edges]
    body: list[str] = []
    summaries = []
    for i, count in enumerate(counts):
        h = plot_h * max(count, 0) / top
        x = plot_x + i * slot + gap / 2
        span = f"{labels[i]}{_DASH}{labels[i + 1]}"
        summaries.append(f"{span}: {count}")
        body.append(f'<g class="chart-bin"><title>{escape(f"{span}: {count}")}</title>')
        if h > 0:
            h = max(h, 1.5)
            body.append(_rect(x=x, y=base - h, w=slot - gap, h=h, fill=color, class_="chart-bar"))
        body.append(
            _text(
                str(count),
                x=x + (slot - gap) / 2,
                y=base - h - 5,
                size=12 if slot >= 24 else 10,
                fill=COLORS["ink"] if count else COLORS["muted"],
                anchor="middle",
                bold=bool(count),
                class_="chart-value",
            )
        )
        body.append("</g>")
    stroke = f'stroke="{COLORS["line"]}" stroke-width="1"'
    body.append(f"<line {_attrs(x1=plot_x, y1=base, x2=plot_x + plot_w, y2=base)} {stroke}/>")
    # the edges under the axis, thinned out when they would touch
    widest = max(text_width(label, tick_size) for label in labels)
    step = max(1, math.ceil((widest + 6) / slot))
    shown = list(range(0, n + 1, step))
    if shown[-1] != n:
        if n - shown[-1] < step:
            shown[-1] = n  # the last edge matters more than the one just before it
        else:
            shown.append(n)
    for i in shown:
        tx = plot_x + i * slot
        anchor = "start" if i == 0 else "end" if i == n else "middle"
        body.append(f"<line {_attrs(x1=tx, y1=base, x2=tx, y2=base + 4)} {stroke}/>")
        body.append(
            _text(labels[i], x=tx, y=base + 18, size=tick_size, fill=COLORS["muted"], anchor=anchor)
        )
    height = base + 24
    if x_label:
        body.append(
            _text(
                _fit(x_label, plot_w, 13),
                x=plot_x + plot_w / 2,
                y=base + 40,
                size=13,
                anchor="middle",
                class_="chart-axis-label",
            )
        )
        height += 22
    summary = (f"{x_label}: " if x_label else "") + "; ".join(summaries)
    return _svg("histogram", title=title, summary=summary, width=width, height=height, body=body)
