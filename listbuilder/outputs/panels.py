"""The panels (cards) of a segment's section of the run report: funnel, tiers against their
caps, score distribution, criteria, disqualifiers, breakdowns, changes and the top tier.

Each panel is a function of checked data (``facts``) to an HTML string.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from listbuilder.outputs.charts import (
    BarRow,
    Part,
    Threshold,
    bar_table,
    esc,
    field_attrs,
    histogram,
    num,
    pointer,
)
from listbuilder.outputs.facts import TOP_ROWS, Breakdown, RunInfo, SegmentInfo
from listbuilder.outputs.sizes import ADS_MIN, ADS_RECOMMENDED, ICP_MAX

DASH = "\u2013"
MINUS = "\u2212"
CHANGE_LABELS = {
    "added": "Added",
    "dropped": "Dropped",
    "tier_up": "Tier up",
    "tier_down": "Tier down",
    "moved_segment": "Moved segment",
    "held": "Held by stickiness",
}


def tier_css(k: int) -> str:
    """The CSS class of the ``k``-th tier (0 first); tiers past the fourth share its colour."""
    return f"tier{min(k + 1, 4)}"


def count_of(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1: ``1 segment``, ``2 segments``."""
    return f"{num(n)} {noun}" if n == 1 else f"{num(n)} {noun}s"


def pct(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` (one decimal under 10%); empty if ``whole`` is 0."""
    if whole <= 0:
        return ""
    share = 100 * part / whole
    return f"{share:.1f}%" if share < 10 else f"{share:.0f}%"


def num_cell(value: int, field: str | None = None) -> str:
    """A right-aligned table cell with ``value``, carrying its summary pointer if given."""
    return f'<td class="num"{field_attrs(value, field)}>{num(value)}</td>'


def card(title: str, content: str, *, wide: bool = False, note: str = "") -> str:
    """A panel: a titled section with an optional hint; ``wide`` spans the whole grid."""
    note_html = f'<p class="hint">{esc(note)}</p>' if note else ""
    css = "card wide" if wide else "card"
    return f'<section class="{css}"><h3>{esc(title)}</h3>{note_html}{content}</section>'


def funnel(seg: SegmentInfo) -> str:
    """The funnel from companies read to the list, one bar per step, tiers in colour."""
    f = seg.funnel
    legend = "".join(
        f'<span class="key"><span class="swatch {tier_css(k)}"></span>{esc(t.name)}</span>'
        for k, t in enumerate(seg.tiers)
    )
    read_field = pointer("segments", seg.index, "funnel", "companies_read")
    read = (
        f'<p class="read">Of <strong{field_attrs(f["companies_read"], read_field)}>'
        f"{num(f['companies_read'])}</strong> companies read</p>"
    )
    return (
        read
        + bar_table(_funnel_rows(seg), chart=f"funnel:{seg.name}", scale=f["eligible"])
        + f'<p class="legend">{legend}<span class="key"><span class="swatch lost"></span>'
        "lost at this step</span></p>"
    )


def _funnel_rows(seg: SegmentInfo) -> list[BarRow]:
    """The funnel's bars: what each step keeps, and what it loses, with the summary's counts."""
    f = seg.funnel

    def ptr(key: str) -> str:
        return pointer("segments", seg.index, "funnel", key)

    after_earlier = f["qualified"] - f["taken_by_earlier_segment"]
    after_crm = after_earlier - f["suppressed_by_crm"]
    after_dupes = after_crm - f["duplicate_domain"]

    def lost(n: int, key: str, words: str) -> str:
        return f"{MINUS}<span{field_attrs(n, ptr(key))}>{num(n)}</span> {esc(words)}"

    tier_parts = tuple(
        Part(
            t.size,
            tier_css(k),
            f"{t.name}: {num(t.size)}",
            pointer("segments", seg.index, "tiers", t.name),
        )
        for k, t in enumerate(seg.tiers)
    )
    return [
        BarRow(
            "Eligible",
            (Part(f["eligible"], "kept", f"eligible: {num(f['eligible'])}", ptr("eligible")),),
            f["eligible"],
            ptr("eligible"),
            note=f"{pct(f['eligible'], f['companies_read'])} of read",
        ),
        BarRow(
            "Qualified",
            (
                Part(f["qualified"], "kept", f"qualified: {num(f['qualified'])}"),
                Part(f["eligible"] - f["qualified"], "lost", "below the lowest threshold"),
            ),
            f["qualified"],
            ptr("qualified"),
            note=f"{MINUS}{num(f['eligible'] - f['qualified'])} below threshold",
        ),
        BarRow(
            "Not in an earlier segment",
            (
                Part(after_earlier, "kept", f"not in an earlier segment: {num(after_earlier)}"),
                Part(f["taken_by_earlier_segment"], "lost", "taken by an earlier segment"),
            ),
            after_earlier,
            note_html=lost(
                f["taken_by_earlier_segment"], "taken_by_earlier_segment", "to earlier ones"
            ),
        ),
        BarRow(
            "Not in the CRM",
            (
                Part(after_crm, "kept", f"not suppressed: {num(after_crm)}"),
                Part(f["suppressed_by_crm"], "lost", "suppressed by the CRM"),
            ),
            after_crm,
            note_html=lost(f["suppressed_by_crm"], "suppressed_by_crm", "in the CRM"),
        ),
        BarRow(
            "One per domain",
            (
                Part(after_dupes, "kept", f"one per domain: {num(after_dupes)}"),
                Part(f["duplicate_domain"], "lost", "same domain as a higher-ranked company"),
            ),
            after_dupes,
            note_html=lost(f["duplicate_domain"], "duplicate_domain", "same domain"),
        ),
        BarRow(
            "Listed",
            (*tier_parts, Part(f["not_listed_caps"], "lost", "beyond the caps")),
            f["listed"],
            ptr("listed"),
            note_html=lost(f["not_listed_caps"], "not_listed_caps", "beyond caps"),
        ),
    ]


def tier_caps(seg: SegmentInfo) -> str:
    """Each tier against its cap, then the whole list against its cap and the sanity band."""
    rows = []
    for k, t in enumerate(seg.tiers):
        if t.max_accounts is None:
            note = "no cap"
        elif t.size >= t.max_accounts:
            note = f"full: cap {num(t.max_accounts)}"
        else:
            note = f"cap {num(t.max_accounts)}"
        rows.append(
            BarRow(
                f"{t.name} ({t.needs})",
                (Part(t.size, tier_css(k), f"{t.name}: {num(t.size)}"),),
                t.size,
                pointer("segments", seg.index, "tiers", t.name),
                note=note,
                cap=t.max_accounts,
            )
        )
    tiers = bar_table(rows, chart=f"tiers:{seg.name}")
    listed = seg.funnel["listed"]
    cap = seg.max_accounts
    total_note = "no cap" if cap is None else f"cap {num(cap)}"
    total = bar_table(
        [
            BarRow(
                "Whole list",
                tuple(
                    Part(t.size, tier_css(k), f"{t.name}: {num(t.size)}")
                    for k, t in enumerate(seg.tiers)
                ),
                listed,
                pointer("segments", seg.index, "funnel", "listed"),
                note=total_note,
                cap=cap,
                band=(ADS_RECOMMENDED, ICP_MAX),
            )
        ],
        chart=f"list:{seg.name}",
        scale=max(listed, cap or 0, ICP_MAX),
    )
    band = (
        f'<p class="hint"><span class="swatch band"></span>Sanity band: '
        f"{num(ADS_RECOMMENDED)}{DASH}{num(ICP_MAX)} accounts for a primary ICP segment; "
        f"at least {num(ADS_MIN)} to run ads on.</p>"
    )
    return tiers + total + band


def score_histogram(seg: SegmentInfo) -> str:
    """Eligible accounts per score, with each tier's threshold."""
    thresholds = [
        Threshold(t.name, t.min_score, tier_css(k))
        for k, t in enumerate(seg.tiers)
        if t.min_score is not None
    ]
    fields = [
        pointer("segments", seg.index, "score_histogram", k, "accounts")
        for k in range(len(seg.histogram))
    ]
    return histogram(seg.histogram, thresholds, chart=f"scores:{seg.name}", fields=fields)


def fired_chart(seg: SegmentInfo, fired: list[tuple[str, int]]) -> str:
    """How many listed accounts each criterion fired for, the top ones first."""
    listed = seg.funnel["listed"]
    if not fired:
        return '<p class="empty">No criterion fired for a listed account.</p>'
    rows = [
        BarRow(label, (Part(n, "crit", f"{label}: {num(n)}"),), n, note=pct(n, listed))
        for label, n in fired[:TOP_ROWS]
    ]
    more = ""
    if len(fired) > TOP_ROWS:
        more = f"and {len(fired) - TOP_ROWS} more criteria"
    return bar_table(rows, chart=f"fired:{seg.name}", scale=max(listed, 1), more=more)


def disqualifier_chart(seg: SegmentInfo) -> str:
    """How many accounts each exclude condition removed, the most first."""
    if not seg.disqualifiers:
        return '<p class="empty">The segment has no exclude conditions.</p>'
    ranked = sorted(seg.disqualifiers, key=lambda kv: (-kv[1], kv[0]))
    rows = [
        BarRow(
            desc,
            (Part(n, "dq", f"{desc}: {num(n)}"),),
            n,
            pointer("segments", seg.index, "disqualifiers", desc),
        )
        for desc, n in ranked[:TOP_ROWS]
    ]
    more = ""
    if len(ranked) > TOP_ROWS:
        rest = ranked[TOP_ROWS:]
        more = f"and {len(rest)} more, removing {num(sum(n for _, n in rest))} in all"
    return bar_table(rows, chart=f"disqualifiers:{seg.name}", more=more)


def breakdown_chart(seg: SegmentInfo, key: str, data: Breakdown | None) -> str:
    """Listed accounts by one attribute (``key``), or why there is no chart."""
    if data is None:
        return f'<p class="empty">The data has no {esc(key)} column.</p>'
    if not data.rows:
        return '<p class="empty">No accounts listed.</p>'
    listed = seg.funnel["listed"]
    rows = [
        BarRow(str(value), (Part(n, "mix", f"{value}: {num(n)}"),), n, note=pct(n, listed))
        for value, n in data.rows
    ]
    more = ""
    if data.more_values:
        more = f"and {num(data.more_values)} more, with {num(data.more_accounts)} accounts"
    return bar_table(rows, chart=f"{key}:{seg.name}", more=more)


def changes_card(
    run: RunInfo, seg: SegmentInfo, reasons: dict[str, tuple[list[tuple[str, int]], int]]
) -> str:
    """Changes since the previous run by kind, with each kind's top reasons."""
    assert run.changes is not None
    counts = run.changes.get(seg.name, {})
    rows = []
    for kind, label in CHANGE_LABELS.items():
        n = counts.get(kind, 0)
        top, more = reasons.get(kind, ([], 0))
        items = "".join(f"<li>{esc(text)} <span class='n'>{num(c)}</span></li>" for text, c in top)
        if more > 0:
            items += f'<li class="more">and {num(more)} more reasons</li>'
        field = pointer("changes", seg.name, kind) if kind in counts else None
        rows.append(
            f'<tr><th scope="row">{esc(label)}</th>'
            f'<td class="num"{field_attrs(n, field)}>{num(n)}</td>'
            f'<td><ul class="reasons">{items}</ul></td></tr>'
        )
    previous = run.previous or {}
    note = f"Compared with the run as of {previous.get('as_of', '?')}."
    if previous.get("rules_changed"):
        note += " The rules changed since then, so some changes come from the rules."
    table = (
        '<table class="changes"><thead><tr><th scope="col">Change</th>'
        '<th scope="col" class="num">Accounts</th><th scope="col">Top reasons</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return card("Since the previous run", table, wide=True, note=note)


def tier_table(seg: SegmentInfo, tier: str, table: pl.DataFrame, total: int) -> str:
    """The first tier's top accounts as a sortable table, and how many more there are."""
    numeric = {"rank", "score", "employees"}
    headings = {
        "rank": "Rank",
        "name": "Company",
        "domain": "Domain",
        "score": "Score",
        "country": "Country",
        "industry": "Industry",
        "employees": "Employees",
        "reasons": "Reasons",
    }
    head = "".join(
        f'<th scope="col"{" class=num data-type=num" if c in numeric else ""}>'
        f"{esc(headings[c])}</th>"
        for c in table.columns
    )
    body = []
    for row in table.iter_rows(named=True):
        cells = []
        for c in table.columns:
            value = row[c]
            if c in numeric:
                shown = "" if value is None else num(int(value))
                sort = "" if value is None else str(int(value))
                cells.append(f'<td class="num" data-sort="{sort}">{shown}</td>')
            else:
                cells.append(f"<td>{esc('' if value is None else value)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = ""
    if total > table.height:
        more = (
            f'<p class="more">and {num(total - table.height)} more {esc(tier)} accounts '
            f"in {esc(Path(seg.file).with_suffix('.csv').name)}</p>"
        )
    hint = "Click a heading to sort." if table.height > 1 else ""
    content = (
        f'<table class="accounts sortable" data-chart="table:{esc(seg.name)}" '
        f'data-total="{total}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )
    if table.height == 0:
        content = f'<p class="empty">No {esc(tier)} accounts.</p>'
    return card(f"{tier}: {count_of(total, 'account')}", content, wide=True, note=hint)


def fit_intent(path: Path, seg: SegmentInfo) -> str:
    """The ABM two-by-two of the listed accounts, when the segment scores intent.

    An account fits when its fit points reach the lowest ``min_fit`` a tier gives (else
    any positive fit points), and is in market likewise with ``min_intent``.
    """
    try:
        frame = pl.read_parquet(path, columns=["fit_score", "intent_score"])
    except (pl.exceptions.PolarsError, OSError):
        return ""
    fits = [t.min_fit for t in seg.tiers if t.min_fit is not None]
    intents = [t.min_intent for t in seg.tiers if t.min_intent is not None]
    if not intents and not (frame["intent_score"] != 0).any():
        return ""
    fit_at, intent_at = min(fits, default=1), min(intents, default=1)
    fit, intent = pl.col("fit_score") >= fit_at, pl.col("intent_score") >= intent_at
    counts = frame.select(
        both=(fit & intent).sum(),
        fit=(fit & ~intent).sum(),
        intent=(~fit & intent).sum(),
        neither=(~fit & ~intent).sum(),
    ).row(0, named=True)
    return (
        '<table class="quadrants"><thead><tr><th></th>'
        f'<th scope="col">in market (intent ≥ {intent_at})</th>'
        '<th scope="col">not in market</th></tr></thead><tbody>'
        f'<tr><th scope="row">fits (fit ≥ {fit_at})</th>'
        f"<td>{num(counts['both'])}</td><td>{num(counts['fit'])}</td></tr>"
        '<tr><th scope="row">does not fit</th>'
        f"<td>{num(counts['intent'])}</td><td>{num(counts['neither'])}</td></tr>"
        "</tbody></table>"
    )
