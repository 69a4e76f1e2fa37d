"""``listbuilder match``: read companies, the CRM and a person's decisions, write the matches.

The run directory holds ``matches.csv`` (one row per CRM account matched to a company),
``review.csv`` (pairs for a person to confirm, with an empty ``decision`` column to fill
in), ``duplicates.csv`` (companies sharing a registrable domain with an earlier one) and
``summary.json`` (the counts). It is replaced whole on success and left untouched on
failure. A filled-in ``review.csv`` is itself a valid confirmed-pairs file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.errors import DataError
from listbuilder.files import atomic_directory, check_output_dir, sha256_of, write_csv
from listbuilder.inputs import FORMATS, read_source, resolve_files
from listbuilder.match.model import MatchResult, MatchSettings, match_frames
from listbuilder.progress import QUIET, Progress

DECISIONS = ("match", "no_match")
# The columns the model compares, each used when the file has it.
MATCH_FIELDS = ("name", "domain", "country", "city", "region")
CONFIRMED_COLUMNS = ("company_id", "account_id", "decision")
_SHOWN = 5


def _first_bad_utf8(path: Path) -> str | None:
    """Where ``path`` first breaks UTF-8, as "line N (byte 0xAB)"; None if it does not."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"line {line} (byte 0x{data[exc.start]:02X})"
    return None


def _collect(frame: pl.LazyFrame, what: str, path: str, files: list[Path]) -> pl.DataFrame:
    """Collect ``frame``, turning unreadable input into a DataError that names the file."""
    try:
        return frame.collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        for file in files:
            if FORMATS.get(file.suffix.lower()) == "csv" and (where := _first_bad_utf8(file)):
                raise DataError(
                    f"{what} file {file} is not valid UTF-8: {where}; save it as UTF-8 "
                    "(in Excel: CSV UTF-8)"
                ) from None
        text = " ".join(str(exc).split())[:300]
        raise DataError(f"cannot read {what} file {path}: {text}") from None


def _scan(files: list[Path], fmt: str) -> pl.LazyFrame:
    if fmt == "parquet":
        return pl.scan_parquet(files)
    if fmt == "ndjson":
        return pl.scan_ndjson(files)
    # Every column stays text: "00123" is an id, not the number 123.
    return pl.scan_csv(files, infer_schema=False)


def _check_ids(frame: pl.DataFrame, column: str, what: str, path: str) -> None:
    """Every row has an id and no id appears twice."""
    ids = frame[column].cast(pl.String).str.strip_chars()
    missing = int((ids.is_null() | (ids == "")).sum())
    if missing:
        raise DataError(f"{what} file {path}: {missing} row(s) have no `{column}`")
    repeated = ids.filter(ids.is_duplicated()).unique().sort()
    if repeated.len():
        shown = ", ".join(repeated.head(_SHOWN).to_list())
        more = f" and {repeated.len() - _SHOWN} more" if repeated.len() > _SHOWN else ""
        raise DataError(
            f"{what} file {path} has duplicate `{column}` values: {shown}{more}; each "
            "record must appear once"
        )


def read_crm(path: str | Path) -> tuple[pl.DataFrame, list[Path]]:
    """The CRM accounts to match: ``account_id``, ``name``, ``domain``, ``country``, ``city``,
    ``region``.

    Only ``account_id`` and ``name`` are required; without the others the match uses what
    there is. A ``.toml`` path is a source definition.

    Raises:
        DataError: The file is missing, unreadable or not UTF-8, lacks a required column,
            has a row without an id or an id twice, or no row with a name or a domain.
    """
    if str(path).endswith(".toml"):
        source = read_source(path, "crm")
        frame, files = source.frame, list(source.files)
    else:
        files, fmt = resolve_files(path)
        frame = _scan(files, fmt)
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read crm file {path}: {str(exc).strip()[:300]}") from None
    missing = [c for c in ("account_id", "name") if c not in schema]
    if missing:
        raise DataError(
            f"crm file {path} lacks required column(s) {', '.join(missing)}; "
            f"it has: {', '.join(schema) or '(no columns)'}"
        )
    keep = [c for c in ("account_id", *MATCH_FIELDS) if c in schema]
    crm = _collect(frame.select(pl.col(keep).cast(pl.String)), "crm", str(path), files)
    _check_ids(crm, "account_id", "crm", str(path))
    _check_something_to_match(crm, str(path))
    return crm, files


def _check_something_to_match(crm: pl.DataFrame, path: str) -> None:
    """At least one account has a name or a domain: otherwise nothing could ever match."""

    def given(column: str) -> pl.Expr:
        if column not in crm.columns:
            return pl.lit(False)
        return pl.col(column).str.strip_chars().fill_null("") != ""

    usable = crm.select((given("name") | given("domain")).sum()).item()
    if crm.height and not usable:
        raise DataError(
            f"crm file {path}: none of its {crm.height:,} rows has a `name` or a `domain`; "
            "matching needs at least one of them per account"
        )


def read_companies(path: str | Path) -> tuple[pl.DataFrame, list[Path]]:
    """The companies to match: ``company_id``, ``name``, ``domain`` and ``country`` if any.

    Raises:
        DataError: The data is missing or unreadable, lacks a required column, or has a
            row without an id or an id twice.
    """
    source = read_source(path, "companies")
    keep = [c for c in ("company_id", *MATCH_FIELDS) if c in source.schema]
    companies = _collect(source.frame.select(keep), "companies", str(path), list(source.files))
    _check_ids(companies, "company_id", "companies", str(path))
    return companies, list(source.files)


def read_confirmed(path: str | Path) -> pl.DataFrame:
    """A person's decisions: ``company_id``, ``account_id``, ``decision``.

    ``decision`` is ``match`` or ``no_match`` (any case); an empty decision is a pair
    not decided yet and is skipped, so a half-filled ``review.csv`` can be passed as it
    is. Other columns are ignored. The same pair decided twice keeps the later row.

    Raises:
        DataError: The file is missing, unreadable or not UTF-8, lacks a column, has a
            decision other than ``match``/``no_match``, or decides a pair both ways.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"confirmed-pairs file not found: {path}")
    frame = pl.scan_csv(path, infer_schema=False)
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read confirmed-pairs file {path}: {str(exc)[:300]}") from None
    missing = [c for c in CONFIRMED_COLUMNS if c not in schema]
    if missing:
        raise DataError(
            f"confirmed-pairs file {path} lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(CONFIRMED_COLUMNS)}; it has: {', '.join(schema) or '(no columns)'}"
        )
    rows = _collect(
        frame.select(
            pl.col(c).str.strip_chars().replace("", None) for c in CONFIRMED_COLUMNS
        ).with_row_index("line", offset=2),
        "confirmed-pairs",
        str(path),
        [path],
    ).with_columns(pl.col("decision").str.to_lowercase())
    problems = []
    for row in rows.filter(
        pl.col("decision").is_not_null() & ~pl.col("decision").is_in(DECISIONS)
    ).iter_rows(named=True):
        problems.append(
            f"line {row['line']}: invalid decision `{row['decision']}`; valid values are "
            f"{list(DECISIONS)} (or empty for undecided)"
        )
    for row in rows.filter(
        pl.col("decision").is_not_null()
        & (pl.col("company_id").is_null() | pl.col("account_id").is_null())
    ).iter_rows(named=True):
        problems.append(f"line {row['line']}: a decision needs both company_id and account_id")
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise DataError(f"confirmed-pairs file {path}: {shown}{more}")
    decided = rows.drop_nulls(["decision", "company_id", "account_id"])
    both_ways = (
        decided.group_by("company_id", "account_id")
        .agg(pl.col("decision").n_unique().alias("n"))
        .filter(pl.col("n") > 1)
        .sort("company_id", "account_id")
    )
    if both_ways.height:
        pairs = ", ".join(f"({c}, {a})" for c, a, _ in both_ways.head(_SHOWN).iter_rows())
        raise DataError(
            f"confirmed-pairs file {path} decides these pairs both as match and as "
            f"no_match: {pairs}; keep one decision per pair"
        )
    return decided.unique(["company_id", "account_id"], keep="last", maintain_order=True).select(
        CONFIRMED_COLUMNS
    )


def check_confirmed(
    confirmed: pl.DataFrame, path: str | Path, company_ids: pl.Series, account_ids: pl.Series
) -> None:
    """Every pair names a company and an account that exist.

    Raises:
        DataError: Naming the unknown ids, so a stale file is noticed, not ignored.
    """
    problems = []
    for column, known, what in (
        ("company_id", company_ids, "the companies data"),
        ("account_id", account_ids, "the CRM"),
    ):
        unknown = confirmed[column].filter(~confirmed[column].is_in(known.implode())).unique()
        if unknown.len():
            listed = unknown.sort().head(_SHOWN).to_list()
            more = f" and {unknown.len() - _SHOWN} more" if unknown.len() > _SHOWN else ""
            problems.append(f"{column} {', '.join(listed)}{more} not in {what}")
    if problems:
        raise DataError(f"confirmed-pairs file {path} names unknown ids: {'; '.join(problems)}")


def run_match(
    *,
    companies_path: str | Path,
    crm_path: str | Path,
    out: str | Path,
    settings: MatchSettings | None = None,
    confirmed_path: str | Path | None = None,
    progress: Progress = QUIET,
) -> dict[str, Any]:
    """Match the companies to the CRM and write the run directory ``out``.

    Companies that share a registrable domain take part once (the first by
    ``company_id``), and an account whose best candidates tie goes to review. Returns the
    summary also written to ``summary.json``.
    """
    settings = settings or MatchSettings()
    check_output_dir(out, "match")
    with progress.stage("reading inputs") as stage:
        companies, company_files = read_companies(companies_path)
        crm, crm_files = read_crm(crm_path)
        confirmed = read_confirmed(confirmed_path) if confirmed_path else None
        if confirmed is not None:
            check_confirmed(
                confirmed, str(confirmed_path), companies["company_id"], crm["account_id"]
            )
        stage.rows = companies.height + crm.height
    result = match_frames(
        companies,
        crm,
        settings,
        confirmed=confirmed,
        collapse_duplicates=True,
        progress=progress,
    )
    inputs = {
        "companies": {"path": str(companies_path), "sha256": sha256_of(company_files)},
        "crm": {"path": str(crm_path), "sha256": sha256_of(crm_files)},
    }
    if confirmed_path:
        inputs["confirmed"] = {
            "path": str(confirmed_path),
            "sha256": sha256_of([Path(confirmed_path)]),
        }
    summary = {"inputs": inputs, **result.counts}
    with progress.stage("writing the run directory"):
        write_match(result, summary, out)
    return summary


def write_match(result: MatchResult, summary: dict[str, Any], out: str | Path) -> None:
    """Write matches, review, duplicates and the summary; ``out`` is replaced whole."""
    with atomic_directory(out, "match") as tmp:
        write_csv(result.matches, tmp / "matches.csv")
        write_csv(result.review.with_columns(decision=pl.lit(None, pl.String)), tmp / "review.csv")
        write_csv(result.duplicates, tmp / "duplicates.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def format_match_summary(summary: dict[str, Any]) -> str:
    """A few lines for the terminal: what matched, how, and what is left to review."""
    crm = summary["crm"]
    by_method = ", ".join(f"{m} {n:,}" for m, n in summary["matches"]["by_method"].items())
    blocking = summary["blocking"]
    lines = [
        f"matched {crm['matched']:,} of {crm['accounts']:,} CRM accounts"
        + (f" ({by_method})" if by_method else ""),
        f"unmatched: {crm['unmatched']:,}, of which {crm['in_review']:,} have candidates "
        f"to review ({summary['review']['pairs']:,} pairs in review.csv)",
        f"compared {blocking['candidate_pairs']:,} candidate pairs of "
        f"{blocking['all_pairs']:,} possible",
    ]
    duplicates = summary["companies"]["duplicate_domains"]
    if duplicates:
        lines.append(f"companies sharing a domain with another: {duplicates:,} (duplicates.csv)")
    warnings = {k: v for k, v in summary["warnings"].items() if v}
    if warnings:
        lines.append(
            "skipped: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in warnings.items())
        )
    return "\n".join(lines)
