"""The sections of the run report: the header with its overview table, one section per
segment (its panels in a grid) and the footer about the run's inputs."""

from __future__ import annotations

from listbuilder.outputs.charts import esc, field_attrs, num, pointer
from listbuilder.outputs.facts import ListFacts, RunInfo, SegmentInfo
from listbuilder.outputs.panels import (
    DASH,
    breakdown_chart,
    card,
    changes_card,
    count_of,
    disqualifier_chart,
    fired_chart,
    fit_intent,
    funnel,
    num_cell,
    score_histogram,
    tier_caps,
    tier_table,
)
from listbuilder.outputs.sizes import check_of


def header(run: RunInfo) -> str:
    """The page header: title, headline figures and the overview table of segments."""
    listed = sum(s.funnel["listed"] for s in run.segments)
    top_tier = sum(s.tiers[0].size for s in run.segments if s.tiers)
    read = run.segments[0].funnel["companies_read"] if run.segments else 0
    read_field = pointer("segments", 0, "funnel", "companies_read") if run.segments else None
    top_names = {s.tiers[0].name for s in run.segments if s.tiers}
    top_label = f"In {top_names.pop()}" if len(top_names) == 1 else "In a top tier"
    figures = [
        ("Companies read", read, read_field),
        ("Accounts listed", listed, None),
        (top_label, top_tier, None),
        ("Suppressed by the CRM", run.suppressed, pointer("suppressed")),
    ]
    cards = "".join(
        f'<div class="figure"><div class="big"{field_attrs(value, field)}>{num(value)}</div>'
        f"<div>{esc(label)}</div></div>"
        for label, value, field in figures
    )
    previous = ""
    if run.previous is not None:
        previous = f" · compared with the run as of {esc(run.previous.get('as_of', '?'))}"
    return (
        f"<header><h1>List run as of {esc(run.as_of)}</h1>"
        f'<p class="meta">Rules {esc(run.rules_path)} · {count_of(len(run.segments), "segment")}'
        f"{previous}</p>"
        f'<div class="figures">{cards}</div>'
        f"{_overview(run)}</header>"
    )


def _overview(run: RunInfo) -> str:
    tier_names: list[str] = []
    for seg in run.segments:
        tier_names += [t.name for t in seg.tiers if t.name not in tier_names]
    head = "".join(
        f'<th scope="col" class="num">{esc(h)}</th>'
        for h in ("Eligible", "Qualified", "Suppressed", *tier_names, "Listed")
    )
    rows = []
    for seg in run.segments:
        sizes = {t.name: t for t in seg.tiers}
        cells = [
            num_cell(seg.funnel[key], pointer("segments", seg.index, "funnel", key))
            for key in ("eligible", "qualified", "suppressed_by_crm")
        ]
        for name in tier_names:
            if name in sizes:
                t = sizes[name]
                cells.append(num_cell(t.size, pointer("segments", seg.index, "tiers", name)))
            else:
                cells.append(f'<td class="num">{DASH}</td>')
        cells.append(
            num_cell(seg.funnel["listed"], pointer("segments", seg.index, "funnel", "listed"))
        )
        check = check_of(seg)
        rows.append(
            f'<tr><th scope="row"><a href="#seg-{esc(seg.name)}">{esc(seg.name)}</a></th>'
            f"{''.join(cells)}"
            f'<td><span class="badge {check.level}">{esc(check.title)}</span></td></tr>'
        )
    return (
        '<table class="overview"><thead><tr><th scope="col">Segment</th>'
        f'{head}<th scope="col">Size</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def segment_section(
    run: RunInfo,
    seg: SegmentInfo,
    fired: list[tuple[str, int]],
    reasons: dict[str, tuple[list[tuple[str, int]], int]] | None,
    facts: ListFacts,
) -> str:
    """One segment's section: its size verdict and its panels in a grid."""
    breakdowns = facts.breakdowns
    check = check_of(seg)
    cards = [
        card("Funnel", funnel(seg)),
        card("Tiers against their caps", tier_caps(seg)),
        card(
            "Score distribution of eligible accounts",
            score_histogram(seg),
            wide=True,
            note="Dashed lines: the score each tier needs.",
        ),
        card(
            "Criteria that fire among listed accounts",
            fired_chart(seg, fired),
            note="An account counts once for each criterion it meets.",
        ),
        card(
            "Disqualifiers: accounts removed",
            disqualifier_chart(seg),
            note="Accounts passing the includes that each exclude removes; "
            "one account can hit several.",
        ),
        card("Listed by industry", breakdown_chart(seg, "industry", breakdowns["industry"])),
        card("Listed by country", breakdown_chart(seg, "country", breakdowns["country"])),
        card("Listed by employees", breakdown_chart(seg, "employees", breakdowns["employees"])),
    ]
    quadrants = fit_intent(run.path / seg.file, seg)
    if quadrants:
        cards.append(
            card(
                "Fit and intent",
                quadrants,
                note="Listed accounts by fit points and intent points: the ones that fit "
                "and are in market now are the top left.",
            )
        )
    if run.changes is not None and reasons is not None:
        cards.append(changes_card(run, seg, reasons))
    if seg.tiers:
        cards.append(tier_table(seg, seg.tiers[0].name, facts.top_table, facts.top_total))
    description = f'<p class="desc">{esc(seg.description)}</p>' if seg.description else ""
    return (
        f'<section class="segment" id="seg-{esc(seg.name)}" data-segment="{esc(seg.name)}">'
        f"<h2>{esc(seg.name)}</h2>{description}"
        f'<p class="check {check.level}"><strong>{esc(check.title)}.</strong> '
        f"{esc(check.reason)}</p>"
        f'<div class="grid">{"".join(cards)}</div></section>'
    )


def warnings_section(run: RunInfo) -> str:
    """The run's warnings (unreadable input values, what export tools would refuse), or
    nothing when there are none."""
    if not run.warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in run.warnings)
    return f'<section class="warnings" id="warnings"><h2>Warnings</h2><ul>{items}</ul></section>'


def about(run: RunInfo) -> str:
    """The footer: the run's inputs with their row counts, the rules and any previous run."""
    inputs = "".join(
        f"<tr><th scope='row'>{esc(role)}</th><td>{esc(path)}</td>"
        f"{num_cell(rows, pointer('inputs', role, 'rows')) if rows is not None else '<td></td>'}"
        "</tr>"
        for role, path, rows in run.inputs
    )
    previous = ""
    if run.previous is not None:
        previous = (
            f"<p>Previous run: {esc(run.previous.get('path', '?'))} "
            f"(as of {esc(run.previous.get('as_of', '?'))})</p>"
        )
    return (
        '<footer><h2>About this run</h2><table class="inputs"><thead><tr>'
        '<th scope="col">Input</th><th scope="col">File</th><th scope="col" class="num">Rows'
        f"</th></tr></thead><tbody>{inputs}</tbody></table>"
        f"<p>Rules: {esc(run.rules_path)} (sha256 {esc(run.rules_sha256[:12])})</p>"
        f"{previous}</footer>"
    )
