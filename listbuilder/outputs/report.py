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

This module gathers what the page shows and writes it; the rest of the report is in:

- ``facts``: ``summary.json`` read and checked into plain data (``RunInfo``);
- ``sizes``: the sanity band of a segment's size and its verdict;
- ``sections``: the header, one section per segment and the footer;
- ``panels``: the panels of a segment's section (funnel, tiers, charts, tables);
- ``htmlpage``: the style, the script and the Content-Security-Policy around them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from listbuilder.errors import DataError
from listbuilder.files import atomic_file, record_file
from listbuilder.outputs.charts import num
from listbuilder.outputs.facts import (
    REASON_ROWS,
    TABLE_ROWS,
    TOP_ROWS,
    Breakdown,
    ListFacts,
    load_run_info,
)
from listbuilder.outputs.htmlpage import full_page
from listbuilder.outputs.panels import DASH
from listbuilder.outputs.sections import about, header, segment_section, warnings_section
from listbuilder.outputs.sizes import (
    ADS_MIN,
    ADS_RECOMMENDED,
    ICP_MAX,
    SizeCheck,
    segment_size_check,
    size_check,
)

__all__ = [
    "ADS_MIN",
    "ADS_RECOMMENDED",
    "ICP_MAX",
    "REPORT_FILE",
    "TABLE_ROWS",
    "TOP_ROWS",
    "SizeCheck",
    "load_run_info",
    "render_report",
    "segment_size_check",
    "size_check",
    "write_report",
]

REPORT_FILE = "report.html"
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


def write_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` into a run directory; return its path.

    Raises:
        DataError: The directory is not a complete run (see ``render_report``).
    """
    page = render_report(run_dir)
    target = Path(run_dir) / REPORT_FILE
    with atomic_file(target) as tmp:
        tmp.write_text(page, encoding="utf-8", newline="\n")
    # The run's marker must know this page is ours, or the next build would refuse the run.
    record_file(run_dir, target)
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
        first = seg.tiers[0].name if seg.tiers else None
        facts = _list_facts(run.path / seg.file, seg.name, first)
        sections.append(segment_section(run, seg, fired.get(seg.name, []), reasons, facts))
    body = header(run) + warnings_section(run) + "".join(sections) + about(run)
    return full_page(f"List run as of {run.as_of}", body)


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


def _list_facts(path: Path, segment: str, tier: str | None) -> ListFacts:
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
    breakdowns: dict[str, Breakdown | None] = {}
    it = iter(frames)
    for key in exprs:
        if key not in columns:
            breakdowns[key] = None
            continue
        frame = next(it)
        pairs = list(zip(frame["value"].to_list(), frame["len"].to_list(), strict=True))
        limit = len(pairs) if key == "employees" else TOP_ROWS
        rest = pairs[limit:]
        breakdowns[key] = Breakdown(pairs[:limit], len(rest), sum(n for _, n in rest))
    return ListFacts(breakdowns, table, int(count.item()))


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
