"""Small charts as inline SVG inside plain HTML, for a report that needs no network.

Every function returns a string of HTML with all text escaped. Horizontal bar charts are
HTML tables with one small SVG bar per row, so labels wrap and align as text does and the
bars scale with the page; the histogram is one SVG. Each drawn mark carries
``data-value`` (the number it stands for) and, when the number comes from the run's
``summary.json``, ``data-field`` (a JSON pointer into it), so a test can check that what
is drawn is what the summary says.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

BAR_WIDTH = 1000
BAR_HEIGHT = 18


def esc(text: object) -> str:
    """HTML-escape any value for element text or a quoted attribute."""
    return html.escape(str(text), quote=True)


def num(n: int) -> str:
    """An integer with thousands separators."""
    return f"{n:,}"


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) to a value in the summary, e.g. ``/segments/0/tiers/T1``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def field_attrs(value: int, field: str | None) -> str:
    """The ``data-value`` and optional ``data-field`` attributes of a mark or number."""
    attrs = f' data-value="{value}"'
    if field is not None:
        attrs += f' data-field="{esc(field)}"'
    return attrs


@dataclass(frozen=True)
class Part:
    """One stretch of a bar: its value, CSS class (colour) and hover text."""

    value: int
    css: str
    title: str
    field: str | None = None


@dataclass(frozen=True)
class BarRow:
    """One row of a bar chart.

    Attributes:
        label: Text on the left; wraps when long.
        parts: The stretches of the bar, drawn left to right.
        value: The number shown right of the bar.
        field: JSON pointer of ``value`` in the summary, when it comes from there.
        note: Plain text after the number (escaped), e.g. a share or what was lost.
        note_html: Already-escaped HTML after the note.
        cap: Draws a dashed outline to this value: the most the row may hold.
        band: Shades this range of values behind the bar: where the value should be.
    """

    label: str
    parts: tuple[Part, ...]
    value: int
    field: str | None = None
    note: str = ""
    note_html: str = ""
    cap: int | None = None
    band: tuple[int, int] | None = None


def bar_svg(
    parts: Sequence[Part],
    scale: int,
    cap: int | None = None,
    band: tuple[int, int] | None = None,
) -> str:
    """One horizontal bar of stacked parts, ``scale`` being the full width's value."""
    scale = max(scale, 1)
    marks = []
    if band is not None:
        lo, hi = (BAR_WIDTH * min(v, scale) / scale for v in band)
        marks.append(
            f'<rect class="band" x="{lo:.2f}" y="0" width="{hi - lo:.2f}" height="{BAR_HEIGHT}">'
            f"<title>expected: {num(band[0])} to {num(band[1])}</title></rect>"
        )
    x = 0.0
    for part in parts:
        width = BAR_WIDTH * part.value / scale
        marks.append(
            f'<rect class="{esc(part.css)}" x="{x:.2f}" y="2" width="{width:.2f}" '
            f'height="{BAR_HEIGHT - 4}"{field_attrs(part.value, part.field)}>'
            f"<title>{esc(part.title)}</title></rect>"
        )
        x += width
    if cap is not None:
        width = BAR_WIDTH * cap / scale
        marks.append(
            f'<rect class="cap" x="0" y="1" width="{width:.2f}" height="{BAR_HEIGHT - 2}" '
            f'vector-effect="non-scaling-stroke" data-value="{cap}">'
            f"<title>cap: {num(cap)}</title></rect>"
        )
    return (
        f'<svg class="bar" viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}" preserveAspectRatio="none" '
        f'width="100%" height="{BAR_HEIGHT}" role="img" aria-hidden="true">'
        f"{''.join(marks)}</svg>"
    )


def bar_table(
    rows: Sequence[BarRow],
    *,
    chart: str,
    scale: int | None = None,
    head: tuple[str, str] | None = None,
    more: str = "",
) -> str:
    """A bar chart as a table: label, bar, number, note.

    Args:
        rows: The rows, in display order.
        chart: Name of the chart (``data-chart``), to find it in the page.
        scale: The value of a full-width bar; default the largest value or cap.
        head: Column headings for the label and the number, if wanted.
        more: A last line below the rows, e.g. "and 12 more (340 accounts)".
    """
    if scale is None:
        scale = max(
            [sum(p.value for p in r.parts) for r in rows] + [r.cap or 0 for r in rows] + [1]
        )
    out = [f'<table class="bars" data-chart="{esc(chart)}" data-scale="{scale}">']
    if head is not None:
        out.append(
            f'<thead><tr><th scope="col">{esc(head[0])}</th><th></th>'
            f'<th scope="col" class="num">{esc(head[1])}</th><th></th></tr></thead>'
        )
    out.append("<tbody>")
    for row in rows:
        bar = bar_svg(row.parts, scale, row.cap, row.band) if row.parts or row.cap else ""
        out.append(
            f'<tr><th scope="row">{esc(row.label)}</th><td class="barcell">{bar}</td>'
            f'<td class="num"{field_attrs(row.value, row.field)}>{num(row.value)}</td>'
            f'<td class="note">{esc(row.note)}{row.note_html}</td></tr>'
        )
    out.append("</tbody>")
    if more:
        out.append(f'<tfoot><tr><td colspan="4" class="more">{esc(more)}</td></tr></tfoot>')
    out.append("</table>")
    return "".join(out)


@dataclass(frozen=True)
class Threshold:
    """A vertical line on the histogram: accounts scoring at least ``score`` are ``label``."""

    label: str
    score: int
    css: str


def histogram(
    counts: Sequence[tuple[int, int]],
    thresholds: Sequence[Threshold],
    *,
    chart: str,
    fields: Sequence[str | None] | None = None,
    max_bins: int = 60,
    width: int = 1000,
    height: int = 250,
) -> str:
    """Bars of accounts per score, with a dashed line at each tier's threshold.

    Args:
        counts: ``(score, accounts)`` pairs, ascending by score, scores unique.
        thresholds: Tier thresholds, highest first; bars at or above one take its colour.
        chart: Name of the chart (``data-chart``).
        fields: Per pair, the JSON pointer of its count in the summary. Only used when
            every score has a bar of its own (no binning).
        max_bins: With a wider range of scores, neighbouring scores share a bar.
        width: Width of the drawing in SVG units.
        height: Height of the drawing in SVG units.
    """
    scores = [s for s, _ in counts] + [t.score for t in thresholds]
    if not scores:
        return '<p class="empty">No eligible accounts.</p>'
    lo, hi = min(scores), max(scores)
    step = max(1, math.ceil((hi - lo + 1) / max_bins))
    n_bins = (hi - lo) // step + 1
    bins = [0] * n_bins
    for score, n in counts:
        bins[(score - lo) // step] += n
    left, right, top, bottom = 56, 12, 30, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(bins), 1)
    bin_w = plot_w / n_bins

    def x_of(score: float) -> float:
        return left + (score - lo) / step * bin_w

    def css_of(score: int) -> str:
        for t in thresholds:
            if score >= t.score:
                return t.css
        return "below"

    own_fields = dict(zip((s for s, _ in counts), fields or [], strict=False)) if step == 1 else {}
    marks = _frame_marks(left, top, plot_w, plot_h, peak)
    label_every = max(1, math.ceil(n_bins / 24))
    for b, n in enumerate(bins):
        start = lo + b * step
        name = str(start) if step == 1 else f"{start} to {start + step - 1}"
        h = plot_h * n / peak
        x = left + b * bin_w
        marks.append(
            f'<rect class="{css_of(start)}" x="{x + 1:.2f}" y="{top + plot_h - h:.2f}" '
            f'width="{max(bin_w - 2, 0.5):.2f}" height="{h:.2f}" data-score="{esc(name)}"'
            f"{field_attrs(n, own_fields.get(start))}>"
            f"<title>score {esc(name)}: {num(n)} accounts</title></rect>"
        )
        if b % label_every == 0:
            marks.append(
                f'<text class="tick" x="{x + bin_w / 2:.2f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{start}</text>'
            )
    marks.append(
        f'<text class="axislabel" x="{left + plot_w / 2:.2f}" y="{height - 4}" '
        f'text-anchor="middle">score</text>'
    )
    marks += _threshold_marks(thresholds, [x_of(t.score) for t in thresholds], top, plot_h)
    return (
        f'<svg class="histogram" data-chart="{esc(chart)}" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="accounts per score">{"".join(marks)}</svg>'
    )


def _frame_marks(left: int, top: int, plot_w: int, plot_h: int, peak: int) -> list[str]:
    """The histogram's x axis, its 0 and peak ticks, and a grid line at the peak."""
    return [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}"/>',
        f'<text class="tick" x="{left - 6}" y="{top + plot_h}" text-anchor="end" '
        f'dominant-baseline="middle">0</text>',
        f'<text class="tick" x="{left - 6}" y="{top}" text-anchor="end" '
        f'dominant-baseline="middle">{num(peak)}</text>',
        f'<line class="grid" x1="{left}" y1="{top}" x2="{left + plot_w}" y2="{top}"/>',
    ]


def _threshold_marks(
    thresholds: Sequence[Threshold], xs: Sequence[float], top: int, plot_h: int
) -> list[str]:
    """A dashed line and a label per threshold, at ``xs`` (the thresholds' positions)."""
    marks = []
    for k, (t, x) in enumerate(zip(thresholds, xs, strict=True)):
        # Staggered labels: thresholds one score apart would otherwise overwrite each other.
        y = 12 + 12 * (k % 2)
        marks.append(
            f'<line class="threshold" x1="{x:.2f}" y1="{top - 4}" x2="{x:.2f}" '
            f'y2="{top + plot_h}" data-score="{t.score}"/>'
            f'<text class="thlabel" x="{x + 3:.2f}" y="{y}">{esc(t.label)} ≥ {t.score}</text>'
        )
    return marks
