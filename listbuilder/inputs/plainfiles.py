"""Plain data files, read through the same value parsers as source definitions.

A plain file (parquet, CSV or newline-delimited JSON with the canonical column names) gets
an *implied* source definition: each of its role's known columns it has, mapped to itself,
and read with that column's default parser where its values are text (``PLAIN_PARSERS``:
size bands and thousands separators for ``employees``, names and codes for ``country``,
URLs for ``domain``; numbers, dates, booleans and lists as source files read them). One
code path then reads both kinds of
input, and a value neither can read is counted (``check_values``) rather than failing the
run mid-stream or silently matching nothing.

A column that already has its canonical type (a parquet file in the canonical schema) is
passed through untouched, and the parsers spend their effort only on values that need it
(``parsers.host``, ``parsers.country``), so reading a clean file costs little more than
scanning it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.errors import ConfigError, DataError
from listbuilder.inputs.sourcefiles import (
    ColumnSpec,
    InputSpec,
    SourceDef,
    compile_mapping,
    read_source_file,
)
from listbuilder.inputs.tables import (
    ROLES,
    Role,
    Source,
    check_same_columns,
    files_separator,
    resolve_files,
)

# The parser each known text column is read with, with its options. The other columns
# are converted to their canonical type as a source file's are: text trimmed (empty as
# null); numbers with thousands separators, currency signs and k/M suffixes; ISO dates;
# true/false, yes/no, 1/0; lists split on ";".
PLAIN_PARSERS: Mapping[Role, Mapping[str, tuple[str, Mapping[str, Any]]]] = {
    "companies": {
        # Only the scheme, path and "www." go: the build itself picks registrable domains.
        "domain": ("host", {}),
        # A plain number ("1,200") is a band of one: the band parser reads both.
        "employees": ("band", {}),
        "country": ("country", {}),
    },
    "jobs": {},
    "funding": {},
    "crm": {"domain": ("host", {}), "country": ("country", {})},
    "opportunities": {},
    # An event table's columns are its own (title, topic, employees...): only the date and
    # the company id are known, and they keep the types the file gives them.
    "events": {},
}


# Parsed in text formats only: in a typed file (parquet) the column keeps its values. A
# domain there is most often clean already, and the build reduces every domain to its
# registrable domain where it counts (one account per domain, CRM matching, exports), so
# parsing each of millions of them on every read would buy little.
TEXT_FORMAT_ONLY = frozenset({"domain"})


@dataclass(frozen=True)
class VendorExport:
    """A vendor's export, known by headers it always has, and the source file for it."""

    title: str
    source_file: str
    role: Role
    headers: frozenset[str]


# Headers every export of the kind has (compared ignoring case and surrounding spaces);
# tests check each against the columns its source file maps.
VENDOR_EXPORTS: tuple[VendorExport, ...] = (
    VendorExport(
        "a HubSpot companies export",
        "hubspot_companies.toml",
        "crm",
        frozenset({"Record ID", "Company name"}),
    ),
    VendorExport(
        "a HubSpot deals export",
        "hubspot_deals.toml",
        "opportunities",
        frozenset({"Record ID", "Deal Stage"}),
    ),
    VendorExport(
        "a Salesforce Account export",
        "salesforce_accounts.toml",
        "crm",
        frozenset({"Id", "Name", "Website", "BillingCountry"}),
    ),
    VendorExport(
        "a Salesforce Opportunity export",
        "salesforce_opportunities.toml",
        "opportunities",
        frozenset({"Id", "AccountId", "IsClosed", "IsWon"}),
    ),
    VendorExport(
        "the People Data Labs company dataset",
        "pdl.toml",
        "companies",
        frozenset({"id", "website", "name", "size", "founded"}),
    ),
    VendorExport(
        "a Crunchbase organizations export",
        "crunchbase_organizations.toml",
        "companies",
        frozenset({"uuid", "name", "homepage_url", "country_code"}),
    ),
    VendorExport(
        "a Crunchbase funding rounds export",
        "crunchbase_funding_rounds.toml",
        "funding",
        frozenset({"uuid", "org_uuid", "investment_type", "announced_on"}),
    ),
    VendorExport(
        "the Companies House basic company data",
        "companies_house.toml",
        "companies",
        frozenset({"CompanyName", "CompanyNumber"}),
    ),
)


def vendor_export(columns: list[str]) -> VendorExport | None:
    """The vendor export whose headers ``columns`` has, if any."""
    have = {c.strip().lower() for c in columns}
    for vendor in VENDOR_EXPORTS:
        if {h.lower() for h in vendor.headers} <= have:
            return vendor
    return None


def implied_definition(
    path: str | Path, role: Role, schema: pl.Schema, *, typed: bool = False
) -> SourceDef:
    """The source definition a plain file of ``role`` with ``schema`` is read through.

    Each known column the file has maps to itself; text columns get their default parser
    (a size band is read as its lower bound, and adds no ``_min``/``_max`` columns). In a
    ``typed`` format (parquet) a text column with no parser, and ``domain``, are taken as
    they are, as typed columns are: only what needs parsing costs time.
    """
    parsers = PLAIN_PARSERS[role]
    columns = []
    known = ROLES[role].dtypes
    # In the file's order, so a plain file's columns keep theirs.
    for name in (c for c in schema if c in known):
        dtype = known[name]
        normaliser, options = parsers.get(name, (None, {}))
        if schema[name] != pl.String or (typed and name in TEXT_FORMAT_ONLY):
            normaliser, options = None, {}
        columns.append(
            ColumnSpec(
                name,
                name,
                sources=(name,),
                normaliser=normaliser,
                options=options,
                dtype=dtype,
                # A plain file keeps its own columns: no band bounds beside them.
                bounds=False,
                # A quoted empty list cell ("") is a known empty list, not a missing one.
                empty_is_null=not isinstance(dtype, pl.List),
                clean=not (typed and normaliser is None),
            )
        )
    return SourceDef(
        path=Path(path),
        role=role,
        description=f"plain {role} file",
        docs="",
        input=InputSpec(path=str(path)),
        api=None,
        columns=tuple(columns),
        extra=(),
        keep_other_columns=True,
    )


def _scan(files: list[Path], fmt: str, role: Role) -> pl.LazyFrame:
    """The file's scan, with the role's known columns as text where the format has no
    types of its own, so that their parsers (not a type guess from the first rows) read
    them; other columns keep their inferred types."""
    known = ROLES[role].dtypes
    if fmt == "parquet":
        return pl.scan_parquet(files)
    if fmt == "ndjson":
        inferred = pl.scan_ndjson(files, infer_schema_length=10_000).collect_schema()
        overrides = {
            c: pl.String
            for c, dt in inferred.items()
            if c in known and not isinstance(dt, pl.List | pl.Struct)
        }
        return pl.scan_ndjson(files, schema_overrides=overrides, infer_schema_length=10_000)
    separator = files_separator(files)
    headers = pl.scan_csv(files, separator=separator, infer_schema=False).collect_schema()
    text = {c: pl.String for c in headers if c in known}
    # Guessing dates is slow even for the columns given as text: ask for it only when
    # there are other columns to guess for.
    return pl.scan_csv(
        files,
        separator=separator,
        schema_overrides=text,
        infer_schema_length=10_000,
        try_parse_dates=len(text) < len(headers),
    )


def read_plain(path: str | Path, role: Role) -> Source:
    """Open a plain data file (or a folder of them) as the ``role`` table.

    Raises:
        DataError: The path is missing or unreadable, a required column is absent (naming
            the source file to use when the file is a known vendor export), or a column
            holds a type its role's column cannot take.
    """
    files, fmt = resolve_files(path)
    check_same_columns(files, fmt, str(path))
    try:
        frame = _scan(files, fmt, role)
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {role} file {path}: {_first_line(exc)}") from None
    missing = [c for c in ROLES[role].required if c not in schema]
    if missing:
        raise DataError(
            f"{role} file {path} lacks required column(s) {', '.join(missing)}; "
            f"it has: {', '.join(schema) or '(no columns)'}{_vendor_hint(list(schema), role)}"
        )
    defn = implied_definition(path, role, schema, typed=fmt == "parquet")
    try:
        staged, typed, checks = compile_mapping(
            defn, frame, schema, str(path), f"{role} file {path}"
        )
    except ConfigError as exc:
        raise DataError(str(exc)) from None
    return Source(role, str(path), tuple(files), typed, checks=checks, staged=staged)


def _vendor_hint(columns: list[str], role: Role) -> str:
    vendor = vendor_export(columns)
    if vendor is None:
        return ""
    where = f"sources/{vendor.source_file}"
    if vendor.role != role:
        return (
            f"\n  it looks like {vendor.title}, which is a {vendor.role} table, not "
            f"{role}: give it as the {vendor.role} input through {where} (set [input] "
            "path in a copy of it to this file)"
        )
    return (
        f"\n  it looks like {vendor.title}: read it through {where} (set [input] path in "
        f"a copy of it to this file) and give that .toml file as the {role} input"
    )


def read_source(path: str | Path, role: Role) -> Source:
    """Open ``path`` as the ``role`` table, checking it is readable and has what it must.

    A ``.toml`` path is a source definition: its declared role must be ``role``, and its
    mapping turns the vendor's columns into ours. Any other path is a plain data file or
    a folder of them, read with each known column's default parser.

    Raises:
        DataError: The path is missing or unreadable, or a required column is absent.
        ConfigError: A source definition is invalid or declares another role.
    """
    if str(path).endswith(".toml"):
        return read_source_file(path, role)
    return read_plain(path, role)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
