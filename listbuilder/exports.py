"""Exports: a run's lists in the import formats of the tools where campaigns run.

Each destination is a small frozen object in a registry: its file columns as polars
expressions over a list, its row and byte limits, and the public page its format comes
from. ``write_exports`` writes every (segment, destination) file into a directory;
``export_run`` does the same atomically. A user's own destination registers the same way
the built-ins do, with ``register``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from listbuilder.errors import ConfigError, DataError
from listbuilder.io import atomic_directory
from listbuilder.normalise import domain_expr

# Cells that a spreadsheet would run as a formula, or that hide one behind a control
# character (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(expr: pl.Expr) -> pl.Expr:
    """Neutralise a text cell a spreadsheet would read as a formula, by prefixing ``'``."""
    text = expr.cast(pl.String)
    risky = pl.any_horizontal([text.str.starts_with(p) for p in FORMULA_PREFIXES])
    return pl.when(risky.fill_null(False)).then(pl.lit("'") + text).otherwise(text)


def tier_value(values: Sequence[str]) -> pl.Expr:
    """The tool's tier value for each row, by the tier's position (1-based) in its segment.

    Tiers beyond the tool's vocabulary take its last value.
    """
    ix = pl.col("_tier_ix").clip(upper_bound=len(values)) - 1
    return pl.lit(list(values), dtype=pl.List(pl.String)).list.get(ix, null_on_oob=True)


# Columns every destination can read besides the list's own: the registrable domain,
# a website URL built from it, and the tier's position in its segment.
DOMAIN = pl.col("_domain")
WEBSITE = pl.when(DOMAIN.is_not_null()).then(pl.lit("https://") + DOMAIN)

Column = tuple[str, pl.Expr, Literal["text", "number"]]


def text(header: str, expr: pl.Expr) -> Column:
    """A text column: neutralised against formula injection."""
    return (header, expr, "text")


def number(header: str, expr: pl.Expr) -> Column:
    """A numeric column: written as a number, never prefixed."""
    return (header, expr, "number")


@dataclass(frozen=True)
class Destination:
    """One tool's import format.

    Attributes:
        name: The name used with ``--to`` and in ``[exports] to``.
        title: What the file is, in words.
        source: The public documentation the columns and limits come from.
        columns: (header, expression, kind) in file order.
        max_rows: Rows per file; longer lists are split into numbered parts.
        max_bytes: Bytes per file; larger files are split into numbered parts.
        min_rows_warning: Warn when a list has fewer rows than this, with ``min_rows_reason``.
        dedupe_on: Keep only the best-ranked row per value of this column (the tool's
            dedupe key), dropping rows where it is empty.
        lines: Write one value per line (no header, no quoting) instead of CSV.
        suffix: File name suffix.
    """

    name: str
    title: str
    source: str
    columns: tuple[Column, ...]
    max_rows: int | None = None
    max_bytes: int | None = None
    min_rows_warning: int | None = None
    min_rows_reason: str = ""
    dedupe_on: str | None = None
    lines: bool = False
    suffix: str = ".csv"

    @property
    def headers(self) -> list[str]:
        """The file's header row."""
        return [header for header, _, _ in self.columns]

    def frame(self, listed: pl.DataFrame) -> pl.DataFrame:
        """The list as this destination's rows, in rank order."""
        df = listed.select(
            (csv_safe(expr) if kind == "text" and not self.lines else expr).alias(header)
            for header, expr, kind in self.columns
        )
        if self.dedupe_on is not None:
            df = df.filter(pl.col(self.dedupe_on).is_not_null()).unique(
                self.dedupe_on, keep="first", maintain_order=True
            )
        return df


REGISTRY: dict[str, Destination] = {}


def register(destination: Destination) -> Destination:
    """Add a destination to the registry (built-ins register this way too)."""
    REGISTRY[destination.name] = destination
    return destination


def destination_names() -> list[str]:
    """Every known destination name, sorted."""
    return sorted(REGISTRY)


# LinkedIn Campaign Manager, Matched Audiences company list: the headers of the company
# list template Campaign Manager offers for download; at most 300,000 companies per
# list; "we recommend at least 1,000 companies"; audiences under 300 matches do not serve.
# https://www.linkedin.com/help/lms/answer/a419991 (company list requirements)
# https://www.linkedin.com/help/lms/answer/a1489764 (20 MB / 300,000 records, 300 minimum)
register(
    Destination(
        name="linkedin",
        title="LinkedIn Campaign Manager company list (Matched Audiences)",
        source="https://www.linkedin.com/help/lms/answer/a419991",
        columns=(
            text("companyname", pl.col("name")),
            text("companywebsite", WEBSITE),
            text("companyemaildomain", DOMAIN),
            text("linkedincompanypageurl", pl.col("_linkedin_url")),
            text("stocksymbol", pl.col("_stock_symbol")),
            text("industry", pl.col("_industry")),
            text("city", pl.col("_city")),
            text("state", pl.col("_state")),
            text("companycountry", pl.col("_country")),
            text("zipcode", pl.col("_zipcode")),
        ),
        max_rows=300_000,
        max_bytes=20 * 1024 * 1024,
        min_rows_warning=1000,
        min_rows_reason="LinkedIn recommends at least 1,000 companies; "
        "audiences under 300 matched companies do not serve",
    )
)

# HubSpot companies import. Column headers are the default property labels, which the
# importer maps automatically; "Company Domain Name" is the dedupe key, so existing
# companies are updated. "Target Account" (hs_is_target_account) and "Ideal Customer
# Profile Tier" (hs_ideal_customer_profile, internal values tier_1/tier_2/tier_3) are
# HubSpot's default ABM properties.
# https://knowledge.hubspot.com/import-and-export/import-objects (dedupe by domain)
# https://knowledge.hubspot.com/properties/hubspot-crm-default-company-properties
register(
    Destination(
        name="hubspot",
        title="HubSpot companies import (updates by Company Domain Name)",
        source="https://knowledge.hubspot.com/properties/hubspot-crm-default-company-properties",
        columns=(
            text("Company name", pl.col("name")),
            text("Company Domain Name", DOMAIN),
            text("Industry", pl.col("_industry")),
            number("Number of Employees", pl.col("_employees")),
            number("Annual Revenue", pl.col("_revenue")),
            text("Country/Region", pl.col("_country")),
            text("Target Account", pl.lit("true")),
            text("Ideal Customer Profile Tier", tier_value(["tier_1", "tier_2", "tier_3"])),
        ),
        dedupe_on="Company Domain Name",
    )
)

# Salesforce Account for Data Loader: API field names as headers. Run it as an Upsert on
# Id: rows with an Id update that account, rows without one insert a new account.
# https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_account.htm
# https://developer.salesforce.com/docs/atlas.en-us.dataLoader.meta/dataLoader/inserting_updating_or_deleting_data.htm
register(
    Destination(
        name="salesforce",
        title="Salesforce Account CSV for Data Loader (upsert on Id)",
        source="https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/"
        "object_reference/sforce_api_objects_account.htm",
        columns=(
            text("Id", pl.col("_salesforce_id")),
            text("Name", pl.col("name")),
            text("Website", WEBSITE),
            text("Industry", pl.col("_industry")),
            number("NumberOfEmployees", pl.col("_employees")),
            number("AnnualRevenue", pl.col("_revenue")),
            text("BillingCountryCode", pl.col("_country")),
            text("Description", pl.format("{} ({}): {}", "tier", "segment", "reasons")),
        ),
    )
)

# Outreach accounts CSV import; the headers are Outreach's account field names, which
# the importer maps automatically. Outreach takes at most 100,000 rows per import.
# https://support.outreach.io/hc/en-us/articles/205010498-How-To-Import-Accounts-Into-Outreach
register(
    Destination(
        name="outreach",
        title="Outreach accounts import",
        source="https://support.outreach.io/hc/en-us/articles/205010498",
        columns=(
            text("Name", pl.col("name")),
            text("Domain", DOMAIN),
            text("Website URL", WEBSITE),
            text("Industry", pl.col("_industry")),
            number("Number of Employees", pl.col("_employees")),
            text("Locality", pl.col("_country")),
            text("Tags", pl.format("{}; {}", "segment", "tier")),
            text("Custom ID", pl.col("company_id")),
        ),
        max_rows=100_000,
    )
)

# Salesloft accounts CSV import: Account Name and Domain are required; Salesloft dedupes
# accounts on Domain.
# https://help.salesloft.com/s/article/Import-Accounts-via-CSV
register(
    Destination(
        name="salesloft",
        title="Salesloft accounts import",
        source="https://help.salesloft.com/s/article/Import-Accounts-via-CSV",
        columns=(
            text("Account Name", pl.col("name")),
            text("Domain", DOMAIN),
            text("Website", WEBSITE),
            text("Industry", pl.col("_industry")),
            number("Size", pl.col("_employees")),
            text("Country", pl.col("_country")),
            text("Tags", pl.format("{}; {}", "segment", "tier")),
            text("CRM ID", pl.col("crm_account_id")),
        ),
        dedupe_on="Domain",
    )
)

# Apollo accounts CSV import: Account Name and the website as a bare domain ("enter the
# domain only, without www. or any prefixes"); "avoid uploading CSV files with more than
# 10,000 rows". Multi-select values are separated by semicolons.
# https://knowledge.apollo.io/hc/en-us/articles/4409154067981-Import-a-CSV-of-Accounts
register(
    Destination(
        name="apollo",
        title="Apollo accounts import",
        source="https://knowledge.apollo.io/hc/en-us/articles/4409154067981",
        columns=(
            text("Account Name", pl.col("name")),
            text("Website", DOMAIN),
            text("Industry", pl.col("_industry")),
            number("# Employees", pl.col("_employees")),
            number("Annual Revenue", pl.col("_revenue")),
            text("Country", pl.col("_country")),
        ),
        max_rows=10_000,
    )
)

# One registrable domain per line: the format ABM platforms and ad tools take
# (Demandbase, 6sense, Google Ads customer match by domain).
register(
    Destination(
        name="domains",
        title="registrable domains, one per line",
        source="plain text, one domain per line",
        columns=(text("domain", DOMAIN),),
        dedupe_on="domain",
        lines=True,
        suffix=".txt",
    )
)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: files (relative to the output directory) and warnings."""

    files: list[str]
    warnings: list[str]
    rows: dict[str, int]


_SALESFORCE_ID = r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$"
_OPTIONAL = {
    "_industry": "industry",
    "_employees": "employees",
    "_revenue": "revenue_usd",
    "_country": "country",
    "_city": "city",
    "_state": "state",
    "_zipcode": "zipcode",
    "_stock_symbol": "stock_symbol",
    "_linkedin_url": "linkedin_url",
}


def _prepare(listed: pl.DataFrame, tier_order: list[str]) -> pl.DataFrame:
    """Add the helper columns destinations read, whatever the company data carries."""
    ix = {name: i + 1 for i, name in enumerate(tier_order)}
    return listed.with_columns(
        _domain=domain_expr("domain"),
        _tier_ix=pl.col("tier").replace_strict(ix, default=len(ix), return_dtype=pl.Int64),
        _salesforce_id=pl.when(
            pl.col("crm_account_id").cast(pl.String).str.contains(_SALESFORCE_ID)
        ).then(pl.col("crm_account_id").cast(pl.String)),
        **{
            alias: (pl.col(source) if source in listed.columns else pl.lit(None, pl.String))
            for alias, source in _OPTIONAL.items()
        },
    )


def _parts(df: pl.DataFrame, dest: Destination) -> list[pl.DataFrame]:
    """Split ``df`` so no part exceeds the destination's row or byte limit."""
    size = dest.max_rows or max(df.height, 1)
    parts = [df.slice(i, size) for i in range(0, max(df.height, 1), size)]
    if dest.max_bytes is None:
        return parts
    out: list[pl.DataFrame] = []
    for part in parts:
        n_bytes = len(_encode(part, dest))
        pieces = max(1, math.ceil(n_bytes / dest.max_bytes))
        while True:
            step = math.ceil(part.height / pieces)
            chunks = [part.slice(i, step) for i in range(0, part.height, step)] or [part]
            if all(len(_encode(c, dest)) <= dest.max_bytes for c in chunks) or step == 1:
                break
            pieces += 1
        out += chunks
    return out


def _encode(df: pl.DataFrame, dest: Destination) -> bytes:
    if dest.lines:
        return "".join(f"{v}\n" for v in df.to_series(0).to_list()).encode("utf-8")
    # RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or newline.
    return df.write_csv(line_terminator="\r\n").encode("utf-8")


def load_run(run_dir: str | Path) -> dict:
    """Read a run directory's ``summary.json``; a clear error if it is not a run."""
    run = Path(run_dir)
    summary_path = run / "summary.json"
    if not summary_path.is_file():
        raise DataError(
            f"{run} is not a run directory: it has no summary.json "
            "(make one with `listbuilder build --out DIR`)"
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        summary["segments"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{summary_path}: not a listbuilder run summary ({exc})") from None
    return summary


def check_destinations(names: Sequence[str]) -> None:
    """Raise a ``ConfigError`` naming any unknown destination and listing the known ones."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ConfigError(
            f"unknown destination(s) {', '.join(map(repr, unknown))}; "
            f"valid destinations are {', '.join(destination_names())}"
        )
    if not names:
        raise ConfigError(f"no destination given; valid destinations are {destination_names()}")


def write_exports(
    run_dir: str | Path,
    destinations: Sequence[str],
    out: str | Path,
    *,
    segment: str | None = None,
    tiers: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write one file (or numbered parts) per segment and destination into ``out``.

    Not atomic by itself: ``export_run`` and the build call it inside a temporary
    directory. Files are named ``<segment>.<destination>.csv`` (``.txt`` for domains) and
    ``<segment>.<destination>.partN.csv`` when a destination's limits split a list.

    Raises:
        ConfigError: An unknown destination, segment or tier.
        DataError: ``run_dir`` is not a run directory or a list cannot be read.
    """
    check_destinations(destinations)
    summary = load_run(run_dir)
    run = Path(run_dir)
    segments = summary["segments"]
    names = [s["name"] for s in segments]
    if segment is not None and segment not in names:
        raise ConfigError(f"unknown segment {segment!r} in {run}; the run has {names}")
    chosen = [s for s in segments if segment is None or s["name"] == segment]
    known_tiers = list(dict.fromkeys(t for s in chosen for t in s["tiers"]))
    if tiers is not None:
        bad = [t for t in tiers if t not in known_tiers]
        if bad:
            raise ConfigError(
                f"unknown tier(s) {', '.join(map(repr, bad))}; the run's tiers are {known_tiers}"
            )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    warnings: list[str] = []
    rows: dict[str, int] = {}
    for seg in chosen:
        list_path = run / seg.get("file", f"{seg['name']}.parquet")
        try:
            listed = pl.read_parquet(list_path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise DataError(f"cannot read the list {list_path}: {exc}") from None
        if tiers is not None:
            listed = listed.filter(pl.col("tier").is_in(list(tiers)))
        prepared = _prepare(listed, list(seg["tiers"]))
        for name in destinations:
            dest = REGISTRY[name]
            df = dest.frame(prepared)
            label = f"{seg['name']}.{name}"
            rows[label] = df.height
            dropped = prepared.height - df.height
            if dropped:
                warnings.append(
                    f"{label}: {dropped:,} listed accounts left out "
                    f"(no domain, or the same domain as a higher-ranked account)"
                )
            if dest.min_rows_warning and df.height < dest.min_rows_warning:
                warnings.append(f"{label}: {df.height:,} companies; {dest.min_rows_reason}")
            parts = _parts(df, dest)
            for k, part in enumerate(parts, start=1):
                suffix = f".part{k}{dest.suffix}" if len(parts) > 1 else dest.suffix
                target = out / f"{label}{suffix}"
                target.write_bytes(_encode(part, dest))
                files.append(target.name)
                if progress:
                    progress(target.name)
    return ExportResult(files, warnings, rows)


def export_run(
    run_dir: str | Path,
    destinations: Sequence[str],
    out: str | Path,
    *,
    segment: str | None = None,
    tiers: Sequence[str] | None = None,
) -> ExportResult:
    """Write the exports of a run into ``out``, replacing it whole, atomically.

    ``out`` is replaced as a whole on success and untouched on failure, so it must be a
    directory of its own: never the run directory or another run.
    """
    target = Path(out)
    if target.resolve() == Path(run_dir).resolve() or (target / "summary.json").exists():
        raise ConfigError(
            f"--out {target} is a run directory; exports replace their output directory "
            "whole, so give a directory of their own (e.g. RUN_DIR/exports)"
        )
    check_destinations(destinations)
    load_run(run_dir)
    with atomic_directory(target) as tmp:
        return write_exports(run_dir, destinations, tmp, segment=segment, tiers=tiers)
