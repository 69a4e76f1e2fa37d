"""The project file, ``listbuilder.toml``: everything a monthly run needs, in one place.

With it, ``listbuilder build`` alone does the month's run: it knows the inputs, the rules,
which date the run is as of, where the run directory goes, where last month's run is and
which exports to write. Command-line options override it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import json
import os
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listbuilder.engines import ENGINES
from listbuilder.errors import ConfigError, DataError
from listbuilder.progress import QUIET, Progress

PROJECT_FILE = "listbuilder.toml"
AS_OF_RULES = ("today", "first-of-month", "first-of-quarter")
INPUT_KEYS = ("companies", "jobs", "funding", "crm", "rules", "confirmed")
# Signal windows and tier history reach years back and forth from the run date; dates at
# the calendar's ends would overflow that arithmetic, and no list is built as of them.
AS_OF_RANGE = (dt.date(1900, 1, 1), dt.date(9000, 12, 31))


def as_of_problem(as_of: dt.date) -> str | None:
    """Why ``as_of`` cannot be a run date, or None when it can."""
    low, high = AS_OF_RANGE
    if low <= as_of <= high:
        return None
    return f"{as_of.isoformat()} is outside the dates a run can be as of ({low} to {high})"


@dataclass(frozen=True)
class Project:
    """A parsed project file; every path is resolved against the file's directory."""

    path: Path
    inputs: dict[str, Path] = field(default_factory=dict)
    events: dict[str, Path] = field(default_factory=dict)
    as_of: str | dt.date = "today"
    out: str = "out/{as_of:%Y-%m}"
    previous: str = "auto"
    exports: tuple[str, ...] = ()
    export_tiers: tuple[str, ...] | None = None
    engine: str | None = None
    spark_master: str | None = None

    def resolve_as_of(self, today: dt.date) -> dt.date:
        """The run date the project's ``as_of`` rule gives for ``today``."""
        return resolve_as_of(self.as_of, today)

    def out_dir(self, as_of: dt.date) -> Path:
        """The run directory for a run as of ``as_of``."""
        return self.path.parent / self.out.format(as_of=as_of)

    def find_previous(self, as_of: dt.date) -> Path | None:
        """The latest run directory matching the output pattern dated before ``as_of``."""
        if self.previous == "none":
            return None
        if self.previous != "auto":
            return self.path.parent / self.previous
        return find_previous_run(str(self.path.parent / self.out), as_of)


def resolve_as_of(rule: str | dt.date, today: dt.date) -> dt.date:
    """Turn an as-of rule (``today``, ``first-of-month``, ...) or a date into a date."""
    if isinstance(rule, dt.date):
        return rule
    if rule == "first-of-month":
        return today.replace(day=1)
    if rule == "first-of-quarter":
        return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return today


def find_previous_run(pattern: str, as_of: dt.date) -> Path | None:
    """Among directories matching an output pattern, the latest run dated before ``as_of``.

    The pattern's ``{as_of...}`` fields become wildcards; each candidate's date is read
    from its ``summary.json``, so a directory's name is never trusted for its date.
    """
    parts = []
    for literal, field_name, _spec, _conv in string.Formatter().parse(pattern):
        parts.append(glob.escape(literal))
        if field_name is not None:
            parts.append("*")
    best: tuple[dt.date, Path] | None = None
    for candidate in glob.glob("".join(parts)):
        summary = Path(candidate) / "summary.json"
        try:
            run_as_of = dt.date.fromisoformat(json.loads(summary.read_text())["as_of"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if run_as_of < as_of and (best is None or run_as_of > best[0]):
            best = (run_as_of, Path(candidate))
    return best[1] if best else None


def find_project(config: str | Path | None, cwd: Path) -> Project | None:
    """The project named by ``--config``, or ``listbuilder.toml`` in ``cwd``, or None."""
    if config is not None:
        return load_project(_relative(Path(config)))
    default = cwd / PROJECT_FILE
    return load_project(_relative(default)) if default.is_file() else None


def _relative(path: Path) -> Path:
    """``path`` relative to the working directory when it lies inside it.

    The project's paths are resolved against its file, so a project found this way has
    its paths recorded (in summary.json, in the report) as the project names them, the
    same on every machine, not as this machine's absolute paths.
    """
    with contextlib.suppress(ValueError, OSError):
        return path.resolve().relative_to(Path.cwd().resolve())
    return path


def load_project(path: str | Path) -> Project:
    """Read and validate a project file, reporting every problem with its key.

    Raises:
        ConfigError: The file is missing, malformed, has unknown keys or bad values.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"project file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid project file {path}: malformed TOML: {exc}") from None
    problems: list[str] = []
    project = _parse(data, path, problems)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"invalid project file {path}:\n{lines}")
    return project


def _unknown(table: dict[str, Any], where: str, allowed: set[str], problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            at = f"{where}.{key}" if where else key
            problems.append(f"{at}: unknown key; valid keys are {sorted(allowed)}")


def _section(data: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.append(f"{key}: expected a table")
        return {}
    return value


def _events_section(inputs_raw: dict[str, Any], path: Path, problems: list[str]) -> dict[str, Path]:
    """``[inputs.events]``: event tables by name, each path resolved and checked."""
    events: dict[str, Path] = {}
    raw_events = inputs_raw.get("events", {})
    if not isinstance(raw_events, dict):
        problems.append("inputs.events: expected a table of event table names and paths")
        raw_events = {}
    for name, value in raw_events.items():
        twin = {"hiring": "jobs", "funding": "funding"}.get(name)
        if twin in inputs_raw:
            problems.append(f"inputs.events.{name}: given twice; keep inputs.{twin} or this")
        if not isinstance(value, str) or not value:
            problems.append(f"inputs.events.{name}: expected a path, got {value!r}")
            continue
        resolved = path.parent / value
        if not any(ch in value for ch in "*?[") and not resolved.exists():
            problems.append(f"inputs.events.{name}: {resolved} does not exist")
        events[name] = resolved
    return events


def _engine_settings(run: dict[str, Any], problems: list[str]) -> tuple[str | None, str | None]:
    """``[run] engine`` and ``[run] spark_master``, checked."""
    engine = run.get("engine")
    if engine is not None and engine not in ENGINES:
        problems.append(f"run.engine: unknown engine {engine!r}; valid engines are {list(ENGINES)}")
        engine = None
    spark_master = run.get("spark_master")
    if spark_master is not None and (not isinstance(spark_master, str) or not spark_master):
        problems.append("run.spark_master: expected a Spark master URL such as 'local[4]'")
        spark_master = None
    return engine, spark_master


def _parse(data: dict[str, Any], path: Path, problems: list[str]) -> Project:
    _unknown(data, "", {"inputs", "run", "exports"}, problems)
    inputs_raw = _section(data, "inputs", problems)
    run = _section(data, "run", problems)
    exports = _section(data, "exports", problems)
    _unknown(inputs_raw, "inputs", {*INPUT_KEYS, "events"}, problems)
    _unknown(run, "run", {"as_of", "out", "previous", "engine", "spark_master"}, problems)
    _unknown(exports, "exports", {"to", "tiers"}, problems)

    inputs: dict[str, Path] = {}
    for key, value in inputs_raw.items():
        if key not in INPUT_KEYS:
            continue
        if not isinstance(value, str) or not value:
            problems.append(f"inputs.{key}: expected a path, got {value!r}")
            continue
        resolved = path.parent / value
        if not any(ch in value for ch in "*?[") and not resolved.exists():
            problems.append(f"inputs.{key}: {resolved} does not exist")
        inputs[key] = resolved
    events = _events_section(inputs_raw, path, problems)
    if "companies" in inputs_raw and "rules" not in inputs_raw:
        problems.append("inputs.rules: required when inputs.companies is set")

    as_of: str | dt.date = run.get("as_of", "today")
    if isinstance(as_of, str) and as_of not in AS_OF_RULES:
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            problems.append(
                f"run.as_of: invalid value {as_of!r}; valid values are a date "
                f"(YYYY-MM-DD) or one of {list(AS_OF_RULES)}"
            )
    elif not isinstance(as_of, str | dt.date) or isinstance(as_of, dt.datetime):
        problems.append(f"run.as_of: expected a date or one of {list(AS_OF_RULES)}")
    plain_date = isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime)
    if plain_date and (problem := as_of_problem(as_of)):  # type: ignore[arg-type]
        problems.append(f"run.as_of: {problem}")
    out = run.get("out", "out/{as_of:%Y-%m}")
    if not isinstance(out, str) or not out:
        problems.append("run.out: expected a directory pattern such as 'out/{as_of:%Y-%m}'")
        out = "out/{as_of:%Y-%m}"
    else:
        try:
            out.format(as_of=dt.date(2000, 1, 1))
        except (KeyError, ValueError, IndexError) as exc:
            problems.append(f"run.out: bad pattern {out!r} ({exc}); only {{as_of}} may be used")
    previous = run.get("previous", "auto")
    if not isinstance(previous, str) or not previous:
        problems.append("run.previous: expected 'auto', 'none' or a run directory")
        previous = "auto"

    engine, spark_master = _engine_settings(run, problems)

    to = exports.get("to", [])
    if not isinstance(to, list) or not all(isinstance(v, str) for v in to):
        problems.append("exports.to: expected a list of destination names")
        to = []
    else:
        problems.extend(_check_destinations(to))
    tiers = exports.get("tiers")
    if tiers is not None and (
        not isinstance(tiers, list) or not all(isinstance(v, str) for v in tiers)
    ):
        problems.append("exports.tiers: expected a list of tier names")
        tiers = None
    return Project(
        path=path,
        inputs=inputs,
        events=events,
        as_of=as_of,
        out=out,
        previous=previous,
        exports=tuple(to),
        export_tiers=tuple(tiers) if tiers is not None else None,
        engine=engine,
        spark_master=spark_master,
    )


def _check_destinations(names: list[str]) -> list[str]:
    from listbuilder.outputs.exports import destination_names

    known = destination_names()
    return [
        f"exports.to: unknown destination {name!r}; valid destinations are {sorted(known)}"
        for name in names
        if name not in known
    ]


SAMPLE_INPUTS = {
    "companies": "data/companies.parquet",
    "jobs": "data/jobs.parquet",
    "funding": "data/funding.parquet",
    "crm": "data/crm.csv",
    "rules": "rules/example.toml",
}
SAMPLE_EVENTS = {
    "exec_hires": "data/exec_hires.parquet",
    "intent": "data/intent.parquet",
    "layoffs": "data/layoffs.parquet",
    "headcount": "data/headcount.parquet",
}


@dataclass(frozen=True)
class BuildSettings:
    """Everything one build needs, after options, the project file and defaults merge."""

    inputs: dict[str, str]
    as_of: dt.date
    out: Path
    previous: Path | None
    exports: tuple[str, ...] = ()
    export_tiers: tuple[str, ...] | None = None
    engine: str = "polars"
    spark_master: str | None = None
    events: dict[str, str] = field(default_factory=dict)


def build_settings(
    project: Project | None,
    options: dict[str, str | None],
    *,
    as_of: dt.date | None,
    out: str | None,
    previous: str | None,
    today: dt.date,
    engine: str | None = None,
    spark_master: str | None = None,
    events: dict[str, str] | None = None,
) -> BuildSettings:
    """Merge command-line options over the project file over the built-in defaults.

    ``events`` are the ``--events NAME=PATH`` tables; they override the project's
    ``[inputs.events]`` of the same name.

    Without a project file and without ``companies``, every input not given comes from
    the sample data, the run directory is ``out`` and there is no previous run unless
    ``previous`` names one. The engine is the option's, else the project's, else polars.
    """
    given = {k: v for k, v in options.items() if v is not None}
    if project is not None:
        inputs = {k: str(v) for k, v in project.inputs.items()}
        theirs = inputs.get("companies")
        if "companies" in given and (theirs is None or not _same_file(theirs, given["companies"])):
            # A different dataset makes the project's other tables meaningless for it.
            inputs = {k: v for k, v in inputs.items() if k in ("rules", "confirmed", "crm")}
        inputs.update(given)
        tables = event_tables(project, inputs.get("companies"), events)
        _one_source_per_table(inputs, given, tables)
        _check_named(inputs, project.path)
        run_as_of = as_of or project.resolve_as_of(today)
        run_out = Path(out) if out else project.out_dir(run_as_of)
        run_previous = Path(previous) if previous else project.find_previous(run_as_of)
        return BuildSettings(
            inputs,
            run_as_of,
            run_out,
            run_previous,
            project.exports,
            project.export_tiers,
            engine=engine or project.engine or "polars",
            spark_master=spark_master or project.spark_master,
            events=tables,
        )
    inputs = dict(given)
    tables = event_tables(None, given.get("companies"), events)
    if "companies" not in given:
        inputs = {**{k: v for k, v in SAMPLE_INPUTS.items()}, **given}
    inputs.setdefault("rules", SAMPLE_INPUTS["rules"])
    _one_source_per_table(inputs, given, tables)
    return BuildSettings(
        inputs,
        as_of or today,
        Path(out or "out"),
        Path(previous) if previous else None,
        engine=engine or "polars",
        spark_master=spark_master,
        events=tables,
    )


def event_tables(
    project: Project | None, companies: str | None, events: dict[str, str] | None
) -> dict[str, str]:
    """The named event tables a command reads besides ``--events``.

    The project's ``[inputs.events]`` when ``companies`` is the project's companies file;
    without a project file, the sample's event tables (those present in ``data/``) when
    ``companies`` is the sample's or not given. Another companies file makes those tables
    about other companies, so then only ``--events`` count. ``--events`` of the same name
    replace them.
    """
    tables: dict[str, str] = {}
    if project is not None:
        theirs = project.inputs.get("companies")
        if theirs is not None and companies is not None and _same_file(theirs, companies):
            tables = {k: str(v) for k, v in project.events.items()}
    elif companies is None or _same_file(SAMPLE_INPUTS["companies"], companies):
        tables = {k: v for k, v in SAMPLE_EVENTS.items() if Path(v).exists()}
    tables.update(events or {})
    return tables


def command_event_tables(
    cwd: Path, companies: str | None, events: dict[str, str] | None
) -> dict[str, str]:
    """``event_tables`` for a command that names its companies itself (profile, backtest,
    explain), with the project file found in ``cwd``.

    A project file that does not load gives no tables rather than an error: the starter
    project names data that is not there yet, and these commands do not need it.
    """
    try:
        project = find_project(None, cwd)
    except ConfigError:
        return dict(events or {})
    return event_tables(project, companies, events)


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _one_source_per_table(
    inputs: dict[str, str], given: dict[str, str], tables: dict[str, str]
) -> None:
    """``--events hiring=PATH`` is ``--jobs PATH``: the later setting replaces the other.

    Only when both come from the command line is it a mistake, which ``run_build`` reports.
    """
    for name, key in (("hiring", "jobs"), ("funding", "funding")):
        if name in tables and key in inputs and key not in given:
            del inputs[key]


def _check_named(inputs: dict[str, str], project: Path) -> None:
    """A build needs companies and rules; say where to name them when a project lacks them."""
    wanted = (("companies", "companies data"), ("rules", "rules file"))
    missing = [what for key, what in wanted if key not in inputs]
    if not missing:
        return
    keys = " and ".join(k for k in ("companies", "rules") if k not in inputs)
    options = " and ".join(f"--{k}" for k in ("companies", "rules") if k not in inputs)
    example = " (listbuilder init writes a commented example)" if len(missing) == 2 else ""
    raise ConfigError(
        f"{project} names no {' and no '.join(missing)}: set [inputs] {keys} there{example}, "
        f"or pass {options}"
    )


SAMPLE_FILES = {
    "data/companies.parquet": "companies.parquet",
    "data/jobs.parquet": "jobs.parquet",
    "data/funding.parquet": "funding.parquet",
    "data/crm.csv": "crm.csv",
    "data/exec_hires.parquet": "exec_hires.parquet",
    "data/intent.parquet": "intent.parquet",
    "data/layoffs.parquet": "layoffs.parquet",
    "data/headcount.parquet": "headcount.parquet",
    "rules/example.toml": "example.toml",
}


@dataclass(frozen=True)
class InitResult:
    """The files ``init`` wrote and what to run next, one line each."""

    files: list[Path]
    next_steps: list[str]


def init_project(directory: str | Path, *, force: bool = False, sample: bool = False) -> InitResult:
    """Write a commented starter ``listbuilder.toml`` and ``rules/icp.toml``.

    With ``sample``, write instead a project on the sample data shipped in the package
    (``data/``, ``rules/example.toml``), its run date pinned to the sample's, so that
    ``listbuilder build`` in ``directory`` runs at once.

    Raises:
        ConfigError: A file would be overwritten and ``force`` is not set.
    """
    from importlib import resources

    directory = Path(directory)
    package = resources.files("listbuilder")
    if sample:
        targets = {directory / PROJECT_FILE: package / "templates" / "sample.toml"}
        targets.update(
            {directory / to: package / "sample" / src for to, src in SAMPLE_FILES.items()}
        )
    else:
        targets = {
            directory / PROJECT_FILE: package / "templates" / "listbuilder.toml",
            directory / "rules" / "icp.toml": package / "templates" / "icp.toml",
        }
    try:
        for parent in (directory, *directory.parents):
            if os.path.lexists(parent) and not parent.is_dir():
                raise ConfigError(f"cannot write into {directory}: {parent} is a file")
        existing = [str(p) for p in targets if os.path.lexists(p)]
        if existing and not force:
            raise ConfigError(f"{', '.join(existing)} already exist(s); pass --force to overwrite")
        for target, source in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    except OSError as exc:
        raise DataError(f"cannot write into {directory}: {exc.strerror or exc}") from None
    return InitResult(list(targets), _next_steps(directory, sample))


def _next_steps(directory: Path, sample: bool) -> list[str]:
    """What to run after ``init``: the build, or first the data the project expects."""
    cd = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    if sample:
        return [
            f"next: {cd}listbuilder build",
            "  (the sample, as of 2026-11-01: the lists and report.html go to out/2026-11/)",
        ]
    project = directory / PROJECT_FILE
    data = tomllib.loads(project.read_text(encoding="utf-8"))
    missing = [
        value for value in data.get("inputs", {}).values() if not (directory / value).exists()
    ]
    if not missing:
        return [f"next: {cd}listbuilder build"]
    return [
        f"next: put your tables where [inputs] in {project} says, or change the paths there "
        f"(missing: {', '.join(missing)}), then run: {cd}listbuilder build",
        "or try the sample data first: listbuilder init --sample --dir sample && "
        "cd sample && listbuilder build",
    ]


def run_with_settings(settings: BuildSettings, progress: Progress = QUIET) -> dict[str, Any]:
    """Run the build that ``settings`` describe; returns the run's summary."""
    from listbuilder.outputs.run import run_build

    inputs = settings.inputs
    return run_build(
        rules_path=inputs["rules"],
        companies_path=inputs["companies"],
        jobs_path=inputs.get("jobs"),
        funding_path=inputs.get("funding"),
        events_paths=settings.events,
        crm_path=inputs.get("crm"),
        confirmed_path=inputs.get("confirmed"),
        as_of=settings.as_of,
        out=settings.out,
        previous_path=settings.previous,
        exports=settings.exports,
        export_tiers=settings.export_tiers,
        progress=progress,
        engine=settings.engine,
        spark_master=settings.spark_master,
    )
