"""A build run: read the inputs, build the lists, write the run directory.

``run_build`` is the library function behind ``listbuilder build``; ``write_run`` lays out
the run directory (lists, suppressed accounts, ``accounts.parquet``, ``summary.json``, the
report and any exports) atomically, so a failed run leaves earlier output untouched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.build import (
    CHANGE_KINDS,
    BuildResult,
    build_lists,
    change_counts,
    check_inputs,
    load_previous,
)
from listbuilder.engines import get_engine, table_of
from listbuilder.errors import ConfigError, DataError
from listbuilder.files import (
    atomic_directory,
    check_output_dir,
    sha256_of,
    write_csv,
    write_marker,
)
from listbuilder.inputs import BadValues, Source, check_values, read_event_tables, read_source
from listbuilder.match import check_confirmed, read_confirmed
from listbuilder.outputs.exports import check_destinations, write_exports
from listbuilder.outputs.report import segment_size_check, write_report
from listbuilder.progress import QUIET, Progress
from listbuilder.rules import Rules, Tier, load_rules


def run_build(
    *,
    rules_path: str | Path,
    companies_path: str | Path,
    out: str | Path,
    as_of: dt.date,
    jobs_path: str | Path | None = None,
    funding_path: str | Path | None = None,
    events_paths: Mapping[str, str | Path] | None = None,
    crm_path: str | Path | None = None,
    confirmed_path: str | Path | None = None,
    previous_path: str | Path | None = None,
    exports: Sequence[str] = (),
    export_tiers: Sequence[str] | None = None,
    progress: Progress = QUIET,
    engine: str = "polars",
    spark_master: str | None = None,
) -> dict[str, Any]:
    """Read the inputs, build every segment's list and write the run directory.

    The run directory ``out`` is replaced whole on success and untouched on failure.
    With ``previous_path`` (an earlier run directory), tier stickiness applies and each
    segment gets a ``<segment>.changes.csv``. With ``exports`` (destination names), the
    run's exports are written into ``out/exports/`` as part of the same atomic write.
    With ``confirmed_path`` (decided company/account pairs, see ``listbuilder match``),
    a person's decisions override the CRM matching. ``events_paths`` are event tables by
    name (``--events NAME=PATH``). ``engine`` names where the whole-dataset part runs
    (``polars``, ``duckdb``, ``spark``; see ``listbuilder.engines``), ``spark_master`` the
    Spark cluster to use. Returns the summary also written to ``summary.json``.

    Long because it is the run's one sequence: each input read and checked, then the
    build, then the summary, in the order they depend on each other, one call each.
    """
    if confirmed_path and not crm_path:
        raise ConfigError("confirmed pairs need the CRM they refer to; pass --crm as well")
    # Refused before the work, not after it: replacing is checked again when writing.
    check_output_dir(out, "run")
    if exports:
        check_destinations(exports)
    runner = get_engine(engine, spark_master=spark_master)
    rules = load_rules(rules_path)
    if export_tiers is not None:
        _check_export_tiers(rules, export_tiers)
    previous = load_previous(previous_path) if previous_path else None
    companies = read_source(companies_path, "companies")
    events = read_event_tables(jobs_path, funding_path, events_paths)
    crm = read_source(crm_path, "crm") if crm_path else None
    check_inputs(rules, companies, events=events)
    sources = [s for s in (companies, *events.values(), crm) if s is not None]
    # Hashing hundreds of MB is I/O the query does not need to wait for.
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashes = {s.key: pool.submit(sha256_of, list(s.files)) for s in sources}
        # Values no parser could read became null; counting them is one more streaming
        # pass over that input (none for a file already in the canonical types), also
        # beside the build.
        bad_values = {s.key: pool.submit(check_values, s) for s in sources if s.checks}
        try:
            crm_df = crm.frame.collect() if crm else None
            confirmed = _confirmed(confirmed_path, companies, crm_df)
            result = build_lists(
                rules,
                companies.frame,
                as_of=as_of,
                events={name: source.frame for name, source in events.items()},
                crm=crm_df,
                confirmed=confirmed,
                previous=previous,
                progress=progress,
                engine=runner,
                scan=_scannable(companies, events) if runner is not None else None,
            )
        except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError, OSError) as exc:
            # Reading and casting fail here for bad files and values; a missing column
            # or a schema error would be a bug, so those are left to surface as such.
            raise DataError(f"could not process the input data: {_one_line(exc)}") from None
        rows = {"companies": result.companies_read, **result.event_rows}
        if crm_df is not None:
            rows["crm"] = crm_df.height
        summary = _summary(rules, result, sources, rows, hashes)
        # Which engine computed the lists: every engine gives the same ones, but a run
        # should say how it was made.
        summary["engine"] = engine
        _add_input_details(summary, confirmed_path, confirmed, bad_values)
        _record_paths_from_run(summary, out)
    with progress.stage("writing the run directory"):
        write_run(result, summary, out, exports=exports, export_tiers=export_tiers)
    return summary


def _scannable(companies: Source, events: Mapping[str, Source]) -> dict[str, tuple[Path, ...]]:
    """The inputs an engine can scan itself (parquet already in the canonical schema)."""
    tables = {"companies": companies, **events}
    return {name: table_of(source).parquet for name, source in tables.items()}


def _check_export_tiers(rules: Rules, export_tiers: Sequence[str]) -> None:
    """Refuse export tiers the rules do not define, before any input is read."""
    known = {t.name for seg in rules.segments for t in seg.tiers}
    unknown = [t for t in export_tiers if t not in known]
    if unknown:
        raise ConfigError(
            f"export tiers {unknown} are not tiers of {rules.path}; its tiers are {sorted(known)}"
        )


def _add_input_details(
    summary: dict[str, Any],
    confirmed_path: str | Path | None,
    confirmed: pl.DataFrame | None,
    bad_values: dict[str, Future[dict[str, BadValues]]],
) -> None:
    """Add the confirmed pairs as an input, and each input's values it could not read
    (counts, and a few examples where there are any)."""
    if confirmed_path and confirmed is not None:
        summary["inputs"]["confirmed"] = {
            "path": str(confirmed_path),
            "rows": confirmed.height,
            "sha256": sha256_of([Path(confirmed_path)]),
        }
    for role, found in bad_values.items():
        bad = {c: v for c, v in found.result().items() if v.count}
        summary["inputs"][role]["bad_values"] = {c: v.count for c, v in bad.items()}
        if bad:
            summary["inputs"][role]["bad_value_examples"] = {
                c: list(v.examples) for c, v in bad.items()
            }


def _record_paths_from_run(summary: dict[str, Any], out: str | Path) -> None:
    """Add ``from_run``: each input's and the rules' path relative to the run directory.

    The recorded ``path`` is as given, relative to wherever the build ran; ``from_run``
    lets ``listbuilder explain RUN_DIR`` find the same files from anywhere, as long as the
    project (inputs and runs) moves as one.
    """
    entries = [summary["rules"], *summary["inputs"].values()]
    for entry in entries:
        entry["from_run"] = os.path.relpath(os.path.abspath(entry["path"]), os.path.abspath(out))


def _confirmed(
    path: str | Path | None, companies: Source, crm: pl.DataFrame | None
) -> pl.DataFrame | None:
    """A person's match decisions, checked against the full companies data and CRM."""
    if not path or crm is None:
        return None
    confirmed = read_confirmed(path)
    company_ids = companies.frame.select("company_id").collect()["company_id"]
    check_confirmed(confirmed, path, company_ids, crm["account_id"])
    return confirmed


def _summary(
    rules: Rules,
    result: BuildResult,
    sources: list[Source],
    rows: dict[str, int],
    hashes: dict[str, Future[str]],
) -> dict[str, Any]:
    inputs: dict[str, dict[str, Any]] = {
        s.key: {"path": s.path, "rows": rows.get(s.key), "sha256": hashes[s.key].result()}
        for s in sources
    }
    for table, last in result.event_last.items():
        inputs[table]["last_date"] = last.isoformat() if last else None
    return {
        "as_of": result.as_of.isoformat(),
        "rules": {"path": rules.path, "sha256": rules.sha256},
        "inputs": inputs,
        "segments": [
            {
                "name": sl.segment.name,
                "description": sl.segment.description,
                "file": f"{sl.segment.name}.parquet",
                "funnel": sl.funnel,
                "tiers": {p.name: p.size for p in sl.plans},
                "disqualifiers": sl.disqualifiers,
                "max_accounts": sl.segment.max_accounts,
                "tier_plan": [
                    {
                        "name": t.name,
                        "min_score": t.min_score,
                        **_other_thresholds(t),
                        "max_accounts": t.max_accounts,
                        "size": p.size,
                    }
                    for t, p in zip(sl.segment.tiers, sl.plans, strict=True)
                ],
                "score_histogram": [
                    {"score": score, "accounts": n} for score, n in sl.score_histogram
                ],
            }
            for sl in result.lists
        ],
        "suppressed": result.suppressed.height,
        **_changes_summary(rules, result),
    }


def _other_thresholds(tier: Tier) -> dict[str, Any]:
    """A tier's percent, fit and intent thresholds and their words, where it gives any."""
    given = {
        k: v
        for k, v in (
            ("min_percent", tier.min_percent),
            ("min_fit", tier.min_fit),
            ("min_intent", tier.min_intent),
        )
        if v is not None
    }
    return {**given, "threshold": tier.describe()} if given else {}


def _changes_summary(rules: Rules, result: BuildResult) -> dict[str, Any]:
    if result.changes is None or result.previous is None:
        return {}
    return {
        "previous": {
            "path": result.previous.path,
            "as_of": result.previous.as_of.isoformat(),
            "rules_changed": result.previous.rules_sha256 != rules.sha256,
        },
        "changes": {name: change_counts(frame) for name, frame in result.changes.items()},
    }


def write_run(
    result: BuildResult,
    summary: dict[str, Any],
    out: str | Path,
    *,
    exports: Sequence[str] = (),
    export_tiers: Sequence[str] | None = None,
) -> None:
    """Write lists, suppressed accounts, the summary and any exports.

    ``out`` is replaced only when everything, exports included, has been written.
    """
    with atomic_directory(out, "run") as tmp:
        for sl in result.lists:
            sl.frame.write_parquet(tmp / f"{sl.segment.name}.parquet", statistics=False)
            write_csv(sl.frame, tmp / f"{sl.segment.name}.csv")
        write_csv(result.suppressed, tmp / "suppressed.csv")
        result.accounts.write_parquet(tmp / "accounts.parquet", statistics=False)
        for name, changes in (result.changes or {}).items():
            write_csv(changes, tmp / f"{name}.changes.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if exports:
            exported = write_exports(tmp, exports, tmp / "exports", tiers=export_tiers)
            write_marker(tmp / "exports", "export")
            summary["exports"] = {"files": exported.files, "warnings": exported.warnings}
            (tmp / "summary.json").write_text(
                json.dumps(summary, indent=2) + "\n", encoding="utf-8"
            )
        # The report reads the finished files, so it comes last, inside the atomic write.
        write_report(tmp)


def date_warnings(summary: dict[str, Any]) -> list[str]:
    """A warning when the run's as-of date is after the newest event of a signal table.

    Signal windows then reach past the data: a criterion that needs events in the last
    60 days finds fewer or none, and the top tiers thin out without any error.
    """
    as_of = dt.date.fromisoformat(summary["as_of"])
    behind = []
    for role, entry in summary["inputs"].items():
        last = entry.get("last_date", "")
        if last is None:
            behind.append(f"{role} ({entry['path']}) has no dated events")
        elif last and dt.date.fromisoformat(last) < as_of:
            days = (as_of - dt.date.fromisoformat(last)).days
            behind.append(
                f"{role} ({entry['path']}) ends {last}, {days:,} day{'s' if days != 1 else ''} "
                "earlier"
            )
    if not behind:
        return []
    return [
        f"as of {as_of} is after the newest signal events: {'; '.join(behind)}. Signal "
        "windows reach past the data, so signal criteria fire for fewer accounts (none once "
        "a window starts after the last event); pass --as-of (or set [run] as_of) to the "
        "date the data runs to"
    ]


def crm_warnings(summary: dict[str, Any]) -> list[str]:
    """A warning when the run had no CRM: nothing on the lists was checked against it."""
    if "crm" in summary["inputs"]:
        return []
    return [
        "no CRM: customers and open opportunities cannot be suppressed, so the lists may "
        "include them; pass --crm (or set [inputs] crm)"
    ]


def format_summary(summary: dict[str, Any], show_path: Callable[[str], str] = str) -> str:
    """The end of a run, for the terminal: each segment's funnel as a small aligned table,
    its size judged as the report judges it and, with a previous run, the changes since.

    ``show_path`` turns a recorded path into the form to print (e.g. relative to the
    working directory).
    """
    tier_names: list[str] = []
    for seg in summary["segments"]:
        tier_names += [t for t in seg["tiers"] if t not in tier_names]
    header = ["segment", "eligible", "qualified", "suppressed", *tier_names, "listed"]
    rows = [header]
    for seg in summary["segments"]:
        f = seg["funnel"]
        rows.append(
            [
                seg["name"],
                f"{f['eligible']:,}",
                f"{f['qualified']:,}",
                f"{f['suppressed_by_crm']:,}",
                *(f"{seg['tiers'].get(t, 0):,}" if t in seg["tiers"] else "-" for t in tier_names),
                f"{f['listed']:,}",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    read = summary["inputs"]["companies"]["rows"]
    return "\n".join(
        [
            f"as of {summary['as_of']}: {read:,} companies read",
            *lines,
            *_size_lines(summary),
            *_changes_line(summary, show_path),
        ]
    )


def _size_lines(summary: dict[str, Any]) -> list[str]:
    """Each segment's size judged as the report judges it, in one line."""
    lines = []
    for seg in summary["segments"]:
        check = segment_size_check(seg["funnel"])
        # The reason's first clause: the figure the judgement rests on.
        first = check.reason.split(". ")[0].split(": ")[0].rstrip(".")
        lines.append(f"{seg['name']}: {check.title[0].lower()}{check.title[1:]}: {first}")
    return lines


def _changes_line(summary: dict[str, Any], show_path: Callable[[str], str]) -> list[str]:
    """With a previous run: the changes of every segment added up, naming that run."""
    previous, changes = summary.get("previous"), summary.get("changes")
    if not previous or changes is None:
        return []
    total = dict.fromkeys(CHANGE_KINDS, 0)
    for counts in changes.values():
        for kind, n in counts.items():
            total[kind] = total.get(kind, 0) + n
    words = ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in total.items() if n)
    rules = "; the rules changed since" if previous.get("rules_changed") else ""
    since = f"since {show_path(previous['path'])} (as of {previous['as_of']})"
    return [f"{since}: {words or 'no changes'}{rules}"]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:500]
