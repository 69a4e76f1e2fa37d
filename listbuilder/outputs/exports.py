"""Exports: a run's lists in the import formats of the tools where campaigns run.

Each destination is a small frozen object in a registry: its columns as polars
expressions, its row and byte limits per file, and the public page its format comes
from. Built-ins register with ``register`` exactly as a user's own destination would.

``write_exports`` writes one file (or numbered parts) per segment and destination into a
directory; ``export_run`` does the same atomically, replacing its output directory whole.

A destination's expressions read a *prepared* list: the run's list columns (``segment``,
``tier``, ``rank``, ``company_id``, ``name``, ``crm_account_id``, the company columns, ...)
plus the helper columns in ``PREPARED``, so that every destination gets the same cleaned
domain, country and tier position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from listbuilder.errors import ConfigError, DataError
from listbuilder.files import atomic_directory, read_run_summary, sha256_of
from listbuilder.inputs import domain_expr
from listbuilder.outputs.csvsafe import (
    CRLF,
    csv_records,
    encode_csv,
    header_record,
    neutralise,
    record_sizes,
)

MANIFEST = "export.json"
# The tools state their limits in megabytes of 1,000,000 bytes: "20 MB" is 20,000,000
# bytes, and a file of 20 MiB (20,971,520 bytes) is over it.
MB = 1_000_000

# The helper columns every destination can read, besides the list's own.
PREPARED = {
    "_domain": "registrable domain (no scheme, www. or path); null when not a valid host name",
    "_website": "https:// + _domain",
    "_country": "ISO 3166 alpha-2 country code, upper case; null when the value is not one",
    "_tier_ix": "the tier's position in its segment: 1 for the first tier",
    "_salesforce_id": "crm_account_id when it is a Salesforce Account Id, else null",
    "_industry": "industry",
    "_employees": "employees",
    "_revenue": "revenue_usd",
    "_city": "city",
    "_state": "state, region",
    "_zipcode": "zipcode, postal_code, zip",
    "_stock_symbol": "stock_symbol, ticker",
    "_linkedin_url": "linkedin_url, linkedin",
}
# Company columns the helpers come from: the first present wins, else the helper is null.
# The canonical schema has no address, ticker or LinkedIn page, so only LinkedIn, whose
# template has them, carries those columns; the other tools' files stick to what a list
# fills in, rather than make users map columns that are always empty.
_OPTIONAL = {
    alias: tuple(name.strip() for name in PREPARED[alias].split(","))
    for alias in (
        "_industry",
        "_employees",
        "_revenue",
        "_city",
        "_state",
        "_zipcode",
        "_stock_symbol",
        "_linkedin_url",
    )
}
# A host name of letter/digit/hyphen labels (Unicode letters for IDNs), so nothing that
# could be a formula or break a one-per-line file survives as a domain.
_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?"
_HOST = rf"^(?:{_LABEL}\.)+(?:\p{{L}}{{2,63}}|xn--[a-z0-9-]{{1,59}})$"
# Account Ids have the key prefix 001; 15 characters, or 18 with the checksum suffix.
_SALESFORCE_ACCOUNT_ID = r"^001[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LIST_COLUMNS = ("segment", "tier", "company_id", "name", "domain", "crm_account_id")


@dataclass(frozen=True, eq=False)
class Column:
    """One column of a destination's file.

    Attributes:
        header: The header cell, exactly as the tool documents it.
        expr: Its values, an expression over the prepared list.
        kind: ``text`` cells are neutralised against formula injection; ``number``
            cells are written as plain numbers (a value that is not numeric is
            neutralised and written as text instead).
    """

    header: str
    expr: pl.Expr
    kind: Literal["text", "number"] = "text"


def text(header: str, expr: pl.Expr | str) -> Column:
    """A text column."""
    return Column(header, pl.col(expr) if isinstance(expr, str) else expr, "text")


def number(header: str, expr: pl.Expr | str) -> Column:
    """A whole-number column (employees, dollars): rounded, blank where not a number."""
    value = pl.col(expr) if isinstance(expr, str) else expr
    return Column(
        header,
        value.cast(pl.Float64, strict=False).round(0).cast(pl.Int64, strict=False),
        "number",
    )


def tier_value(values: Sequence[str]) -> pl.Expr:
    """A tool's tier value by the tier's position in its segment (first tier -> first value).

    Tiers beyond the tool's vocabulary take its last value.
    """
    lookup = {i + 1: v for i, v in enumerate(values)}
    return (
        pl.col("_tier_ix")
        .clip(1, len(values))
        .replace_strict(lookup, default=None, return_dtype=pl.String)
    )


def single_tag() -> pl.Expr:
    """One tag naming segment and tier (``core_saas - Tier 1``).

    One tag per row, because several tags in a CSV cell are split differently by each
    tool (Outreach documents that they make imports partly fail).
    """
    return pl.format("{} - {}", "segment", "tier")


@dataclass(frozen=True)
class Destination:
    """One tool's import format.

    Attributes:
        name: The name used with ``--to`` and in ``[exports] to``; part of file names.
        title: What the file is, in words.
        source: The public documentation the columns and limits come from.
        columns: The file's columns, in order.
        max_rows: Data rows per file; a longer list is split into numbered parts.
        max_bytes: Bytes per file, header included; a larger list is split likewise.
        min_rows_warning: Warn when a list has fewer rows, saying ``min_rows_reason``.
        min_rows: The tool refuses a file with fewer rows: the file is still written (to
            combine with others), with a warning that says so in ``min_rows_refusal``.
        key: Header of the tool's dedupe key: rows where it is empty are left out, and
            of rows sharing a value only the best-ranked is kept.
        required: Headers the tool needs a value in on every row: rows without one are
            left out, and counted in a warning.
        max_chars: Headers the tool limits in length (characters): rows with a longer
            value are left out rather than cut (the tool would reject them, and a cut
            value would overwrite a good one), and counted in a warning.
        lines: Write the first column's values one per line (no header, no quoting).
        suffix: File name suffix.
        notes: Extra warnings about a prepared list, e.g. values the tool cannot take.
    """

    name: str
    title: str
    source: str
    columns: tuple[Column, ...]
    max_rows: int | None = None
    max_bytes: int | None = None
    min_rows_warning: int | None = None
    min_rows_reason: str = ""
    min_rows: int | None = None
    min_rows_refusal: str = ""
    key: str | None = None
    required: tuple[str, ...] = ()
    max_chars: Mapping[str, int] = field(default_factory=dict)
    lines: bool = False
    suffix: str = ".csv"
    notes: Callable[[pl.DataFrame], list[str]] | None = field(default=None, compare=False)

    @property
    def headers(self) -> list[str]:
        """The file's header row."""
        return [c.header for c in self.columns]

    def rows(self, prepared: pl.DataFrame) -> pl.DataFrame:
        """The destination's rows for a prepared list, typed, in rank order."""
        df = prepared.select(c.expr.alias(c.header) for c in self.columns)
        if self.required or self.max_chars:
            df = df.filter(self.acceptable())
        if self.key is not None:
            df = df.filter(pl.col(self.key).is_not_null()).unique(
                self.key, keep="first", maintain_order=True
            )
        return df

    def acceptable(self) -> pl.Expr:
        """Over the destination's columns: the row has every ``required`` value and no
        value over its ``max_chars``."""
        ok = [_present(pl.col(h)) for h in self.required]
        ok += [
            pl.col(h).cast(pl.String).str.len_chars().fill_null(0) <= n
            for h, n in self.max_chars.items()
        ]
        return pl.all_horizontal(ok) if ok else pl.lit(True)

    def cells(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``rows`` as the text that goes in the file, safe to open in a spreadsheet."""
        return rows.select(
            (
                pl.col(c.header).cast(pl.String)
                if c.kind == "number" and rows.schema[c.header].is_numeric()
                else neutralise(pl.col(c.header))
            ).alias(c.header)
            for c in self.columns
        )


def _present(value: pl.Expr) -> pl.Expr:
    """A value that is there: not null, and not only white space."""
    return value.cast(pl.String).str.strip_chars().str.len_chars().fill_null(0) > 0


REGISTRY: dict[str, Destination] = {}


def register(destination: Destination, *, replace: bool = False) -> Destination:
    """Add a destination to the registry; built-ins register this way too.

    Raises:
        ValueError: The name is taken (pass ``replace=True`` to override it) or is not
            usable in a file name.
    """
    if not _NAME.match(destination.name):
        msg = f"destination name {destination.name!r} must be letters, digits, _ and -"
        raise ValueError(msg)
    if destination.name in REGISTRY and not replace:
        msg = f"destination {destination.name!r} is already registered"
        raise ValueError(msg)
    REGISTRY[destination.name] = destination
    return destination


def destination_names() -> list[str]:
    """Every registered destination name, sorted."""
    return sorted(REGISTRY)


def check_destinations(names: Sequence[str]) -> list[str]:
    """The names, without repeats, once every one is known.

    Raises:
        ConfigError: No name, or an unknown one; the message lists the known ones.
    """
    known = destination_names()
    if not names:
        raise ConfigError(f"no destination given; valid destinations are {', '.join(known)}")
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ConfigError(
            f"unknown destination(s) {', '.join(map(repr, unknown))}; "
            f"valid destinations are {', '.join(known)}"
        )
    return list(dict.fromkeys(names))


# LinkedIn Campaign Manager, Matched Audiences company list. Headers: the company list
# template Campaign Manager offers for download (its headers must not be changed);
# country as a 2-letter code. A list is at most 20 MB or 300,000 records; LinkedIn
# refuses a list of fewer than 300 companies, recommends at least 1,000, and an audience
# under 300 matches does not serve.
# https://www.linkedin.com/help/lms/answer/a1489764 (template rules, 20 MB / 300,000)
# https://learn.microsoft.com/en-us/linkedin/marketing/usecases/matched-audiences/company-lists
register(
    Destination(
        name="linkedin",
        title="LinkedIn Campaign Manager company list (Matched Audiences)",
        source="https://www.linkedin.com/help/lms/answer/a1489764",
        columns=(
            text("companyname", "name"),
            text("companywebsite", "_website"),
            text("companyemaildomain", "_domain"),
            text("linkedincompanypageurl", "_linkedin_url"),
            text("stocksymbol", "_stock_symbol"),
            text("industry", "_industry"),
            text("city", "_city"),
            text("state", "_state"),
            text("companycountry", "_country"),
            text("zipcode", "_zipcode"),
        ),
        max_rows=300_000,
        max_bytes=20 * MB,
        min_rows_warning=1_000,
        min_rows_reason="LinkedIn recommends at least 1,000 companies, and an audience "
        "with fewer than 300 matched companies does not serve",
        min_rows=300,
        min_rows_refusal="LinkedIn will refuse this file: a company list needs at least 300 "
        "companies",
    )
)

# HubSpot companies import. Headers are default property labels, which the import tool
# maps by itself. "Company Domain Name" (domain) is HubSpot's dedupe key for companies,
# so rows for companies already in HubSpot update them; blank cells overwrite nothing.
# "Target Account" (hs_is_target_account, a checkbox: true) and "Ideal Customer Profile
# Tier" (hs_ideal_customer_profile; internal values tier_1, tier_2, tier_3) are default
# ABM properties. Industry is left out: it is a dropdown whose fixed options would reject
# free-text values. Files: at most 1,048,576 rows; 20 MB is the largest file every
# subscription (the free tools included) accepts.
# https://knowledge.hubspot.com/import-and-export/set-up-your-import-file
# https://knowledge.hubspot.com/properties/hubspot-crm-default-company-properties
register(
    Destination(
        name="hubspot",
        title="HubSpot companies import (matched on Company Domain Name)",
        source="https://knowledge.hubspot.com/import-and-export/set-up-your-import-file",
        columns=(
            text("Company name", "name"),
            text("Company Domain Name", "_domain"),
            number("Number of Employees", "_employees"),
            number("Annual Revenue", "_revenue"),
            text("Country/Region", "_country"),
            text("Target Account", pl.lit("true")),
            text("Ideal Customer Profile Tier", tier_value(["tier_1", "tier_2", "tier_3"])),
        ),
        key="Company Domain Name",
        max_rows=1_048_576,
        max_bytes=20 * MB,
    )
)


def _foreign_crm_ids(prepared: pl.DataFrame) -> list[str]:
    """Say how many rows have a CRM id that Salesforce would reject as an Account Id."""
    foreign = prepared.filter(
        pl.col("crm_account_id").is_not_null() & pl.col("_salesforce_id").is_null()
    )
    if not foreign.height:
        return []
    example = foreign["crm_account_id"][0]
    return [
        f"{_count(foreign.height, 'account')} with a CRM id that is not a Salesforce "
        f"Account Id (e.g. {example!r}) written without Id: an upsert inserts them"
    ]


# Salesforce Account for Data Loader, API field names as headers. Run it as an Upsert
# matched on Id: a row with an Id updates that account, a row without one is inserted;
# blank cells overwrite nothing unless Data Loader's "Insert null values" is on.
# BillingCountryCode needs State and Country/Territory Picklists (it is then the ISO
# code). Rating (standard picklist Hot, Warm, Cold) carries the tier. Name is at most 255
# characters: Data Loader rejects a longer one, so such rows are left out and counted
# rather than cut short (an upsert would overwrite the account's name with the cut one).
# https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_account.htm
# https://developer.salesforce.com/docs/atlas.en-us.dataLoader.meta/dataLoader/data_loader.htm
register(
    Destination(
        name="salesforce",
        title="Salesforce Account CSV for Data Loader (upsert on Id)",
        source="https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/"
        "object_reference/sforce_api_objects_account.htm",
        columns=(
            text("Id", "_salesforce_id"),
            text("Name", "name"),
            text("Website", "_website"),
            text("Industry", "_industry"),
            number("NumberOfEmployees", "_employees"),
            number("AnnualRevenue", "_revenue"),
            text("BillingCountryCode", "_country"),
            text("Rating", tier_value(["Hot", "Warm", "Cold"])),
        ),
        required=("Name",),
        max_chars={"Name": 255},
        notes=_foreign_crm_ids,
    )
)

# Outreach accounts import. Headers are the account field names (API: name, domain,
# websiteUrl, industry, numberOfEmployees, locality, tags, customId), which the import
# maps by name; custom ID carries company_id. Outreach documents no size limit, and that
# several tags in one cell make imports partly fail, hence one tag.
# https://developers.outreach.io/api/reference/tag/Account/
# https://support.outreach.io/hc/en-us/articles/360033764514-What-are-common-reasons-for-import-failures
register(
    Destination(
        name="outreach",
        title="Outreach accounts import",
        source="https://developers.outreach.io/api/reference/tag/Account/",
        columns=(
            text("Name", "name"),
            text("Domain", "_domain"),
            text("Website URL", "_website"),
            text("Industry", "_industry"),
            number("Number of Employees", "_employees"),
            text("Locality", "_country"),
            text("Tags", single_tag()),
            text("Custom ID", "company_id"),
        ),
    )
)

# Salesloft accounts import: every account needs a name and a domain, and Salesloft
# keeps one account per domain. Headers are the account fields (API: name, domain,
# website, industry, size, country, tags, crm_id).
# https://support.salesloft.com/hc/en-us/articles/360000094286-Import-Companies-into-SalesLoft
# https://developers.salesloft.com/docs/api/accounts-create/
register(
    Destination(
        name="salesloft",
        title="Salesloft accounts import",
        source="https://support.salesloft.com/hc/en-us/articles/360000094286",
        columns=(
            text("Account Name", "name"),
            text("Domain", "_domain"),
            text("Website", "_website"),
            text("Industry", "_industry"),
            number("Size", "_employees"),
            text("Country", "_country"),
            text("Tags", single_tag()),
            text("CRM ID", "crm_account_id"),
        ),
        key="Domain",
        required=("Account Name",),
    )
)

# Apollo accounts import: Account Name and the website, "the domain only, without www.
# or any prefixes"; "avoid uploading CSV files with more than 10,000 rows".
# https://knowledge.apollo.io/hc/en-us/articles/4409154067981-Import-a-CSV-of-Accounts
register(
    Destination(
        name="apollo",
        title="Apollo accounts import",
        source="https://knowledge.apollo.io/hc/en-us/articles/4409154067981",
        columns=(
            text("Account Name", "name"),
            text("Website", "_domain"),
            text("Industry", "_industry"),
            number("# Employees", "_employees"),
            number("Annual Revenue", "_revenue"),
            text("Country", "_country"),
        ),
        max_rows=10_000,
    )
)

# One registrable domain per line, unique, no header: what ABM platforms and ad tools
# take as a domain or account list.
register(
    Destination(
        name="domains",
        title="registrable domains, one per line",
        source="plain text, one domain per line",
        columns=(text("domain", "_domain"),),
        key="domain",
        lines=True,
        suffix=".txt",
    )
)


@dataclass(frozen=True)
class RunSegment:
    """One segment of a run, as its summary describes it."""

    name: str
    file: str
    tiers: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    """A run directory's summary: what exports need from it."""

    path: Path
    as_of: str
    rules_sha256: str | None
    segments: tuple[RunSegment, ...]

    def choose(self, segment: str | None, tiers: Sequence[str] | None) -> list[RunSegment]:
        """The segments to export, after checking the ``segment`` and ``tiers`` asked for.

        Raises:
            ConfigError: ``segment`` or a tier is not in the run; the message lists those
                that are.
        """
        names = [s.name for s in self.segments]
        if segment is not None and segment not in names:
            raise ConfigError(
                f"unknown segment {segment!r}; the run {self.path} has segments "
                f"{', '.join(names) or '(none)'}"
            )
        chosen = [s for s in self.segments if segment is None or s.name == segment]
        known = list(dict.fromkeys(t for s in chosen for t in s.tiers))
        bad = [t for t in tiers or () if t not in known]
        if bad:
            raise ConfigError(
                f"unknown tier(s) {', '.join(map(repr, bad))}; the run {self.path} has "
                f"tiers {', '.join(known) or '(none)'}"
            )
        return chosen

    def read_list(self, segment: RunSegment) -> pl.DataFrame:
        """A segment's list, checked for the columns exports read.

        Raises:
            DataError: The file is missing, unreadable or lacks a column.
        """
        path = self.path / segment.file
        try:
            listed = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            msg = " ".join(str(exc).split())[:300]
            raise DataError(
                f"cannot read the list of segment {segment.name!r}, {path}: {msg}"
            ) from None
        missing = [c for c in LIST_COLUMNS if c not in listed.columns]
        if missing:
            raise DataError(
                f"{path}: missing column(s) {', '.join(missing)}; a list written by "
                "`listbuilder build` has them"
            )
        return listed


def load_run(run_dir: str | Path) -> Run:
    """Read and check a run directory's ``summary.json``.

    Raises:
        DataError: The directory is not a run, or its summary is malformed; the message
            names the file and the key.
    """
    run = Path(run_dir)
    path, summary = read_run_summary(run)
    raw = summary.get("segments") if isinstance(summary, dict) else None
    if not isinstance(raw, list):
        raise DataError(f"{path}: key `segments`: expected a list of the run's segments")
    segments = [_segment(item, f"segments[{i}]", path) for i, item in enumerate(raw)]
    rules = summary.get("rules")
    as_of = summary.get("as_of")
    # It is part of every export's file name: a date, nothing else.
    if not isinstance(as_of, str) or not _ISO_DATE.match(as_of):
        raise DataError(f"{path}: key `as_of`: expected the run's date (YYYY-MM-DD), got {as_of!r}")
    return Run(
        path=run,
        as_of=as_of,
        rules_sha256=rules.get("sha256") if isinstance(rules, dict) else None,
        segments=tuple(segments),
    )


def _segment(item: Any, where: str, path: Path) -> RunSegment:
    if not isinstance(item, dict):
        raise DataError(f"{path}: key `{where}`: expected an object")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise DataError(f"{path}: key `{where}.name`: expected a segment name, got {name!r}")
    tiers = item.get("tiers")
    if not isinstance(tiers, dict) or not all(isinstance(t, str) for t in tiers):
        raise DataError(f"{path}: key `{where}.tiers`: expected an object of tier sizes")
    file = item.get("file", f"{name}.parquet")
    # Only a file inside the run: a summary must not point exports anywhere else.
    if not isinstance(file, str) or Path(file).name != file or file in ("", ".", ".."):
        raise DataError(f"{path}: key `{where}.file`: expected a file name, got {file!r}")
    return RunSegment(name, file, tuple(tiers))


def _prepare(listed: pl.DataFrame, tier_order: Sequence[str]) -> pl.DataFrame:
    """Add the ``PREPARED`` helper columns, whatever company columns the list carries."""
    domain = domain_expr(pl.col("domain").cast(pl.String))
    country = pl.col("country").cast(pl.String).str.strip_chars().str.to_uppercase()
    crm_id = pl.col("crm_account_id").cast(pl.String)
    optional = {}
    for alias, candidates in _OPTIONAL.items():
        present = [c for c in candidates if c in listed.columns]
        optional[alias] = pl.col(present[0]) if present else pl.lit(None, pl.String)
    return listed.with_columns(
        _domain=pl.when(domain.str.contains(_HOST)).then(domain),
        _country=(
            pl.when(country.str.contains(r"^[A-Z]{2}$")).then(country)
            if "country" in listed.columns
            else pl.lit(None, pl.String)
        ),
        _tier_ix=pl.col("tier").replace_strict(
            {name: i + 1 for i, name in enumerate(tier_order)}, default=None, return_dtype=pl.Int64
        ),
        _salesforce_id=pl.when(crm_id.str.contains(_SALESFORCE_ACCOUNT_ID)).then(crm_id),
        **optional,
    ).with_columns(_website=pl.lit("https://") + pl.col("_domain"))


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        files: File names, relative to the output directory, in writing order.
        warnings: One line each, prefixed ``<segment>.<destination>:``.
        rows: Data rows per file name.
    """

    files: tuple[str, ...]
    warnings: tuple[str, ...]
    rows: dict[str, int]


def _bounds(
    sizes: pl.Series, header_bytes: int, dest: Destination, label: str
) -> list[tuple[int, int]]:
    """Row ranges of the parts, each within the destination's row and byte limits.

    Greedy: each part takes as many rows as fit. The loop runs once per part; the rows
    that fit a byte budget come from a search in the running total of record sizes.
    """
    n = len(sizes)
    if n == 0:
        return [(0, 0)]
    total = sizes.cum_sum()
    parts, start = [], 0
    while start < n:
        end = n if dest.max_rows is None else min(n, start + dest.max_rows)
        if dest.max_bytes is not None:
            before = int(total[start - 1]) if start else 0
            fits = int(total.search_sorted(before + dest.max_bytes - header_bytes, side="right"))
            if fits <= start:
                raise DataError(
                    f"{label}: row {start + 1} alone exceeds the file limit of "
                    f"{dest.max_bytes:,} bytes"
                )
            end = min(end, fits)
        parts.append((start, end))
        start = end
    return parts


_ID = "\x00company_id"  # a name no destination header can take


def _left_out(dest: Destination, prepared: pl.DataFrame, label: str, kept: int) -> list[str]:
    """Say how many rows the destination leaves out, and why; ``kept`` rows remain."""
    df = prepared.select(
        *(c.expr.alias(c.header) for c in dest.columns), pl.col("company_id").alias(_ID)
    )
    warnings = []
    for header in dest.required:
        missing = df.filter(~_present(pl.col(header)))
        if missing.height:
            warnings.append(
                f"{label}: {_count(missing.height, 'account')} left out: no {header}, which "
                f"the tool requires on every row (e.g. company_id {missing[0, _ID]!r})"
            )
    for header, limit in dest.max_chars.items():
        long = df.filter(pl.col(header).cast(pl.String).str.len_chars() > limit)
        if long.height:
            warnings.append(
                f"{label}: {_count(long.height, 'account')} left out: {header} longer than "
                f"the tool's {limit:,} characters (e.g. company_id {long[0, _ID]!r}); "
                "they stay in the run's lists"
            )
    if dest.key is not None:
        acceptable = df.filter(dest.acceptable())
        blank = acceptable[dest.key].null_count()
        repeats = acceptable.height - blank - kept
        if blank:
            warnings.append(f"{label}: {_count(blank, 'account')} left out: no valid {dest.key}")
        if repeats:
            warnings.append(
                f"{label}: {_count(repeats, 'account')} left out: same {dest.key} as a "
                "higher-ranked account"
            )
    return warnings


def _write_destination(
    dest: Destination, prepared: pl.DataFrame, out: Path, label: str, stem: str
) -> tuple[dict[str, int], list[str]]:
    """Write one list for one destination into ``stem``-named files; returns rows per file
    and warnings (each prefixed with ``label``)."""
    rows = dest.rows(prepared)
    warnings = [f"{label}: {note}" for note in (dest.notes(prepared) if dest.notes else [])]
    warnings += _left_out(dest, prepared, label, rows.height)
    if dest.min_rows is not None and rows.height < dest.min_rows:
        warnings.append(
            f"{label}: {_count(rows.height, 'company', 'companies')}; {dest.min_rows_refusal}"
        )
    elif dest.min_rows_warning is not None and rows.height < dest.min_rows_warning:
        warnings.append(
            f"{label}: {_count(rows.height, 'company', 'companies')}; {dest.min_rows_reason}"
        )
    cells = dest.cells(rows)
    if dest.lines:
        # A line break inside a value would make it two lines, i.e. two values.
        records = cells.to_series(0).str.replace_all(r"[\r\n]+", " ")
        header, eol = "", "\n"
        sizes = records.str.len_bytes().cast(pl.Int64) + len(eol)
    else:
        records = csv_records(cells)
        header, eol = header_record(dest.headers), CRLF
        sizes = record_sizes(records)
    parts = _bounds(sizes, len(header.encode("utf-8")) + len(eol) if header else 0, dest, label)
    written = {}
    for k, (start, end) in enumerate(parts, start=1):
        name = f"{stem}.part{k}{dest.suffix}" if len(parts) > 1 else f"{stem}{dest.suffix}"
        chunk = records.slice(start, end - start)
        if dest.lines:
            data = (chunk.str.join(eol).item() + eol if len(chunk) else "").encode("utf-8")
        else:
            data = encode_csv(header, chunk)
        (out / name).write_bytes(data)
        written[name] = end - start
    return written, warnings


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def write_exports(
    run_dir: str | Path,
    destinations: Sequence[str],
    out: str | Path,
    *,
    segment: str | None = None,
    tiers: Sequence[str] | None = None,
) -> ExportResult:
    """Write one file (or numbered parts) per segment and destination into ``out``.

    Not atomic by itself: ``export_run`` and the build call it on a temporary directory.
    Files are named ``<segment>.<destination>.<as-of date>.csv`` (``.txt`` for domains),
    and ``<segment>.<destination>.<as-of date>.partN.csv`` where a destination's limits
    split a list: last month's file cannot pass for this month's.
    ``export.json`` records what was written, for the next ``export_run`` to recognise.

    Args:
        run_dir: A run directory written by ``listbuilder build``.
        destinations: Registered destination names.
        out: An existing or new directory; files of the same names are overwritten.
        segment: Only this segment (default: every segment of the run).
        tiers: Only accounts in these tiers (default: all).

    Raises:
        ConfigError: An unknown destination, segment or tier.
        DataError: ``run_dir`` is not a run directory, or a list cannot be read.
    """
    names = check_destinations(destinations)
    run = load_run(run_dir)
    chosen = run.choose(segment, tiers)
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, int] = {}
    warnings: list[str] = []
    for seg in chosen:
        listed = run.read_list(seg)
        if tiers is not None:
            listed = listed.filter(pl.col("tier").is_in(list(tiers)))
        prepared = _prepare(listed, seg.tiers)
        for name in names:
            label = f"{seg.name}.{name}"
            written, notes = _write_destination(
                REGISTRY[name], prepared, target, label, f"{label}.{run.as_of}"
            )
            files.update(written)
            warnings += notes
    manifest = {
        "run_as_of": run.as_of,
        "rules_sha256": run.rules_sha256,
        "destinations": names,
        "segment": segment,
        "tiers": list(tiers) if tiers is not None else None,
        "files": [
            {"name": f, "rows": n, "sha256": sha256_of([target / f])} for f, n in files.items()
        ],
        "warnings": warnings,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ExportResult(tuple(files), tuple(warnings), files)


def export_run(
    run_dir: str | Path,
    destinations: Sequence[str],
    out: str | Path,
    *,
    segment: str | None = None,
    tiers: Sequence[str] | None = None,
) -> ExportResult:
    """Write a run's exports into ``out`` atomically, replacing the directory whole.

    ``out`` must be new, empty, or an earlier export nobody has changed since: anything
    else is refused rather than replaced (see ``listbuilder.files.check_output_dir``), so
    a mistyped path cannot destroy a directory, least of all a run. On failure ``out`` is
    left as it was.

    Raises:
        ConfigError: An unknown destination, segment or tier, or an unsafe ``out``.
        DataError: ``run_dir`` is not a run directory, or a list cannot be read.
    """
    check_destinations(destinations)
    load_run(run_dir)
    with atomic_directory(out, "export") as tmp:
        return write_exports(run_dir, destinations, tmp, segment=segment, tiers=tiers)
