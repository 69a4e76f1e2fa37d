"""The run report: one self-contained HTML page that shows a run to the people who use it.

``write_report(run_dir)`` reads a run directory (``summary.json``, the segment lists,
``accounts.parquet`` and any ``<segment>.changes.csv``) and writes ``report.html`` beside
them. The page loads nothing: styles and the few lines of script that sort the table are
inline, charts are inline SVG, and a Content-Security-Policy that admits only those two
blocks (by hash) means a browser would refuse any other script, style or request even if
one slipped in through the data. Long lists are cut to their top rows with a count of the
rest, so the page stays small whatever the size of the run.

Counts that come from ``summary.json`` carry ``data-field`` (a JSON pointer into it) on
the element that shows them, so a test can read the page back and compare.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from listbuilder.errors import DataError
from listbuilder.files import atomic_file, read_run_summary
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

REPORT_FILE = "report.html"
DASH = "\u2013"
MINUS = "\u2212"
# Rows of the Tier 1 table, and of each breakdown, before "and N more".
TABLE_ROWS = 100
TOP_ROWS = 10
REASON_ROWS = 5
# The sanity band for a segment's size. LinkedIn takes company lists of at least 300
# companies and recommends 1,000 or more, since not every company on a list matches; a
# primary ICP segment is a few thousand addressable accounts, so a five-figure one is a
# market, not a profile.
ADS_MIN = 300
ADS_RECOMMENDED = 1_000
ICP_MAX = 10_000
EMPLOYEE_BANDS: tuple[tuple[int, int | None], ...] = (
    (1, 10),
    (11, 50),
    (51, 200),
    (201, 500),
    (501, 1_000),
    (1_001, 5_000),
    (5_001, 10_000),
    (10_001, None),
)
FUNNEL_KEYS = (
    "companies_read",
    "eligible",
    "qualified",
    "taken_by_earlier_segment",
    "suppressed_by_crm",
    "duplicate_domain",
    "listed",
    "not_listed_caps",
)
CHANGE_LABELS = {
    "added": "Added",
    "dropped": "Dropped",
    "tier_up": "Tier up",
    "tier_down": "Tier down",
    "moved_segment": "Moved segment",
    "held": "Held by stickiness",
}


@dataclass(frozen=True)
class SizeCheck:
    """A segment's size against the sanity band: ``ok``, ``warn`` or ``bad``, and why."""

    level: Literal["ok", "warn", "bad"]
    title: str
    reason: str


def size_check(listed: int, addressable: int) -> SizeCheck:
    """Judge a segment's size: too big to be an ICP, too small to run ads on, or fine.

    Args:
        listed: Accounts on the segment's list.
        addressable: Accounts that qualify and are not in the CRM or an earlier segment
            (the list before its caps).
    """
    if addressable > ICP_MAX:
        capped = f"; the caps list {num(listed)} of them" if listed < addressable else ""
        return SizeCheck(
            "bad",
            "Far too big to be an ICP",
            f"{num(addressable)} accounts qualify outside the CRM{capped}. A primary segment "
            f"is a few thousand addressable accounts (at most {num(ICP_MAX)} here): "
            "tighten the includes or raise the tier thresholds.",
        )
    if listed < ADS_MIN:
        return SizeCheck(
            "bad",
            "Too small to run ads on",
            f"{num(listed)} accounts listed. LinkedIn takes company lists of at least "
            f"{num(ADS_MIN)} companies: widen the includes, lower the thresholds or merge "
            "the segment with another.",
        )
    if listed < ADS_RECOMMENDED:
        return SizeCheck(
            "warn",
            "Small for account-based ads",
            f"{num(listed)} accounts listed. LinkedIn recommends company lists of at least "
            f"{num(ADS_RECOMMENDED)} companies, since not every company on a list matches.",
        )
    return SizeCheck(
        "ok",
        "Within the ICP band",
        f"{num(listed)} accounts listed, between {num(ADS_RECOMMENDED)} and {num(ICP_MAX)}: "
        "a few thousand addressable accounts, enough for ad platforms to match.",
    )


@dataclass(frozen=True)
class TierInfo:
    """One tier as the run recorded it."""

    name: str
    min_score: int
    max_accounts: int | None
    size: int


@dataclass(frozen=True)
class SegmentInfo:
    """One segment of ``summary.json``, checked."""

    index: int
    name: str
    description: str
    file: str
    funnel: dict[str, int]
    max_accounts: int | None
    tiers: tuple[TierInfo, ...]
    disqualifiers: tuple[tuple[str, int], ...]
    histogram: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class RunInfo:
    """What the report needs from ``summary.json``, checked."""

    path: Path
    as_of: str
    rules_path: str
    rules_sha256: str
    inputs: tuple[tuple[str, str, int | None], ...]
    suppressed: int
    segments: tuple[SegmentInfo, ...]
    previous: dict[str, Any] | None
    changes: dict[str, dict[str, int]] | None


class _Checker:
    """Reads typed values out of the parsed summary, naming file and key when one is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, expected: str, got: Any) -> DataError:
        return DataError(
            f"{self.path}: key `{where}`: expected {expected}, got {json.dumps(got)[:80]}"
        )

    def get(self, obj: dict[str, Any], key: str, where: str) -> Any:
        if key not in obj:
            # Most likely a run from before the report existed.
            at = f"{where}.{key}" if where else key
            raise DataError(
                f"{self.path}: key `{at}` is missing; a summary written by "
                "`listbuilder build` has it (rebuild the run)"
            )
        return obj[key]

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object", value)
        return value

    def integer(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, "an integer", value)
        return value

    def opt_integer(self, value: Any, where: str) -> int | None:
        return None if value is None else self.integer(value, where)

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "a string", value)
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "a list", value)
        return value


def load_run_info(run_dir: str | Path) -> RunInfo:
    """Read and check a run directory's ``summary.json``.

    Raises:
        DataError: The directory is not a run, or its summary lacks what the report
            shows; the message names the file and the key.
    """
    run = Path(run_dir)
    path, raw = read_run_summary(run)
    c = _Checker(path)
    top = c.obj(raw, "(top level)")
    rules = c.obj(c.get(top, "rules", ""), "rules")
    inputs = c.obj(c.get(top, "inputs", ""), "inputs")
    segments = [
        _segment_info(c, c.obj(item, f"segments[{i}]"), i)
        for i, item in enumerate(c.array(c.get(top, "segments", ""), "segments"))
    ]
    changes = None
    if "changes" in top:
        changes = {
            name: {
                kind: c.integer(n, f"changes.{name}.{kind}")
                for kind, n in c.obj(counts, f"changes.{name}").items()
            }
            for name, counts in c.obj(top["changes"], "changes").items()
        }
    previous = c.obj(top["previous"], "previous") if "previous" in top else None
    return RunInfo(
        path=run,
        as_of=c.string(c.get(top, "as_of", ""), "as_of"),
        rules_path=c.string(c.get(rules, "path", "rules"), "rules.path"),
        rules_sha256=c.string(c.get(rules, "sha256", "rules"), "rules.sha256"),
        inputs=tuple(
            (
                role,
                str(c.obj(spec, f"inputs.{role}").get("path", "")),
                c.opt_integer(spec.get("rows"), f"inputs.{role}.rows"),
            )
            for role, spec in inputs.items()
        ),
        suppressed=c.integer(c.get(top, "suppressed", ""), "suppressed"),
        segments=tuple(segments),
        previous=previous,
        changes=changes,
    )


def _segment_info(c: _Checker, seg: dict[str, Any], i: int) -> SegmentInfo:
    where = f"segments[{i}]"
    name = c.string(c.get(seg, "name", where), f"{where}.name")
    file = c.string(seg.get("file", f"{name}.parquet"), f"{where}.file")
    # Only a file inside the run: a summary must not point the report anywhere else.
    if Path(file).name != file or file in ("", ".", ".."):
        raise c.fail(f"{where}.file", "a file name in the run directory", file)
    funnel = c.obj(c.get(seg, "funnel", where), f"{where}.funnel")
    tiers = []
    for k, tier in enumerate(c.array(c.get(seg, "tier_plan", where), f"{where}.tier_plan")):
        at = f"{where}.tier_plan[{k}]"
        tier = c.obj(tier, at)
        tiers.append(
            TierInfo(
                name=c.string(c.get(tier, "name", at), f"{at}.name"),
                min_score=c.integer(c.get(tier, "min_score", at), f"{at}.min_score"),
                max_accounts=c.opt_integer(tier.get("max_accounts"), f"{at}.max_accounts"),
                size=c.integer(c.get(tier, "size", at), f"{at}.size"),
            )
        )
    hist = []
    for k, item in enumerate(
        c.array(c.get(seg, "score_histogram", where), f"{where}.score_histogram")
    ):
        at = f"{where}.score_histogram[{k}]"
        item = c.obj(item, at)
        hist.append(
            (
                c.integer(c.get(item, "score", at), f"{at}.score"),
                c.integer(c.get(item, "accounts", at), f"{at}.accounts"),
            )
        )
    dq = c.obj(c.get(seg, "disqualifiers", where), f"{where}.disqualifiers")
    return SegmentInfo(
        index=i,
        name=name,
        description=str(seg.get("description") or ""),
        file=file,
        funnel={
            k: c.integer(c.get(funnel, k, f"{where}.funnel"), f"{where}.funnel.{k}")
            for k in FUNNEL_KEYS
        },
        max_accounts=c.opt_integer(seg.get("max_accounts"), f"{where}.max_accounts"),
        tiers=tuple(tiers),
        disqualifiers=tuple((k, c.integer(v, f"{where}.disqualifiers.{k}")) for k, v in dq.items()),
        histogram=tuple(sorted(hist)),
    )


def write_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` into a run directory; return its path.

    Raises:
        DataError: The directory is not a complete run (see ``render_report``).
    """
    page = render_report(run_dir)
    target = Path(run_dir) / REPORT_FILE
    with atomic_file(target) as tmp:
        tmp.write_text(page, encoding="utf-8", newline="\n")
        # Readable like the run's other files (a temporary file starts private).
        tmp.chmod(0o644)
    return target


def render_report(run_dir: str | Path) -> str:
    """The report of a run directory as one HTML page (the same bytes for the same run).

    Raises:
        DataError: ``summary.json`` is missing or lacks what the report shows, or a list,
            ``accounts.parquet`` or a changes file cannot be read.
    """
    run = load_run_info(run_dir)
    fired = _fired_counts(run.path / "accounts.parquet")
    sections = []
    for seg in run.segments:
        reasons = None
        if run.changes is not None:
            reasons = _top_reasons(run.path / f"{seg.name}.changes.csv")
        sections.append(_segment_section(run, seg, fired.get(seg.name, []), reasons))
    body = _header(run) + "".join(sections) + _about(run)
    return _page(f"List run as of {run.as_of}", body)


# --- reading the run's files ------------------------------------------------------------


def _read_error(path: Path, exc: Exception) -> DataError:
    msg = " ".join(str(exc).split())[:300]
    return DataError(f"cannot read {path}: {msg}")


def _fired_counts(path: Path) -> dict[str, list[tuple[str, int]]]:
    """Per segment, how many listed accounts each criterion fired for, most first."""
    try:
        counts = (
            pl.scan_parquet(path)
            .filter(pl.col("status") == "listed")
            .select("segment", "fired")
            .explode("fired")
            .drop_nulls("fired")
            .group_by("segment", "fired")
            .len()
            .sort(["segment", "len", "fired"], descending=[False, True, False])
            .collect()
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _read_error(path, exc) from None
    out: dict[str, list[tuple[str, int]]] = {}
    for segment, label, n in counts.iter_rows():
        out.setdefault(segment, []).append((label, n))
    return out


def _top_reasons(path: Path) -> dict[str, tuple[list[tuple[str, int]], int]]:
    """Per kind of change, its most frequent reasons (with counts) and how many differ.

    A reason like ``new: hiring sellers +1 (3 postings in 60d); fresh funding +2 (...)``
    counts once for each criterion it names, without the details in brackets, so that
    the same cause across accounts adds up.
    """
    try:
        frame = pl.read_csv(path, columns=["change", "reason"], infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _read_error(path, exc) from None
    own_prefix = pl.col("part").str.extract(r"^(new: |no longer: )", 1)
    parts = (
        frame.with_row_index("_row")
        .with_columns(
            part=pl.col("reason").fill_null("").str.replace_all(r" \([^)]*\)", "").str.split("; ")
        )
        .explode("part")
        .filter(pl.col("part") != "")
        .with_columns(_prefix=own_prefix.forward_fill().over("_row"), _own=own_prefix)
        .with_columns(
            part=pl.when(pl.col("_own").is_null() & pl.col("_prefix").is_not_null())
            .then(pl.col("_prefix") + pl.col("part"))
            .otherwise(pl.col("part"))
            .str.replace(r" threshold: .*$", " threshold")
            .str.replace(r" by stickiness: .*$", " by stickiness")
            # "Tier 1 full: ranked 51st", "employees now 150": the same cause, whatever value.
            .str.replace(r": ranked .*$", "")
            .str.replace(r"^(\S+) now .*$", "${1} changed")
        )
        .unique(["_row", "part"])
        .group_by("change", "part")
        .len()
        .sort(["change", "len", "part"], descending=[False, True, False])
    )
    out: dict[str, tuple[list[tuple[str, int]], int]] = {}
    for change, rows in parts.group_by("change", maintain_order=True):
        pairs = list(zip(rows["part"].to_list(), rows["len"].to_list(), strict=True))
        out[str(change[0])] = (pairs[:REASON_ROWS], max(len(pairs) - REASON_ROWS, 0))
    return out


@dataclass(frozen=True)
class _Breakdown:
    """Listed accounts by one attribute: the top values and what the cut-off holds."""

    rows: list[tuple[str, int]]
    more_values: int
    more_accounts: int


def _list_facts(
    path: Path, segment: str, tier: str | None
) -> tuple[dict[str, _Breakdown | None], pl.DataFrame, int]:
    """Breakdowns by industry, country and employee band, and the top of the first tier."""
    try:
        lf = pl.scan_parquet(path)
        columns = set(lf.collect_schema())
    except (pl.exceptions.PolarsError, OSError) as exc:
        msg = " ".join(str(exc).split())[:300]
        raise DataError(f"cannot read the list of segment {segment!r}, {path}: {msg}") from None
    missing = [c for c in ("tier", "rank", "name") if c not in columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; a list written by "
            "`listbuilder build` has them"
        )
    unknown = pl.lit("unknown")
    exprs = {
        "industry": pl.col("industry").cast(pl.String).fill_null(unknown),
        "country": pl.col("country").cast(pl.String).fill_null(unknown),
        "employees": _band_expr(pl.col("employees")),
    }
    queries = []
    for key, expr in exprs.items():
        if key in columns:
            counts = lf.select(value=expr).group_by("value").len()
            # Bands read in size order; other values most frequent first.
            if key == "employees":
                counts = counts.sort(_band_order(pl.col("value")))
            else:
                counts = counts.sort(["len", "value"], descending=[True, False])
            queries.append(counts)
    shown = [
        c
        for c in ("rank", "name", "domain", "score", "country", "industry", "employees", "reasons")
        if c in columns
    ]
    top_tier = lf.filter(pl.col("tier") == tier) if tier is not None else lf.head(0)
    queries += [top_tier.sort("rank").head(TABLE_ROWS).select(shown), top_tier.select(pl.len())]
    try:
        *frames, table, count = pl.collect_all(queries)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _read_error(path, exc) from None
    breakdowns: dict[str, _Breakdown | None] = {}
    it = iter(frames)
    for key in exprs:
        if key not in columns:
            breakdowns[key] = None
            continue
        frame = next(it)
        pairs = list(zip(frame["value"].to_list(), frame["len"].to_list(), strict=True))
        limit = len(pairs) if key == "employees" else TOP_ROWS
        rest = pairs[limit:]
        breakdowns[key] = _Breakdown(pairs[:limit], len(rest), sum(n for _, n in rest))
    return breakdowns, table, int(count.item())


def _band_label(lo: int, hi: int | None) -> str:
    return f"{num(lo)}+" if hi is None else f"{num(lo)}{DASH}{num(hi)}"


def _band_expr(employees: pl.Expr) -> pl.Expr:
    """The LinkedIn-style company-size band of a headcount; ``unknown`` when missing."""
    expr = pl.lit("unknown")
    # Built from the lowest band up, so the highest band a headcount reaches is tested first.
    for lo, hi in EMPLOYEE_BANDS:
        expr = pl.when(employees >= lo).then(pl.lit(_band_label(lo, hi))).otherwise(expr)
    return expr


def _band_order(value: pl.Expr) -> pl.Expr:
    order = {_band_label(lo, hi): k for k, (lo, hi) in enumerate(EMPLOYEE_BANDS)}
    return value.replace_strict(order, default=len(order), return_dtype=pl.Int32)


# --- the page --------------------------------------------------------------------------


def _tier_css(k: int) -> str:
    return f"tier{min(k + 1, 4)}"


def _count(n: int, noun: str) -> str:
    return f"{num(n)} {noun}" if n == 1 else f"{num(n)} {noun}s"


def _pct(part: int, whole: int) -> str:
    if whole <= 0:
        return ""
    share = 100 * part / whole
    return f"{share:.1f}%" if share < 10 else f"{share:.0f}%"


def _header(run: RunInfo) -> str:
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
        f'<p class="meta">Rules {esc(run.rules_path)} · {_count(len(run.segments), "segment")}'
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
            _num_cell(seg.funnel[key], pointer("segments", seg.index, "funnel", key))
            for key in ("eligible", "qualified", "suppressed_by_crm")
        ]
        for name in tier_names:
            if name in sizes:
                t = sizes[name]
                cells.append(_num_cell(t.size, pointer("segments", seg.index, "tiers", name)))
            else:
                cells.append(f'<td class="num">{DASH}</td>')
        cells.append(
            _num_cell(seg.funnel["listed"], pointer("segments", seg.index, "funnel", "listed"))
        )
        check = _check_of(seg)
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


def _num_cell(value: int, field: str | None = None) -> str:
    return f'<td class="num"{field_attrs(value, field)}>{num(value)}</td>'


def segment_size_check(funnel: dict[str, int]) -> SizeCheck:
    """``size_check`` of a segment's funnel as ``summary.json`` records it."""
    return size_check(funnel["listed"], funnel["listed"] + funnel["not_listed_caps"])


def _check_of(seg: SegmentInfo) -> SizeCheck:
    return segment_size_check(seg.funnel)


def _card(title: str, content: str, *, wide: bool = False, note: str = "") -> str:
    note_html = f'<p class="hint">{esc(note)}</p>' if note else ""
    css = "card wide" if wide else "card"
    return f'<section class="{css}"><h3>{esc(title)}</h3>{note_html}{content}</section>'


def _segment_section(
    run: RunInfo,
    seg: SegmentInfo,
    fired: list[tuple[str, int]],
    reasons: dict[str, tuple[list[tuple[str, int]], int]] | None,
) -> str:
    first = seg.tiers[0].name if seg.tiers else None
    breakdowns, table, first_count = _list_facts(run.path / seg.file, seg.name, first)
    check = _check_of(seg)
    cards = [
        _card("Funnel", _funnel(seg)),
        _card("Tiers against their caps", _tier_caps(seg)),
        _card(
            "Score distribution of eligible accounts",
            _histogram(seg),
            wide=True,
            note="Dashed lines: the score each tier needs.",
        ),
        _card(
            "Criteria that fire among listed accounts",
            _fired_chart(seg, fired),
            note="An account counts once for each criterion it meets.",
        ),
        _card(
            "Disqualifiers: accounts removed",
            _disqualifier_chart(seg),
            note="Accounts passing the includes that each exclude removes; "
            "one account can hit several.",
        ),
        _card("Listed by industry", _breakdown_chart(seg, "industry", breakdowns["industry"])),
        _card("Listed by country", _breakdown_chart(seg, "country", breakdowns["country"])),
        _card("Listed by employees", _breakdown_chart(seg, "employees", breakdowns["employees"])),
    ]
    if run.changes is not None and reasons is not None:
        cards.append(_changes_card(run, seg, reasons))
    if first is not None:
        cards.append(_tier_table(seg, first, table, first_count))
    description = f'<p class="desc">{esc(seg.description)}</p>' if seg.description else ""
    return (
        f'<section class="segment" id="seg-{esc(seg.name)}" data-segment="{esc(seg.name)}">'
        f"<h2>{esc(seg.name)}</h2>{description}"
        f'<p class="check {check.level}"><strong>{esc(check.title)}.</strong> '
        f"{esc(check.reason)}</p>"
        f'<div class="grid">{"".join(cards)}</div></section>'
    )


def _funnel(seg: SegmentInfo) -> str:
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
            _tier_css(k),
            f"{t.name}: {num(t.size)}",
            pointer("segments", seg.index, "tiers", t.name),
        )
        for k, t in enumerate(seg.tiers)
    )
    rows = [
        BarRow(
            "Eligible",
            (Part(f["eligible"], "kept", f"eligible: {num(f['eligible'])}", ptr("eligible")),),
            f["eligible"],
            ptr("eligible"),
            note=f"{_pct(f['eligible'], f['companies_read'])} of read",
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
    legend = "".join(
        f'<span class="key"><span class="swatch {_tier_css(k)}"></span>{esc(t.name)}</span>'
        for k, t in enumerate(seg.tiers)
    )
    read = (
        f'<p class="read">Of <strong{field_attrs(f["companies_read"], ptr("companies_read"))}>'
        f"{num(f['companies_read'])}</strong> companies read</p>"
    )
    return (
        read
        + bar_table(rows, chart=f"funnel:{seg.name}", scale=f["eligible"])
        + f'<p class="legend">{legend}<span class="key"><span class="swatch lost"></span>'
        "lost at this step</span></p>"
    )


def _tier_caps(seg: SegmentInfo) -> str:
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
                f"{t.name} (score ≥ {t.min_score})",
                (Part(t.size, _tier_css(k), f"{t.name}: {num(t.size)}"),),
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
                    Part(t.size, _tier_css(k), f"{t.name}: {num(t.size)}")
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


def _histogram(seg: SegmentInfo) -> str:
    thresholds = [Threshold(t.name, t.min_score, _tier_css(k)) for k, t in enumerate(seg.tiers)]
    fields = [
        pointer("segments", seg.index, "score_histogram", k, "accounts")
        for k in range(len(seg.histogram))
    ]
    return histogram(seg.histogram, thresholds, chart=f"scores:{seg.name}", fields=fields)


def _fired_chart(seg: SegmentInfo, fired: list[tuple[str, int]]) -> str:
    listed = seg.funnel["listed"]
    if not fired:
        return '<p class="empty">No criterion fired for a listed account.</p>'
    rows = [
        BarRow(label, (Part(n, "crit", f"{label}: {num(n)}"),), n, note=_pct(n, listed))
        for label, n in fired[:TOP_ROWS]
    ]
    more = ""
    if len(fired) > TOP_ROWS:
        more = f"and {len(fired) - TOP_ROWS} more criteria"
    return bar_table(rows, chart=f"fired:{seg.name}", scale=max(listed, 1), more=more)


def _disqualifier_chart(seg: SegmentInfo) -> str:
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


def _breakdown_chart(seg: SegmentInfo, key: str, data: _Breakdown | None) -> str:
    if data is None:
        return f'<p class="empty">The data has no {esc(key)} column.</p>'
    if not data.rows:
        return '<p class="empty">No accounts listed.</p>'
    listed = seg.funnel["listed"]
    rows = [
        BarRow(str(value), (Part(n, "mix", f"{value}: {num(n)}"),), n, note=_pct(n, listed))
        for value, n in data.rows
    ]
    more = ""
    if data.more_values:
        more = f"and {num(data.more_values)} more, with {num(data.more_accounts)} accounts"
    return bar_table(rows, chart=f"{key}:{seg.name}", more=more)


def _changes_card(
    run: RunInfo, seg: SegmentInfo, reasons: dict[str, tuple[list[tuple[str, int]], int]]
) -> str:
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
    return _card("Since the previous run", table, wide=True, note=note)


def _tier_table(seg: SegmentInfo, tier: str, table: pl.DataFrame, total: int) -> str:
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
    return _card(f"{tier}: {_count(total, 'account')}", content, wide=True, note=hint)


def _about(run: RunInfo) -> str:
    inputs = "".join(
        f"<tr><th scope='row'>{esc(role)}</th><td>{esc(path)}</td>"
        f"{_num_cell(rows, pointer('inputs', role, 'rows')) if rows is not None else '<td></td>'}"
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


STYLE = """
:root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --t1: #1e3a8a; --t2: #2563eb;
  --t3: #60a5fa; --t4: #bfdbfe; --lost: #fca5a5; --kept: #475569; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 2px; padding-top: 12px; border-top: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 0 0 8px; }
a { color: var(--t2); }
.meta, .desc, .hint, .more, .legend, .read { color: var(--muted); margin: 2px 0 8px; }
.hint { font-size: 12px; }
.figures { display: flex; gap: 12px; margin: 16px 0; flex-wrap: wrap; }
.figure { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
  min-width: 170px; }
.figure .big { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.overview, table.accounts, table.changes, table.inputs { width: 100%; }
table.overview th, table.overview td, table.accounts th, table.accounts td,
table.changes th, table.changes td, table.inputs th, table.inputs td {
  border-bottom: 1px solid var(--line); text-align: left; }
table.overview .num, table.accounts .num, table.changes .num, table.inputs .num {
  text-align: right; }
thead th { font-weight: 600; background: #f8fafc; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr));
  gap: 16px 28px; margin-top: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  break-inside: avoid; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
table.bars { width: 100%; }
table.bars th[scope=row] { text-align: left; font-weight: normal; width: 32%; padding-left: 0; }
table.bars td { vertical-align: middle; }
td.barcell { padding: 2px 4px; }
td.note { color: var(--muted); font-size: 12px; white-space: nowrap; width: 1%; }
td.more { color: var(--muted); padding-left: 0; }
svg { display: block; }
svg.bar { overflow: visible; }
.kept { fill: var(--kept); } .lost { fill: var(--lost); } .crit { fill: #0f766e; }
.dq { fill: #b91c1c; } .mix { fill: #6366f1; } .below { fill: #cbd5e1; }
.tier1 { fill: var(--t1); } .tier2 { fill: var(--t2); } .tier3 { fill: var(--t3); }
.tier4 { fill: var(--t4); }
.cap { fill: none; stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 5 3; }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px;
  border-radius: 2px; }
.swatch.tier1 { background: var(--t1); } .swatch.tier2 { background: var(--t2); }
.swatch.tier3 { background: var(--t3); } .swatch.tier4 { background: var(--t4); }
.swatch.lost { background: var(--lost); }
.swatch.band { background: #bbf7d0; margin-left: 0; }
.band { fill: #bbf7d0; }
.legend { font-size: 12px; margin-left: -12px; }
.axis { stroke: var(--ink); } .grid line, .grid { stroke-width: 1; }
line.grid { stroke: var(--line); }
.threshold { stroke: var(--ink); stroke-dasharray: 4 3; stroke-width: 1.5; }
.tick, .axislabel { font-size: 11px; fill: var(--muted); }
.thlabel { font-size: 11px; fill: var(--ink); font-weight: 600; }
.check { border-left: 4px solid; padding: 6px 10px; margin: 10px 0; border-radius: 2px; }
.check.ok { border-color: #15803d; background: #f0fdf4; }
.check.warn { border-color: #b45309; background: #fffbeb; }
.check.bad { border-color: #b91c1c; background: #fef2f2; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.badge.ok { background: #dcfce7; color: #14532d; }
.badge.warn { background: #fef3c7; color: #78350f; }
.badge.bad { background: #fee2e2; color: #7f1d1d; }
ul.reasons { margin: 0; padding-left: 16px; }
ul.reasons .n { color: var(--muted); font-variant-numeric: tabular-nums; }
table.accounts td { font-size: 13px; }
th.sorter { cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " ▲"; }
th[aria-sort=descending]::after { content: " ▼"; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 36px; color: var(--muted); }
footer h2 { color: var(--ink); }
@media print {
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  .grid { grid-template-columns: 1fr 1fr; }
  section.segment { break-before: page; }
  a { color: inherit; text-decoration: none; }
  th.sorter::after { content: none; }
}
"""

# Sorting for the accounts table. Without script the table reads in rank order.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  var body = table.tBodies[0];
  Array.prototype.forEach.call(heads, function (th, col) {
    th.classList.add("sorter");
    th.tabIndex = 0;
    function key(row) {
      var cell = row.cells[col];
      if (th.dataset.type !== "num") return cell.textContent.toLowerCase();
      var v = parseFloat(cell.dataset.sort);
      return isNaN(v) ? -Infinity : v;
    }
    function sort() {
      var up = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = x < y ? -1 : x > y ? 1 : 0;
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
});
"""


def _sha256_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _page(title: str, body: str) -> str:
    # The policy lets through exactly this page's one style block and one script and
    # data: images (the blank favicon, which stops a browser asking for one); a browser
    # blocks anything else, so a name in the data can never make the page load a thing.
    csp = (
        f"default-src 'none'; style-src {_sha256_source(STYLE)}; "
        f"script-src {_sha256_source(SCRIPT)}; img-src data:; base-uri 'none'; "
        "form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main><script>{SCRIPT}</script></body></html>\n"
    )
