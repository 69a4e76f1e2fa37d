"""Input tables: the roles, their canonical schemas, and where a table's files are.

A table is a file (parquet, CSV or newline-delimited JSON), a directory of such files or
a glob. ``listbuilder.inputs.plainfiles`` reads one as a role's table, and
``listbuilder.inputs.sourcefiles`` through a source definition.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from listbuilder.errors import DataError

Role = Literal["companies", "jobs", "funding", "crm", "opportunities", "events"]
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}


@dataclass(frozen=True)
class RoleSchema:
    """What a role's table must have, and the canonical type of each known column."""

    required: tuple[str, ...]
    dtypes: Mapping[str, pl.DataType] = field(default_factory=dict)


ROLES: dict[Role, RoleSchema] = {
    "companies": RoleSchema(
        required=("company_id", "name", "domain"),
        dtypes={
            "company_id": pl.String(),
            "name": pl.String(),
            "domain": pl.String(),
            "industry": pl.String(),
            "employees": pl.Int64(),
            "revenue_usd": pl.Float64(),
            "country": pl.String(),
            "founded_year": pl.Int64(),
            "funding_stage": pl.String(),
            "technologies": pl.List(pl.String()),
        },
    ),
    "jobs": RoleSchema(
        required=("company_id", "posted_date"),
        dtypes={
            "company_id": pl.String(),
            "posted_date": pl.Date(),
            "title": pl.String(),
            "department": pl.String(),
        },
    ),
    "funding": RoleSchema(
        required=("company_id", "announced_date"),
        dtypes={
            "company_id": pl.String(),
            "announced_date": pl.Date(),
            "round_type": pl.String(),
            "amount_usd": pl.Float64(),
        },
    ),
    # Any other dated signal (executive hires, intent, layoffs, headcount history): a
    # company and a date; the date column's name comes from the event table's name.
    "events": RoleSchema(required=("company_id",), dtypes={"company_id": pl.String()}),
    "crm": RoleSchema(
        required=("account_id", "name", "domain", "status"),
        dtypes={
            "account_id": pl.String(),
            "name": pl.String(),
            "domain": pl.String(),
            "status": pl.String(),
            "country": pl.String(),
        },
    ),
    "opportunities": RoleSchema(
        required=("opportunity_id", "account_id", "is_closed", "is_won"),
        dtypes={
            "opportunity_id": pl.String(),
            "account_id": pl.String(),
            "created_date": pl.Date(),
            "close_date": pl.Date(),
            "is_closed": pl.Boolean(),
            "is_won": pl.Boolean(),
            "amount": pl.Float64(),
        },
    ),
}


EVENT_DATE_COLUMNS = {"hiring": "posted_date", "funding": "announced_date"}


def event_date_column(table: str) -> str:
    """The date column of the event table named ``table``: ``date`` unless it is one of
    the two tables the tool has always known."""
    return EVENT_DATE_COLUMNS.get(table, "date")


@dataclass(frozen=True)
class Source:
    """One input table: its role, where it was read from, and the lazy, typed frame.

    ``name`` is an event table's name (``exec_hires``); other tables go by their role.
    ``checks`` holds, per column whose values can fail to parse, a (bad-value mask,
    source text) pair of expressions over ``staged``, the cleaned source values; reading
    them is a separate pass (``check_values``), so a build counts bad values beside its
    own query.
    """

    role: Role
    path: str
    files: tuple[Path, ...]
    frame: pl.LazyFrame
    name: str | None = None
    checks: Mapping[str, tuple[pl.Expr, pl.Expr]] = field(
        default_factory=dict, compare=False, repr=False
    )
    staged: pl.LazyFrame | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """What the run's summary calls this input: the event table's name, else the role."""
        return self.name or self.role

    @property
    def schema(self) -> pl.Schema:
        """The canonical schema (read from metadata only)."""
        return self.frame.collect_schema()


def resolve_files(path: str | Path) -> tuple[list[Path], str]:
    """Expand a file, directory or glob into its data files and their common format."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise DataError(f"no files match {text}")
    elif Path(text).is_dir():
        files = sorted(p for p in Path(text).iterdir() if p.suffix.lower() in FORMATS)
        if not files:
            raise DataError(
                f"directory {text} holds no data files; expected {', '.join(sorted(FORMATS))}"
            )
    elif Path(text).is_file():
        files = [Path(text)]
    else:
        raise DataError(f"input file not found: {text}")
    formats = {FORMATS.get(p.suffix.lower()) for p in files}
    if None in formats:
        bad = next(p for p in files if p.suffix.lower() not in FORMATS)
        raise DataError(
            f"cannot read {bad}: unknown file type {bad.suffix or '(none)'}; "
            f"expected one of {', '.join(sorted(FORMATS))}"
        )
    if len(formats) > 1:
        raise DataError(f"{text} mixes file types {sorted(f for f in formats if f)}; use one")
    return files, formats.pop()  # type: ignore[return-value]


SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}


def csv_separator(path: Path) -> str:
    """The delimiter of a CSV file: whichever of , ; tab | its header line uses most.

    Spreadsheets in much of Europe save "CSV" with semicolons; only the header is read,
    and a delimiter inside a quoted name does not count.
    """
    try:
        with open(path, "rb") as handle:
            header = handle.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
    except OSError:
        return ","
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(SEPARATORS, key=lambda sep: counts[sep])  # ties go to the comma, first
    return best if counts[best] else ","


def files_separator(files: list[Path]) -> str:
    """The one delimiter of several CSV files (``csv_separator``).

    Raises:
        DataError: The files use different delimiters; the message groups them.
    """
    found = {f: csv_separator(f) for f in files}
    if len(set(found.values())) > 1:
        groups = _grouped({f: SEPARATOR_NAMES[s] for f, s in found.items()})
        raise DataError(f"these CSV files do not use the same delimiter: {groups}")
    return next(iter(found.values()))


def check_same_columns(files: list[Path], fmt: str, text: str) -> None:
    """Refuse a folder or glob whose files have different columns, naming each file's."""
    if len(files) < 2 or fmt == "ndjson":
        return
    try:
        if fmt == "parquet":
            # Parquet is read by column name, so only the set of names has to agree.
            columns = {f: ", ".join(sorted(pl.read_parquet_schema(f))) for f in files}
        else:
            sep = files_separator(files)
            columns = {f: ", ".join(pl.scan_csv(f, separator=sep).collect_schema()) for f in files}
    except (pl.exceptions.PolarsError, OSError):
        return  # reading reports the unreadable file itself
    if len(set(columns.values())) > 1:
        where = f"in {text}" if Path(text).is_dir() else f"matching {text}"
        raise DataError(
            f"the files {where} do not have the same columns: {_grouped(columns, ('has', 'have'))}"
        )


def _grouped(by_file: dict[Path, str], verbs: tuple[str, str] = ("uses", "use")) -> str:
    """``a and c have X; b has Y``: files grouped by what they have, in file order."""
    groups: dict[str, list[str]] = {}
    for path, what in by_file.items():
        groups.setdefault(what, []).append(str(path))
    parts = []
    for what, names in groups.items():
        many = len(names) > 1
        shown = names if len(names) <= 3 else [*names[:2], f"{len(names) - 2} more"]
        listed = ", ".join(shown[:-1]) + " and " + shown[-1] if many else shown[0]
        parts.append(f"{listed} {verbs[1] if many else verbs[0]} {what}")
    return "; ".join(parts)
