"""Event tables by name: dated signals such as job postings, funding rounds, executive
hires, intent research or monthly headcount, each read through its source file or as a
plain file, with its date column as a ``Date``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from listbuilder.errors import ConfigError, DataError
from listbuilder.inputs.plainfiles import read_plain
from listbuilder.inputs.sourcefiles import load_source_def, open_source
from listbuilder.inputs.tables import Role, Source, event_date_column

_EVENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_EVENT_NAMES = {"companies", "crm", "rules", "confirmed", "opportunities", "jobs", "events"}


def read_events(path: str | Path, name: str) -> Source:
    """Open ``path`` as the event table called ``name``, its date column as a ``Date``.

    ``hiring`` reads as the jobs table (date ``posted_date``) and ``funding`` as the
    funding table (``announced_date``); any other name needs ``company_id`` and ``date``,
    or a source file with ``role = "events"`` whose ``date_column`` names the date.

    Raises:
        ConfigError: A bad table name, or a source file of another role.
        DataError: The data is unreadable, or has no company id or date column.
    """
    if not _EVENT_NAME.match(name) or name in _NOT_EVENT_NAMES:
        raise ConfigError(
            f"event table name {name!r}: use letters, digits and `_`, and none of "
            f"{sorted(_NOT_EVENT_NAMES)}"
        )
    roles: dict[str, Role] = {"hiring": "jobs", "funding": "funding"}
    role = roles.get(name, "events")
    target = event_date_column(name)
    given = target
    if str(path).endswith(".toml"):
        defn = load_source_def(path)
        if defn.role not in (role, "events"):
            raise ConfigError(
                f"source file {defn.path} declares role = {defn.role!r}, but it was given as "
                f'the event table {name}; use a source file with role = "events"'
            )
        given = defn.date_column or target
        source = open_source(defn)
    else:
        source = read_plain(path, role)
    schema = source.schema
    if given not in schema:
        where = "its source file's date_column" if given != target else f"column `{target}`"
        raise DataError(
            f"event table {name} ({source.path}) has no date column: expected {where}, "
            f"the date of each event; it has: {', '.join(schema)}"
        )
    frame = source.frame
    if given != target:
        if target in schema:
            raise DataError(
                f"event table {name} ({source.path}) has both `{given}` (its date_column) "
                f"and `{target}`; rename one"
            )
        frame = frame.rename({given: target})
    have = schema[given]
    if have == pl.String:
        frame = frame.with_columns(pl.col(target).str.to_date("%Y-%m-%d", strict=True))
    elif isinstance(have, pl.Datetime):
        frame = frame.with_columns(pl.col(target).dt.date())
    elif have != pl.Date:
        raise DataError(
            f"event table {name} ({source.path}): date column `{given}` holds {have}, "
            "expected dates"
        )
    return dataclasses.replace(source, frame=frame, name=input_key(name))


def input_key(table: str) -> str:
    """The name an event table goes by among a run's inputs: ``jobs`` for ``hiring``."""
    return {"hiring": "jobs"}.get(table, table)


def read_event_tables(
    jobs_path: str | Path | None,
    funding_path: str | Path | None,
    events_paths: Mapping[str, str | Path] | None,
) -> dict[str, Source]:
    """Every event table by name; ``--jobs`` is ``hiring`` and ``--funding`` ``funding``.

    Raises:
        ConfigError: A table is given twice.
    """
    paths: dict[str, str | Path] = {}
    for name, path in (("hiring", jobs_path), ("funding", funding_path)):
        if path:
            paths[name] = path
    for name, path in (events_paths or {}).items():
        if name in paths:
            flag = "--jobs" if name == "hiring" else "--funding"
            raise ConfigError(f"event table {name} given twice: by {flag} and by --events")
        paths[name] = path
    return {name: read_events(path, name) for name, path in paths.items()}
