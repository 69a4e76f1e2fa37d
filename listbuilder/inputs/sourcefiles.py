"""Source definition files: one TOML file in ``sources/`` declares one input table.

A source file says which role the table plays (companies, jobs, funding, crm,
opportunities), where the data lives (a local file, directory or glob; or a CRM's REST API,
pulled by ``listbuilder.inputs.crm_api``), how the vendor's columns map to the canonical schema and
how their values are normalised (size bands, countries, funding stages, lists, URLs).

The file is parsed once into frozen objects, every problem collected with its key path
(``columns.employees.point``) before anything is read. Opening it against the data then
checks the mapped columns exist (from the schema alone), and compiles the mapping into two
lazy selects over the scan, one cleaning the source values and one normalising them: a
ten-million-row vendor file streams and is never loaded whole. Values that cannot be
normalised become null and are counted by ``bad_value_counts``, not raised.

Relative paths in a source file resolve against the file's own directory. The returned
``Source`` lists the source file first in ``files``, then the data files, so the input
hash a build records covers the mapping as well as the data.
"""

from __future__ import annotations

import dataclasses
import difflib
import glob
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import polars as pl

from listbuilder.errors import ConfigError, DataError
from listbuilder.files import LIST_SEPARATOR
from listbuilder.inputs.parsers import (
    NORMALISERS,
    Normaliser,
    as_list,
    band_bounds,
    boolean,
    date,
    number,
)
from listbuilder.inputs.tables import ROLES, Role, Source

FORMAT_SUFFIXES: Mapping[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"),
    "csv": (".csv", ".tsv", ".txt"),
    "ndjson": (".ndjson", ".jsonl", ".json"),
}
ENCODINGS = ("utf8", "utf8-lossy")
API_KINDS = ("hubspot", "salesforce")

# "push" belongs to `listbuilder push` (listbuilder.outputs.push.settings), read there.
TOP_KEYS = (
    "role",
    "description",
    "docs",
    "input",
    "api",
    "columns",
    "extra",
    "keep_other_columns",
    "date_column",
    "push",
)
INPUT_KEYS = ("path", "format", "separator", "encoding", "trim_headers", "skip_rows")
COLUMN_KEYS = ("from", "value", "absent", "optional", "normalise", "null_values")
API_COMMON_KEYS = (
    "kind",
    "base_url",
    "token_env",
    "object",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
)
API_KIND_KEYS: Mapping[str, tuple[str, ...]] = {
    "hubspot": ("properties", "associations", "page_size"),
    "salesforce": (
        "fields",
        "where",
        "api_version",
        "client_id_env",
        "client_secret_env",
        "refresh_token_env",
    ),
}
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HUBSPOT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_SF_OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SF_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*$")
_SF_VERSION = re.compile(r"^v\d+\.\d$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class ColumnSpec:
    """How one output column is made: from which source column(s), and normalised how.

    Exactly one of ``sources`` (coalesced left to right), ``constant`` or ``absent``.
    ``optional`` sources may be missing from the data (the column is then null).
    ``dtype`` is the canonical type, or None for an ``[extra]`` column. ``bounds`` says
    whether a band adds its ``_min``/``_max`` columns, ``empty_is_null`` whether empty text
    is missing, ``clean`` whether text is cleaned at all (all three off only in a plain
    file's implied definition).
    """

    name: str
    key: str
    sources: tuple[str, ...] = ()
    constant: str | None = None
    absent: bool = False
    optional: bool = False
    normaliser: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    null_values: tuple[str, ...] = ()
    dtype: pl.DataType | None = None
    bounds: bool = True
    empty_is_null: bool = True
    clean: bool = True


@dataclass(frozen=True)
class InputSpec:
    """Where the data lives and how to read it (CSV options apply to CSV only)."""

    path: str
    format: str | None = None
    separator: str = ","
    encoding: str = "utf8"
    trim_headers: bool = False
    skip_rows: int = 0


@dataclass(frozen=True)
class ApiSpec:
    """A CRM REST API to pull from (``listbuilder.inputs.crm_api.pull``)."""

    kind: str
    base_url: str
    token_env: str
    object: str
    properties: tuple[str, ...] = ()
    associations: tuple[str, ...] = ()
    page_size: int = 100
    fields: tuple[str, ...] = ()
    where: str | None = None
    api_version: str = "v61.0"
    # The OAuth refresh-token flow's environment variables (Salesforce), for schedules.
    client_id_env: str | None = None
    client_secret_env: str | None = None
    refresh_token_env: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 6


@dataclass(frozen=True)
class SourceDef:
    """A parsed, validated source file. ``input.path`` is resolved against its directory."""

    path: Path
    role: Role
    description: str
    docs: str
    input: InputSpec | None
    api: ApiSpec | None
    columns: tuple[ColumnSpec, ...]
    extra: tuple[ColumnSpec, ...]
    keep_other_columns: bool
    date_column: str | None = None

    @property
    def source_columns(self) -> set[str]:
        """Every vendor column the mapping reads."""
        return {s for spec in (*self.columns, *self.extra) for s in spec.sources}

    @property
    def output_names(self) -> list[str]:
        """The output columns in order, band bounds included."""
        names: list[str] = []
        for spec in (*self.columns, *self.extra):
            names.append(spec.name)
            if spec.normaliser == "band" and spec.bounds:
                names += [f"{spec.name}_min", f"{spec.name}_max"]
        return names


@dataclass(frozen=True)
class BadValues:
    """Values of one column that could not be normalised: how many, and a few of them."""

    count: int
    examples: tuple[str, ...] = ()


# --- parsing ------------------------------------------------------------------------------


class _Problems:
    """Collects every problem with its key path, so a user fixes a file in one pass."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{key}: {message}" if key else message)

    def unknown(self, table: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                also = f" (did you mean `{hint[0]}`?)" if hint else ""
                at = f"{where}.{key}" if where else key
                self.add(at, f"unknown key `{key}`{also}; valid keys are {sorted(allowed)}")

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(key, f"expected a table, got {type(value).__name__}")
            return {}
        return value

    def string(self, value: Any, key: str, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.add(key, "required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(key, f"expected a non-empty string, got {value!r}")
            return None
        return value

    def strings(
        self, value: Any, key: str, pattern: re.Pattern[str] | None = None
    ) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add(key, f"expected a list of non-empty strings, got {value!r}")
            return ()
        if pattern is not None:
            for v in value:
                if not pattern.match(v):
                    self.add(key, f"invalid name {v!r}")
        return tuple(value)

    def number(self, value: Any, key: str, default: float, lo: float, hi: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo < value <= hi:
            self.add(key, f"expected a number of seconds above {lo:g} and at most {hi:g}")
            return default
        return float(value)

    def integer(self, value: Any, key: str, default: int, lo: int, hi: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.add(key, f"expected an integer from {lo} to {hi}, got {value!r}")
            return default
        return value

    def boolean(self, value: Any, key: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(key, f"expected true or false, got {value!r}")
            return default
        return value


def load_source_def(path: str | Path) -> SourceDef:
    """Read and validate a source file, reporting every problem with its key.

    Raises:
        ConfigError: The file is missing, malformed, or has unknown keys or bad values.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"source file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"source file {path} is a directory") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid source file {path}: malformed TOML: {exc}") from None
    return parse_source_def(data, path)


def parse_source_def(data: Mapping[str, Any], path: str | Path = "<source>") -> SourceDef:
    """Validate a source file's parsed TOML; ``path`` locates relative paths and errors.

    Raises:
        ConfigError: Every problem found, one per line, each with its key path.
    """
    path = Path(path)
    problems = _Problems()
    problems.unknown(data, "", TOP_KEYS)

    role = _parse_role(data, problems)
    description = problems.string(data.get("description"), "description") or ""
    docs = problems.string(data.get("docs"), "docs") or ""

    api = _parse_api(problems.table(data.get("api"), "api"), "api" in data, problems)
    input_spec = _parse_input(
        problems.table(data.get("input"), "input"), "input" in data, api is not None, problems
    )
    if "input" not in data and "api" not in data:
        problems.add("input", "required: say where the data is ([input] path = ...)")

    columns, extra = _parse_columns(data, role, problems)
    keep = problems.boolean(data.get("keep_other_columns"), "keep_other_columns", False)
    date_column = problems.string(data.get("date_column"), "date_column")
    if date_column is not None and role is not None and role != "events":
        problems.add("date_column", f"only an events source names its date column, not {role}")

    _check_band_outputs((*columns, *extra), problems)

    if problems.items:
        lines = "\n".join(f"  - {p}" for p in problems.items)
        raise ConfigError(f"invalid source file {path}:\n{lines}")
    return SourceDef(
        path=path,
        role=cast(Role, role),
        description=description,
        docs=docs,
        input=input_spec,
        api=api,
        columns=columns,
        extra=extra,
        keep_other_columns=keep,
        date_column=date_column,
    )


def _parse_role(data: Mapping[str, Any], problems: _Problems) -> str | None:
    """The source's role, or None (with a problem noted) when missing or unknown."""
    role = data.get("role")
    if role is None:
        problems.add("role", f"required; valid roles are {sorted(ROLES)}")
    elif role not in ROLES:
        hint = difflib.get_close_matches(str(role), list(ROLES), n=1)
        also = f" (did you mean `{hint[0]}`?)" if hint else ""
        problems.add("role", f"unknown role {role!r}{also}; valid roles are {sorted(ROLES)}")
        role = None
    return role


def _parse_columns(
    data: Mapping[str, Any], role: str | None, problems: _Problems
) -> tuple[tuple[ColumnSpec, ...], tuple[ColumnSpec, ...]]:
    """The ``[columns]`` (canonical) and ``[extra]`` specs; none without a valid role."""
    columns: tuple[ColumnSpec, ...] = ()
    extra: tuple[ColumnSpec, ...] = ()
    if "columns" not in data:
        problems.add("columns", "required: map the canonical columns to the vendor's")
    if role is not None:
        dtypes = ROLES[role].dtypes
        raw_columns = problems.table(data.get("columns"), "columns")
        problems.unknown(raw_columns, "columns", list(dtypes))
        columns = tuple(
            spec
            for name, value in raw_columns.items()
            if name in dtypes
            and (spec := _parse_column(name, value, f"columns.{name}", dtypes[name], problems))
        )
        for name in ROLES[role].required:
            if name not in raw_columns and "columns" in data:
                problems.add(
                    f"columns.{name}",
                    f"required for role {role}: map it to a source column, "
                    "or write { absent = true } if the vendor has none",
                )
        raw_extra = problems.table(data.get("extra"), "extra")
        extras = []
        for name, value in raw_extra.items():
            if name in dtypes:
                problems.add(
                    f"extra.{name}", f"`{name}` is canonical for {role}: map it in [columns]"
                )
            elif (spec := _parse_column(name, value, f"extra.{name}", None, problems)) is not None:
                extras.append(spec)
        extra = tuple(extras)
    return columns, extra


def _check_band_outputs(specs: tuple[ColumnSpec, ...], problems: _Problems) -> None:
    """Note each band whose ``_min``/``_max`` outputs clash with another output column."""
    seen: set[str] = set()
    for spec in specs:
        derived = [f"{spec.name}_min", f"{spec.name}_max"] if spec.normaliser == "band" else []
        for name in derived:
            if name in seen or any(s.name == name for s in specs):
                problems.add(spec.key, f"the band adds `{name}`, which is already an output column")
        seen.update([spec.name, *derived])


def _parse_input(
    table: dict[str, Any], given: bool, has_api: bool, problems: _Problems
) -> InputSpec | None:
    if not given:
        return None
    problems.unknown(table, "input", INPUT_KEYS)
    path = problems.string(table.get("path"), "input.path", required=True)
    if path is not None and _SCHEME.match(path):
        problems.add(
            "input.path",
            f"expected a local file, directory or glob, got the URL {path!r}: download it "
            "first (only [api] base_url is fetched over http(s))",
        )
    fmt = table.get("format")
    if fmt is not None and fmt not in FORMAT_SUFFIXES:
        problems.add(
            "input.format", f"invalid value {fmt!r}; valid values are {list(FORMAT_SUFFIXES)}"
        )
        fmt = None
    separator = table.get("separator", ",")
    if not isinstance(separator, str) or len(separator.encode()) != 1:
        problems.add("input.separator", f"expected a single one-byte character, got {separator!r}")
        separator = ","
    encoding = table.get("encoding", "utf8")
    if encoding not in ENCODINGS:
        problems.add(
            "input.encoding", f"invalid value {encoding!r}; valid values are {list(ENCODINGS)}"
        )
        encoding = "utf8"
    trim = problems.boolean(table.get("trim_headers"), "input.trim_headers", False)
    skip = problems.integer(table.get("skip_rows"), "input.skip_rows", 0, 0, 1_000_000)
    if (
        has_api
        and path is not None
        and (fmt not in (None, "parquet") or not path.endswith(".parquet"))
    ):
        problems.add("input.path", "an API source's snapshot is one .parquet file (pull writes it)")
    if path is None:
        return None
    return InputSpec(path, fmt, separator, encoding, trim, skip)


def _parse_api(table: dict[str, Any], given: bool, problems: _Problems) -> ApiSpec | None:
    if not given:
        return None
    kind = table.get("kind")
    if kind not in API_KINDS:
        problems.add("api.kind", f"expected one of {list(API_KINDS)}, got {kind!r}")
        problems.unknown(
            table, "api", [*API_COMMON_KEYS, *(k for v in API_KIND_KEYS.values() for k in v)]
        )
        return None
    problems.unknown(table, "api", [*API_COMMON_KEYS, *API_KIND_KEYS[kind]])
    base_url = problems.string(table.get("base_url"), "api.base_url", required=True) or ""
    if base_url:
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        if parts.username or parts.password:
            # A credential written into the URL would end up in snapshots' metadata and
            # in error messages; the value is not repeated here for the same reason.
            problems.add(
                "api.base_url",
                "expected no user name or password in the URL (the token comes from "
                "`token_env`); the value is not shown",
            )
        elif parts.scheme not in ("http", "https") or not host:
            problems.add("api.base_url", f"expected an https:// URL, got {base_url!r}")
        elif parts.scheme == "http" and host not in LOOPBACK_HOSTS and not host.startswith("127."):
            # The token travels in a header: never in clear text beyond this machine.
            problems.add(
                "api.base_url", f"expected https:// (http only on loopback), got {base_url!r}"
            )
        elif parts.query or parts.fragment:
            problems.add("api.base_url", f"expected no query or fragment, got {base_url!r}")
    token_env = problems.string(table.get("token_env"), "api.token_env", required=True) or ""
    if token_env and not _ENV_NAME.match(token_env):
        problems.add("api.token_env", f"expected an environment variable name, got {token_env!r}")
    obj = problems.string(table.get("object"), "api.object", required=True) or ""
    pattern = _HUBSPOT_NAME if kind == "hubspot" else _SF_OBJECT
    if obj and not pattern.match(obj):
        problems.add("api.object", f"invalid object name {obj!r}")
    spec = ApiSpec(
        kind=kind,
        base_url=base_url.rstrip("/"),
        token_env=token_env,
        object=obj,
        connect_timeout=problems.number(
            table.get("connect_timeout"), "api.connect_timeout", 10.0, 0, 600
        ),
        read_timeout=problems.number(table.get("read_timeout"), "api.read_timeout", 60.0, 0, 600),
        max_attempts=problems.integer(table.get("max_attempts"), "api.max_attempts", 6, 1, 20),
    )
    if kind == "hubspot":
        props = problems.strings(table.get("properties"), "api.properties", _HUBSPOT_NAME)
        if not props:
            problems.add(
                "api.properties", 'required: the properties to read, e.g. ["name", "domain"]'
            )
        assoc = problems.strings(table.get("associations"), "api.associations", _HUBSPOT_NAME)
        size = problems.integer(table.get("page_size"), "api.page_size", 100, 1, 100)
        return dataclasses.replace(spec, properties=props, associations=assoc, page_size=size)
    fields = problems.strings(table.get("fields"), "api.fields", _SF_FIELD)
    if not fields:
        problems.add("api.fields", 'required: the fields to select, e.g. ["Id", "Name"]')
    elif "id" not in {f.lower() for f in fields}:
        problems.add("api.fields", "must include Id, the record key")
    where = problems.string(table.get("where"), "api.where")
    version = table.get("api_version", "v61.0")
    if not isinstance(version, str) or not _SF_VERSION.match(version):
        problems.add("api.api_version", f'expected a version such as "v61.0", got {version!r}')
        version = "v61.0"
    oauth = {
        key: problems.string(table.get(key), f"api.{key}")
        for key in ("client_id_env", "client_secret_env", "refresh_token_env")
    }
    given = [k for k, v in oauth.items() if v]
    if given and len(given) < 3:
        missing = sorted(set(oauth) - set(given))
        problems.add(f"api.{missing[0]}", "the refresh-token flow needs all three *_env keys")
    return dataclasses.replace(spec, fields=fields, where=where, api_version=version, **oauth)


def _parse_column(
    name: str, value: Any, key: str, dtype: pl.DataType | None, problems: _Problems
) -> ColumnSpec | None:
    if isinstance(value, str):
        if not value:
            problems.add(key, "expected a source column name, got an empty string")
            return None
        return ColumnSpec(name, key, sources=(value,), dtype=dtype)
    if not isinstance(value, dict):
        problems.add(key, f"expected a source column name or a table, got {value!r}")
        return None
    normaliser = _column_normaliser(value, key, problems)

    origin = _column_origin(value, key, problems)
    if origin is None:
        return None
    sources, constant, absent = origin

    nulls = problems.strings(value.get("null_values"), f"{key}.null_values")
    optional = problems.boolean(value.get("optional"), f"{key}.optional", False)
    if optional and not sources:
        problems.add(f"{key}.optional", "only a column read `from` the data can be optional")
    options = _normaliser_options(name, value, key, normaliser, dtype, problems)
    return ColumnSpec(
        name,
        key,
        sources=sources,
        constant=constant,
        absent=absent,
        optional=optional,
        normaliser=normaliser.name if normaliser else None,
        options=options,
        null_values=nulls,
        dtype=dtype,
    )


def _column_normaliser(value: dict[str, Any], key: str, problems: _Problems) -> Normaliser | None:
    """The column's ``normalise`` (None if not given or unknown); notes unknown keys."""
    norm_name = value.get("normalise")
    normaliser: Normaliser | None = None
    if norm_name is not None:
        if norm_name not in NORMALISERS:
            hint = difflib.get_close_matches(str(norm_name), list(NORMALISERS), n=1)
            also = f" (did you mean `{hint[0]}`?)" if hint else ""
            problems.add(
                f"{key}.normalise",
                f"unknown normaliser {norm_name!r}{also}; valid values are {sorted(NORMALISERS)}",
            )
        else:
            normaliser = NORMALISERS[norm_name]
    allowed = [*COLUMN_KEYS, *(normaliser.options if normaliser else ())]
    if norm_name is None or normaliser is not None:
        problems.unknown(value, key, allowed)
    return normaliser


def _column_origin(
    value: dict[str, Any], key: str, problems: _Problems
) -> tuple[tuple[str, ...], str | None, bool] | None:
    """Where the column's values come from: (sources, constant, absent), or None if invalid."""
    given = [k for k in ("from", "value", "absent") if k in value]
    if len(given) != 1:
        problems.add(key, "give exactly one of `from` (source column), `value` or `absent = true`")
        return None
    sources: tuple[str, ...] = ()
    constant: str | None = None
    absent = False
    if "from" in value:
        raw = value["from"]
        raw_list = [raw] if isinstance(raw, str) else raw
        if (
            not isinstance(raw_list, list)
            or not raw_list
            or not all(isinstance(s, str) and s for s in raw_list)
        ):
            problems.add(f"{key}.from", "expected a source column name or a list of them")
            return None
        sources = tuple(raw_list)
    elif "value" in value:
        raw = value["value"]
        if isinstance(raw, bool):
            constant = "true" if raw else "false"
        elif isinstance(raw, str | int | float):
            constant = str(raw)
        else:
            problems.add(f"{key}.value", f"expected a string, number or boolean, got {raw!r}")
            return None
    else:
        if value["absent"] is not True:
            problems.add(f"{key}.absent", "expected true (leave the key out otherwise)")
            return None
        if len(value) > 1:
            problems.add(key, "an absent column takes no other keys")
            return None
        absent = True
    return sources, constant, absent


def _normaliser_options(
    name: str,
    value: dict[str, Any],
    key: str,
    normaliser: Normaliser | None,
    dtype: pl.DataType | None,
    problems: _Problems,
) -> dict[str, Any]:
    """The normaliser's valid options; notes invalid or missing ones and a type clash."""
    options: dict[str, Any] = {}
    if normaliser is None:
        return options
    for opt_name, option in normaliser.options.items():
        if opt_name in value:
            issue = option.check(value[opt_name])
            if issue:
                problems.add(f"{key}.{opt_name}", issue)
            else:
                options[opt_name] = value[opt_name]
        elif option.required:
            problems.add(f"{key}.{opt_name}", f"required by normalise = {normaliser.name!r}")
    target = dtype if dtype is not None else normaliser.dtype
    try:
        _coerce(pl.lit(None), normaliser.dtype, target)
    except ValueError as exc:
        problems.add(f"{key}.normalise", str(exc).format(column=name))
    return options


# --- reading and compiling ----------------------------------------------------------------


def read_source_file(path: str | Path, role: Role) -> Source:
    """``sources.read_source`` for a ``.toml`` path: open the definition as ``role``."""
    return open_source(path, role)


def open_source(
    source: str | Path | SourceDef, role: Role | None = None, *, data: str | Path | None = None
) -> Source:
    """Open a source file's data as a lazy frame in the canonical schema.

    Args:
        source: A source file path, or an already parsed definition.
        role: The role the caller needs; the file must declare the same.
        data: Read this file, directory or glob instead of the file's ``input.path`` (for
            a test fixture, or another month's snapshot of an API source).

    Raises:
        ConfigError: The definition is invalid, declares another role, or maps a column
            the data lacks.
        DataError: The data is missing or unreadable.
    """
    defn = source if isinstance(source, SourceDef) else load_source_def(source)
    if role is not None and defn.role != role:
        raise ConfigError(
            f"source file {defn.path} declares role = {defn.role!r}, but it was given as the "
            f"{role} input; use a source file with role = {role!r}"
        )
    files, fmt = _data_files(defn, data)
    staged, frame, checks = _compile(defn, files, fmt)
    return Source(
        defn.role, str(defn.path), (defn.path, *files), frame, checks=checks, staged=staged
    )


def bad_value_counts(source: Source) -> dict[str, int]:
    """How many values in each normalised column could not be normalised (lazily, one pass).

    A bad value is a non-empty source value that the column's normaliser or type could not
    read (a band like ``lots``, a country like ``Narnia``, a date like ``soon``): it becomes
    null in the frame and is counted here. A plain file is read through an implied
    definition (``listbuilder.inputs.plainfiles``), so its values are counted the same way.
    """
    return {name: bad.count for name, bad in check_values(source, examples=0).items()}


def check_values(source: Source, examples: int = 3) -> dict[str, BadValues]:
    """Like ``bad_value_counts``, with up to ``examples`` distinct bad values per column."""
    checks, scan = source.checks, source.staged
    if not checks or scan is None:
        return {}
    exprs = []
    for name, (bad, text) in checks.items():
        exprs.append(bad.sum().alias(f"{name}\x00n"))
        if examples:
            exprs.append(text.filter(bad).head(examples * 20).implode().alias(f"{name}\x00x"))
    try:
        row = scan.select(exprs).collect(engine="streaming").row(0, named=True)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(
            f"cannot read {source.role} data {source.path}: {_first_line(exc)}"
        ) from None
    out: dict[str, BadValues] = {}
    for name in checks:
        seen = list(dict.fromkeys(v for v in (row.get(f"{name}\x00x") or []) if v is not None))
        out[name] = BadValues(int(row[f"{name}\x00n"] or 0), tuple(seen[:examples]))
    return out


def _data_files(defn: SourceDef, data: str | Path | None) -> tuple[list[Path], str]:
    if data is not None:
        text, where = str(data), "the data path"
    elif defn.input is not None:
        text = os.path.normpath(defn.path.parent / defn.input.path)
        where = f"input.path in {defn.path}"
    else:
        raise ConfigError(
            f"source file {defn.path} has no [input] path to read: pull the API into a "
            f"snapshot (listbuilder pull --source {defn.path} --out PATH) and set "
            "[input] path to it"
        )
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise DataError(f"no files match {text} ({where})")
    elif Path(text).is_dir():
        declared = defn.input.format if defn.input else None
        suffixes = (
            FORMAT_SUFFIXES[declared]
            if declared
            else tuple(s for v in FORMAT_SUFFIXES.values() for s in v)
        )
        files = sorted(
            p for p in Path(text).iterdir() if p.is_file() and p.suffix.lower() in suffixes
        )
        if not files:
            raise DataError(f"directory {text} holds no data files ({where})")
    elif Path(text).is_file():
        files = [Path(text)]
    else:
        raise DataError(f"input file not found: {text} ({where})")
    return files, _format_of(files, defn)


def _format_of(files: list[Path], defn: SourceDef) -> str:
    if defn.input is not None and defn.input.format:
        return defn.input.format
    by_suffix = {s: fmt for fmt, suffixes in FORMAT_SUFFIXES.items() for s in suffixes}
    formats = {by_suffix.get(p.suffix.lower()) for p in files}
    if None in formats:
        bad = next(p for p in files if p.suffix.lower() not in by_suffix)
        raise DataError(
            f"cannot tell the format of {bad}: set [input] format in {defn.path} to one of "
            f"{list(FORMAT_SUFFIXES)}"
        )
    if len(formats) > 1:
        raise DataError(f"the data for {defn.path} mixes formats {sorted(f for f in formats if f)}")
    return cast(str, formats.pop())


def _scan(defn: SourceDef, files: list[Path], fmt: str) -> pl.LazyFrame:
    inp = defn.input or InputSpec(path="")
    try:
        if fmt == "parquet":
            return pl.scan_parquet(files)
        if fmt == "csv":
            # Every CSV column is read as text: types come from the mapping, so a stray
            # "n/a" on row nine million is a bad value to count, not a crash mid-stream.
            return pl.scan_csv(
                files,
                infer_schema=False,
                separator=inp.separator,
                encoding=cast(Any, inp.encoding),
                skip_rows=inp.skip_rows,
                with_column_names=(lambda cols: [c.strip() for c in cols])
                if inp.trim_headers
                else None,
            )
        inferred = pl.scan_ndjson(files, infer_schema_length=10_000).collect_schema()
        # The same for JSON: a field that is a number in the first rows and text later
        # must not fail the scan, so plain fields are read as text.
        overrides = {
            c: pl.String for c, dt in inferred.items() if not isinstance(dt, pl.List | pl.Struct)
        }
        return pl.scan_ndjson(files, schema_overrides=overrides, infer_schema_length=10_000)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(
            f"cannot read {defn.role} data for {defn.path}: {_first_line(exc)}"
        ) from None


def _compile(
    defn: SourceDef, files: list[Path], fmt: str
) -> tuple[pl.LazyFrame, pl.LazyFrame, dict[str, tuple[pl.Expr, pl.Expr]]]:
    """``compile_mapping`` over the definition's own scan of ``files``."""
    scan = _scan(defn, files, fmt)
    try:
        schema = scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(
            f"cannot read {defn.role} data for {defn.path}: {_first_line(exc)}"
        ) from None
    data_name = files[0] if len(files) == 1 else f"{files[0].parent} ({len(files)} files)"
    return compile_mapping(defn, scan, schema, str(data_name), f"source file {defn.path}")


def compile_mapping(
    defn: SourceDef, scan: pl.LazyFrame, schema: pl.Schema, data_name: str, subject: str
) -> tuple[pl.LazyFrame, pl.LazyFrame, dict[str, tuple[pl.Expr, pl.Expr]]]:
    """The cleaned source values over ``scan``, the canonical frame over those, and per
    fallible column its (bad-value mask, source text) over the cleaned values.

    ``subject`` names what the mapping comes from in errors (``source file x.toml``).

    Raises:
        ConfigError: A mapped column is not in ``schema``, or cannot be converted.
    """
    problems = _Problems()
    specs = [_present(spec, schema) for spec in (*defn.columns, *defn.extra)]
    for spec in specs:
        for src in spec.sources:
            if src not in schema:
                hint = difflib.get_close_matches(src, list(schema), n=1, cutoff=0.6)
                also = f" (did you mean `{hint[0]}`?)" if hint else ""
                problems.add(f"{spec.key}", f"column `{src}` is not in {data_name}{also}")
    if problems.items:
        lines = "\n".join(f"  - {p}" for p in problems.items)
        raise ConfigError(
            f"{subject} does not fit its data:\n{lines}\n"
            f"  the data has: {', '.join(schema) or '(no columns)'}"
        )
    # Two stages: the first reads and cleans each source value once into a temporary
    # column; the second normalises from those. Polars does not share a sub-expression
    # used several times within one expression, so building the outputs straight over the
    # scan would clean (and parse) the same text once per use.
    stage: list[pl.Expr] = []
    exprs: list[pl.Expr] = []
    checks: dict[str, tuple[pl.Expr, pl.Expr]] = {}
    for i, spec in enumerate(specs):
        if spec.absent:
            exprs.append(pl.lit(None, spec.dtype or pl.String()).alias(spec.name))
            continue
        temp = f"\x00{i}"
        try:
            raw, raw_dtype = _raw(spec, schema)
            outputs, check = _column(spec, pl.col(temp), raw_dtype)
        except ValueError as exc:
            problems.add(spec.key, str(exc).format(column=spec.name))
            continue
        stage.append(raw.alias(temp))
        exprs += outputs
        if check is not None:
            checks[spec.name] = check
    if problems.items:
        lines = "\n".join(f"  - {p}" for p in problems.items)
        raise ConfigError(f"{subject} does not fit its data:\n{lines}")
    if defn.keep_other_columns:
        taken = set(defn.output_names)
        kept = [c for c in schema if c not in taken]
        stage += [pl.col(c) for c in kept]
        exprs += [pl.col(c) for c in kept]
    staged = scan.select(stage)
    return staged, staged.select(exprs), checks


def _present(spec: ColumnSpec, schema: pl.Schema) -> ColumnSpec:
    """An optional spec reduced to the source columns the data has (absent if none)."""
    if not spec.optional:
        return spec
    have = tuple(s for s in spec.sources if s in schema)
    if have:
        return dataclasses.replace(spec, sources=have)
    return dataclasses.replace(spec, sources=(), absent=True)


def _clean(expr: pl.Expr, null_values: tuple[str, ...], empty_is_null: bool = True) -> pl.Expr:
    """Text, stripped; empty (unless not ``empty_is_null``) and the column's
    ``null_values`` (any case) become null."""
    if not null_values and empty_is_null:
        return expr.cast(pl.String).map_batches(
            _clean_batch, return_dtype=pl.String(), is_elementwise=True
        )
    return _cleaned(expr, null_values, empty_is_null)


def _clean_batch(values: pl.Series) -> pl.Series:
    """``_clean`` for one batch: a batch with no padded or empty value (most of a clean
    file) is returned as it is, without copying every string to strip it."""
    padded = values.str.contains(r"^\s|\s$") | (values.str.len_bytes() == 0)
    if not padded.any():
        return values
    return values.to_frame("v").select(_cleaned(pl.col("v"), (), True)).to_series()


def _cleaned(expr: pl.Expr, null_values: tuple[str, ...], empty_is_null: bool) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    empty = text.str.len_chars() == 0 if empty_is_null else pl.lit(False)
    if null_values:
        empty = empty | text.str.to_lowercase().is_in([v.strip().lower() for v in null_values])
    return pl.when(empty).then(None).otherwise(text)


def _column(
    spec: ColumnSpec, raw: pl.Expr, raw_dtype: pl.DataType
) -> tuple[list[pl.Expr], tuple[pl.Expr, pl.Expr] | None]:
    """One spec's output column(s) from its cleaned source value ``raw``, and, when values
    can fail to convert, its (bad-value mask, source text) pair."""
    target = spec.dtype
    if spec.normaliser is None and target is not None and raw_dtype == target:
        # Already canonical (a parquet file in our schema): pass through untouched.
        return [raw.alias(spec.name)], None
    normaliser = NORMALISERS.get(spec.normaliser or "")
    have = raw_dtype
    fallible = False
    outputs: list[pl.Expr] = []
    if normaliser is not None:
        options = normaliser.defaults(spec.options)
        is_list = isinstance(raw_dtype, pl.List)
        if normaliser.takes_list:
            value = raw if is_list else as_list(raw, options.get("separator") or ",")
        elif is_list:
            raise ValueError(
                f"`{', '.join(spec.sources)}` holds lists; "
                f"normalise = {normaliser.name!r} needs text"
            )
        else:
            value = raw
        out = normaliser.func(value, options)
        have, fallible = normaliser.dtype, normaliser.fallible
        if normaliser.name == "band" and spec.bounds:
            lower, upper = band_bounds(value)
            outputs += [lower.alias(f"{spec.name}_min"), upper.alias(f"{spec.name}_max")]
    else:
        out = raw
    out, coerce_fallible = _coerce(out, have, target if target is not None else have)
    outputs.insert(0, out.alias(spec.name))
    if not (fallible or coerce_fallible):
        return outputs, None
    if isinstance(raw_dtype, pl.List):
        text = raw.cast(pl.List(pl.String)).list.join(LIST_SEPARATOR)
    else:
        text = raw.cast(pl.String)
    return outputs, (raw.is_not_null() & out.is_null(), text)


def _raw(spec: ColumnSpec, schema: pl.Schema) -> tuple[pl.Expr, pl.DataType]:
    """The source value: one column, the first non-null of several, or a constant."""
    if spec.constant is not None:
        return _clean(pl.lit(spec.constant, pl.String), spec.null_values), pl.String()
    dtypes = [schema[s] for s in spec.sources]
    for src, dtype in zip(spec.sources, dtypes, strict=True):
        if isinstance(dtype, pl.Struct | pl.Array | pl.Object):
            raise ValueError(f"`{src}` holds nested records ({dtype}); map plain columns only")
    if len(spec.sources) == 1:
        (src,), (dtype,) = spec.sources, dtypes
        if isinstance(dtype, pl.List):
            return pl.col(src), dtype
        # A typed column that needs no conversion keeps its type (parquet in our schema,
        # or an [extra] column passed through).
        as_is = spec.normaliser is None and spec.dtype in (None, dtype)
        if (dtype != pl.String or not spec.clean) and as_is and not spec.null_values:
            return pl.col(src), dtype
        return _clean(pl.col(src), spec.null_values, spec.empty_is_null), pl.String()
    parts = [
        _clean(
            pl.col(s).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR)
            if isinstance(dt, pl.List)
            else pl.col(s),
            spec.null_values,
        )
        for s, dt in zip(spec.sources, dtypes, strict=True)
    ]
    return pl.coalesce(parts), pl.String()


def _coerce(expr: pl.Expr, have: pl.DataType, want: pl.DataType) -> tuple[pl.Expr, bool]:
    """Convert ``expr`` from ``have`` to ``want``; the flag says whether values can fail.

    Raises:
        ValueError: The conversion makes no sense (a list into a number); the message has
            a ``{column}`` placeholder.
    """
    if have == want:
        return expr, False
    if isinstance(have, pl.List) and not isinstance(want, pl.List):
        raise ValueError(f"this gives a list, but `{{column}}` is {_describe(want)}")
    if want == pl.String:
        return expr.cast(pl.String), False
    if isinstance(want, pl.List):
        if isinstance(have, pl.List):
            return expr.cast(want, strict=False), False
        if have != pl.String:
            raise ValueError(f"this gives {_describe(have)}, but `{{column}}` is a list")
        return as_list(expr, LIST_SEPARATOR).list.eval(pl.element().str.strip_chars()).list.eval(
            pl.element().filter(pl.element().str.len_chars() > 0)
        ), False
    if have == pl.String:
        if want == pl.Int64:
            text = expr.str.replace_all(r"[,\s_]", "")
            as_float = text.cast(pl.Float64, strict=False)
            integral = pl.when(as_float == as_float.floor()).then(
                as_float.cast(pl.Int64, strict=False)
            )
            return pl.coalesce(text.cast(pl.Int64, strict=False), integral), True
        if want == pl.Float64:
            return number(expr, {}), True
        if want == pl.Date:
            return date(expr, {}), True
        if want == pl.Boolean:
            return boolean(expr, {}), True
        return expr.cast(want, strict=False), True
    if want == pl.Int64 and have.is_float():
        return expr.round(0).cast(pl.Int64, strict=False), False
    if want.is_numeric() and have.is_numeric():
        return expr.cast(want, strict=False), False
    if want == pl.Date and isinstance(have, pl.Datetime):
        return expr.dt.date(), False
    if have == pl.Boolean or want == pl.Boolean:
        raise ValueError(f"this gives {_describe(have)}, but `{{column}}` is {_describe(want)}")
    return expr.cast(want, strict=False), True


def _describe(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return "a list"
    if dtype == pl.String:
        return "text"
    if dtype.is_integer():
        return "an integer"
    if dtype.is_float():
        return "a number"
    if dtype == pl.Boolean:
        return "a boolean"
    if dtype == pl.Date:
        return "a date"
    return str(dtype)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
