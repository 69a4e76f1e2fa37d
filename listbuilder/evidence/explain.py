"""Why is an account on the list, or not: every rule, the account's value, the outcome.

``explain_company`` answers a salesperson's "why is Acme not on my list?". It runs the
real build on the inputs (so the tier, rank, CRM suppression and caps are exactly what a
build gives) and re-evaluates the one company condition by condition with
``scoring.evaluate_ids``, the same columns the build reads. For each segment it reports
every include and exclude condition with the company's value and whether it held, every
scoring criterion with its points given or not and why (for signals, the events in the
window), and where the company landed: a tier, suppressed by the CRM, below the lowest
tier, not eligible, taken by an earlier segment, or left off by a cap. Then every CRM
account the company matches, with the method and score of the match.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from listbuilder.build import build_lists, check_inputs
from listbuilder.errors import ConfigError, DataError
from listbuilder.files import read_run_summary, sha256_of
from listbuilder.inputs import (
    Source,
    domain_expr,
    normalise_domain,
    read_event_tables,
    read_events,
    read_source,
)
from listbuilder.match import match_crm, name_expr, normalise_name
from listbuilder.rules import (
    EVENT_DATE,
    AttributeCriterion,
    Condition,
    EventCriterion,
    GrowthCriterion,
    Rules,
    SignalCriterion,
    evaluate_ids,
    event_matches,
    exclude_col,
    fired_col,
    include_col,
    load_rules,
    reaches,
    window_start,
)

MAX_EVENTS = 5
MAX_CANDIDATES = 10


@dataclass(frozen=True)
class Check:
    """One include or exclude condition: what it requires, the value, whether it held."""

    condition: str
    column: str
    value: str
    held: bool


@dataclass(frozen=True)
class CriterionCheck:
    """One scoring criterion: the points it gives, whether it fired, and why."""

    label: str
    points: int
    fired: bool
    why: str
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentOutcome:
    """A segment's verdict on the company.

    ``outcome`` is one of ``listed``, ``suppressed``, ``over_cap``, ``earlier_segment``,
    ``below_threshold`` and ``not_eligible``.
    """

    name: str
    includes: tuple[Check, ...]
    excludes: tuple[Check, ...]
    criteria: tuple[CriterionCheck, ...]
    score: int
    outcome: str
    tier: str | None
    rank: int | None
    summary: str
    # The score's parts, ``fit, intent, percent``, for a segment that scores intent or has
    # percent, fit or intent tiers (None otherwise; percent None when nothing can score).
    parts: tuple[int, int, float | None] | None = None


@dataclass(frozen=True)
class CrmMatch:
    """A CRM account the company matches, and whether its status suppresses the company."""

    account_id: str
    name: str | None
    domain: str | None
    status: str | None
    method: str
    score: float
    suppresses: bool
    # Each field's weight in words, as in matches.csv ("domain same +18.9; ...").
    evidence: str = ""


@dataclass(frozen=True)
class Explanation:
    """The whole answer for one company."""

    company_id: str
    name: str | None
    domain: str | None
    matched_by: str
    as_of: dt.date
    rules_path: str
    segments: tuple[SegmentOutcome, ...]
    crm: tuple[CrmMatch, ...] | None
    # Warnings about the explanation itself, e.g. an input changed since the run.
    notes: tuple[str, ...] = ()


def find_company(companies: pl.LazyFrame, query: str, source: str = "companies") -> dict[str, Any]:
    """The one company ``query`` names: its ``company_id``, else its domain, else its name.

    Domains and names are compared normalised, as CRM matching compares them, so
    ``https://www.acme.com`` finds ``acme.com`` and ``ACME, Inc.`` finds ``Acme Inc``.

    Raises:
        ConfigError: Nothing matches, or a name matches several companies (they are
            listed, so the caller can pass an id instead).
    """
    text = query.strip()
    domain = normalise_domain(text) if "." in text else None
    name = normalise_name(text)
    hits = (
        companies.select(
            "company_id",
            "name",
            "domain",
            *(["country"] if "country" in companies.collect_schema() else []),
            _id=pl.col("company_id") == text,
            _domain=(domain_expr("domain") == domain).fill_null(False) if domain else pl.lit(False),
            _name=(name_expr("name") == name).fill_null(False) if name else pl.lit(False),
        )
        .filter(pl.col("_id") | pl.col("_domain") | pl.col("_name"))
        .collect()
    )
    for flag, how in (("_id", "id"), ("_domain", "domain"), ("_name", "name")):
        found = hits.filter(pl.col(flag)).sort("company_id")
        if found.height == 1:
            return {**found.drop("_id", "_domain", "_name").row(0, named=True), "_by": how}
        if found.height > 1:
            shown = found.head(MAX_CANDIDATES).iter_rows(named=True)
            listing = "; ".join(
                f"{r['company_id']} {r['name']!r} ({r['domain'] or 'no domain'}"
                + (f", {r['country']}" if r.get("country") else "")
                + ")"
                for r in shown
            )
            more = (
                f" and {found.height - MAX_CANDIDATES} more"
                if found.height > MAX_CANDIDATES
                else ""
            )
            raise ConfigError(
                f"{query!r} matches {found.height} companies by {how} in {source}: "
                f"{listing}{more}; give the company_id instead"
            )
    raise ConfigError(f"no company in {source} has the id, domain or name {query!r}")


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _check(test: Condition | EventCriterion, row: dict[str, Any], column: str) -> Check:
    if isinstance(test, Condition):
        value = _show(row.get(test.column))
        return Check(test.describe(), test.column, value, bool(row[column]))
    return Check(test.describe(), test.table, _signal_value(test, row), bool(row[column]))


def _signal_value(test: EventCriterion, row: dict[str, Any]) -> str:
    """What the company's events show for a test: a count, distinct values, a total, a growth."""
    if isinstance(test, GrowthCriterion):
        then, now = row.get(f"{test.key}_then"), row.get(f"{test.key}_now")
        growth = row.get(f"{test.key}_g")
        if growth is None:
            return f"no growth figure ({_show(then)} -> {_show(now)})"
        return f"{_show(then)} -> {_show(now)} ({growth:+.1f}%)"
    n = row.get(f"{test.key}_n") or 0
    parts = [f"{n} matching event{'' if n == 1 else 's'}"]
    parts += [
        f"{row.get(f'{test.key}_d{k}') or 0} distinct {col}"
        for k, (col, _) in enumerate(test.min_distinct)
    ]
    parts += [
        f"{col} total {_show(row.get(f'{test.key}_t{k}') or 0)}"
        for k, (col, _) in enumerate(test.min_total)
    ]
    return ", ".join(parts)


def _events(
    criterion: SignalCriterion,
    events: dict[str, pl.LazyFrame],
    company_id: str,
    as_of: dt.date,
) -> tuple[str, ...]:
    """The latest qualifying events in the criterion's window, newest first."""
    frame = events.get(criterion.signal)
    if frame is None:
        return ()
    date_col = EVENT_DATE[criterion.signal]
    shown = [c.column for c in criterion.conditions()]
    shown += [c for c, _ in (*criterion.min_distinct, *criterion.min_total)]
    found = (
        frame.filter(
            pl.col("company_id") == company_id,
            pl.col(date_col) <= as_of,
            event_matches(criterion, as_of),
        )
        .sort(date_col, descending=True)
        .head(MAX_EVENTS)
        .collect()
    )
    out = []
    for r in found.iter_rows(named=True):
        day = r[date_col].isoformat()
        if criterion.signal == "hiring" and criterion.legacy:
            what = r.get("title") or "posting"
            dept = f" ({r['department']})" if r.get("department") else ""
            out.append(f"{day} {what}{dept}")
        elif criterion.signal == "funding" and criterion.legacy:
            amount = r.get("amount_usd")
            money = f", ${amount:,.0f}" if amount is not None else ""
            out.append(f"{day} {r.get('round_type') or 'round'}{money}")
        else:
            values = [f"{c}: {_show(r.get(c))}" for c in dict.fromkeys(shown)]
            out.append(" ".join([day, *([", ".join(values)] if values else [])]))
    return tuple(out)


def _criterion(
    criterion: AttributeCriterion | SignalCriterion | GrowthCriterion,
    fired: bool,
    row: dict[str, Any],
    events: dict[str, pl.LazyFrame],
    as_of: dt.date,
) -> CriterionCheck:
    if isinstance(criterion, AttributeCriterion):
        parts = [
            f"{c.describe()} ({c.column}: {_show(row.get(c.column))})" for c in criterion.conditions
        ]
        return CriterionCheck(criterion.label, criterion.points, fired, "; ".join(parts))
    start = window_start(as_of, criterion.within_days)
    if isinstance(criterion, GrowthCriterion):
        why = (
            f"{criterion.column} in {criterion.table}, latest on or before {start} -> latest "
            f"on or before {as_of}: {_signal_value(criterion, row)}; "
            f"needs {criterion.describe().split(' changed by ')[1]}"
        )
        return CriterionCheck(criterion.label, criterion.points, fired, why)
    if not criterion.legacy:
        found = _signal_value(criterion, row)
        why = f"{found} from {start} to {as_of}; needs {criterion.describe()}"
        listed = _events(criterion, events, row["company_id"], as_of)
        return CriterionCheck(criterion.label, criterion.points, fired, why, listed)
    n = row.get(f"{criterion.key}_n") or 0
    noun = "posting" if criterion.signal == "hiring" else "round"
    kinds = criterion.departments or criterion.round_types
    kind = f" ({', '.join(kinds)})" if kinds else ""
    extra = (
        f", at least ${criterion.min_amount_usd:,.0f}"
        if criterion.min_amount_usd is not None
        else ""
    )
    why = (
        f"{n} {noun}{'' if n == 1 else 's'}{kind}{extra} from {start} to {as_of}, "
        f"needs {criterion.min_count}"
    )
    listed = _events(criterion, events, row["company_id"], as_of)
    return CriterionCheck(criterion.label, criterion.points, fired, why, listed)


def explain_company(
    query: str,
    rules: Rules,
    companies: Source,
    *,
    as_of: dt.date,
    jobs: Source | None = None,
    funding: Source | None = None,
    events: Mapping[str, Source] | None = None,
    crm: Source | None = None,
) -> Explanation:
    """Explain, segment by segment, where the company ``query`` lands and why.

    ``events`` are event tables by name; ``jobs`` and ``funding`` are ``hiring`` and
    ``funding``.
    """
    given = {k: v for k, v in (("hiring", jobs), ("funding", funding)) if v is not None}
    tables = {**given, **(events or {})}
    check_inputs(rules, companies, events=tables)
    try:
        company = find_company(companies.frame, query, companies.path)
        company_id = company["company_id"]
        crm_df = crm.frame.collect() if crm is not None else None
        frames = {name: source.frame for name, source in tables.items()}
        built = build_lists(rules, companies.frame, as_of=as_of, events=frames, crm=crm_df)
        detail = evaluate_ids(rules, companies.frame, frames, as_of, [company_id])
        matches = _crm_matches(company, crm_df, rules) if crm_df is not None else None
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError, OSError) as exc:
        raise DataError(
            f"could not process the input data: {' '.join(str(exc).split())[:500]}"
        ) from None
    row = detail.row(0, named=True)
    placed = built.accounts.filter(pl.col("company_id") == company_id)
    sizes = {sl.segment.name: sl.frame.height for sl in built.lists}
    segments = []
    for i, seg in enumerate(rules.segments):
        includes = tuple(
            _check(c, row, include_col(i, k))
            for k, c in enumerate([*seg.include, *seg.include_signals])
        )
        excludes = tuple(_check(c, row, exclude_col(i, k)) for k, c in enumerate(seg.exclusions()))
        criteria = tuple(
            _criterion(c, bool(row[fired_col(i, j)]), row, frames, as_of)
            for j, c in enumerate(seg.score)
        )
        score = int(row[f"_score{i}"])
        here = placed.filter(pl.col("segment") == seg.name)
        status = here.row(0, named=True) if here.height else None
        outcome, tier, rank, summary = _outcome(
            seg_index=i,
            rules=rules,
            row=row,
            status=status,
            includes=includes,
            excludes=excludes,
            score=score,
            list_size=sizes.get(seg.name, 0),
        )
        parts = None
        if any(c.group == "intent" for c in seg.score) or any(
            t.min_percent is not None or t.min_fit is not None or t.min_intent is not None
            for t in seg.tiers
        ):
            parts = (int(row[f"_fit{i}"]), int(row[f"_int{i}"]), row[f"_pct{i}"])
        segments.append(
            SegmentOutcome(
                seg.name, includes, excludes, criteria, score, outcome, tier, rank, summary, parts
            )
        )
    return Explanation(
        company_id=company_id,
        name=company.get("name"),
        domain=company.get("domain"),
        matched_by=company["_by"],
        as_of=as_of,
        rules_path=rules.path,
        segments=tuple(segments),
        crm=matches,
    )


def _tier_needs(rules: Rules, i: int) -> str:
    return ", ".join(f"{t.name} needs {_needs(t)}" for t in rules.segments[i].tiers)


def _needs(tier: Any) -> str:
    """A plain score threshold reads as the number alone, as it always has."""
    only_score = tier.min_percent is None and tier.min_fit is None and tier.min_intent is None
    return str(tier.min_score) if only_score else tier.describe()


def _outcome(
    *,
    seg_index: int,
    rules: Rules,
    row: dict[str, Any],
    status: dict[str, Any] | None,
    includes: tuple[Check, ...],
    excludes: tuple[Check, ...],
    score: int,
    list_size: int,
) -> tuple[str, str | None, int | None, str]:
    seg = rules.segments[seg_index]
    needs = _tier_needs(rules, seg_index)
    if status is not None and status["status"] == "listed":
        return (
            "listed",
            status["tier"],
            status["rank"],
            f"listed in {status['tier']}, rank {status['rank']:,} of {list_size:,} "
            f"(score {score}; {needs})",
        )
    if status is not None and status["status"] == "suppressed":
        return (
            "suppressed",
            None,
            None,
            f"qualifies with score {score} ({needs}) but is suppressed: its CRM account has "
            f"status {status['crm_status']}, one of {', '.join(rules.exclude_status)}",
        )
    if status is not None and status["status"] == "not_listed":
        caps = [f"{t.name} holds at most {t.max_accounts:,}" for t in seg.tiers if t.max_accounts]
        if seg.max_accounts:
            caps.append(f"the list holds at most {seg.max_accounts:,}")
        return (
            "over_cap",
            None,
            None,
            f"qualifies with score {score} ({needs}) but the list was full: "
            f"{'; '.join(caps) or 'capped'}, and higher-scoring accounts took the places",
        )
    failed = [c for c in includes if not c.held]
    hit = [c for c in excludes if c.held]
    if failed or hit:
        parts = [f"{c.condition} does not hold ({c.column}: {c.value})" for c in failed]
        parts += [f"excluded because {c.condition} ({c.column}: {c.value})" for c in hit]
        return "not_eligible", None, None, "not eligible: " + "; ".join(parts)
    lowest = seg.tiers[-1]
    if not _reached_lowest(seg_index, rules, row):
        return (
            "below_threshold",
            None,
            None,
            f"eligible, but score {score} is below {lowest.name}'s {_needs(lowest)}",
        )
    first = row.get("_seg")
    earlier = rules.segments[first].name if first is not None else "an earlier segment"
    return (
        "earlier_segment",
        None,
        None,
        f"qualifies with score {score} ({needs}), but belongs to {earlier}, "
        "an earlier segment: a company goes to the first segment it qualifies for",
    )


def _reached_lowest(seg_index: int, rules: Rules, row: dict[str, Any]) -> bool:
    """Does the evaluated row reach the segment's lowest tier (every threshold it gives)?"""
    seg = rules.segments[seg_index]
    names = [f"_{p}{seg_index}" for p in ("score", "pct", "fit", "int")]
    one = pl.DataFrame({n: [row.get(n)] for n in names}, schema={n: pl.Float64 for n in names})
    return bool(one.select(reaches(seg, seg_index, len(seg.tiers) - 1)).item())


def _crm_matches(company: dict[str, Any], crm: pl.DataFrame, rules: Rules) -> tuple[CrmMatch, ...]:
    keys = {
        k: [company.get(k)] for k in ("company_id", "name", "domain", "country") if k in company
    }
    frame = pl.DataFrame(keys, schema={k: pl.String for k in keys})
    pairs = match_crm(frame, crm)
    if pairs.height == 0:
        return ()
    cols = [c for c in ("account_id", "name", "domain", "status") if c in crm.columns]
    joined = pairs.join(crm.select(cols), on="account_id", how="left").sort(
        ["score", "account_id"], descending=[True, False]
    )
    out = []
    for r in joined.iter_rows(named=True):
        status = r.get("status")
        out.append(
            CrmMatch(
                account_id=r["account_id"],
                name=r.get("name"),
                domain=r.get("domain"),
                status=status,
                method=r["method"],
                score=float(r["score"]),
                evidence=r.get("evidence") or "",
                suppresses=(status or "").lower() in rules.exclude_status,
            )
        )
    return tuple(out)


def format_explanation(e: Explanation) -> str:
    """The explanation as text for the terminal."""
    head = f"{e.name} ({e.company_id}, {e.domain or 'no domain'})"
    lines = [
        head,
        f"as of {e.as_of}, rules {e.rules_path}; found by {e.matched_by}",
    ]
    for seg in e.segments:
        lines += ["", f"segment {seg.name}: {seg.summary}"]
        if seg.includes:
            lines.append("  include (every condition must hold):")
            lines += [_check_line(c) for c in seg.includes]
        if seg.excludes:
            lines.append("  exclude (any condition disqualifies):")
            lines += [_check_line(c, exclude=True) for c in seg.excludes]
        if seg.criteria:
            detail = ""
            if seg.parts is not None:
                fit, intent, percent = seg.parts
                share = f", {percent:.1f}% of the maximum" if percent is not None else ""
                detail = f" (fit {fit}, intent {intent}{share})"
            lines.append(f"  score {seg.score}{detail}:")
            for c in seg.criteria:
                given = f"{c.points:+d}" if c.fired else " 0"
                state = "" if c.fired else f" (not met; worth {c.points:+d})"
                lines.append(f"    {given:>3} {c.label}{state}: {c.why}")
                lines += [f"          {event}" for event in c.events]
    lines.append("")
    if e.crm is None:
        lines.append("CRM: not given (--crm), so no suppression")
    elif not e.crm:
        lines.append("CRM: no account matches this company")
    else:
        lines.append("CRM matches:")
        for m in e.crm:
            effect = " -> suppresses" if m.suppresses else ""
            lines.append(
                f"  {m.account_id} {m.name!r} ({m.domain or 'no domain'}), status "
                f"{m.status or 'none'}, by {m.method}, match probability {m.score:.4f}{effect}"
            )
            if m.evidence:
                lines.append(f"    evidence: {m.evidence}")
    return "\n".join(lines)


def _check_line(c: Check, *, exclude: bool = False) -> str:
    mark = "yes" if c.held else "no "
    effect = ""
    if exclude and c.held:
        effect = "  <- disqualifies"
    elif not exclude and not c.held:
        effect = "  <- fails"
    return f"    [{mark}] {c.condition} ({c.column}: {c.value}){effect}"


def run_explain(
    query: str,
    *,
    rules_path: str | Path,
    companies_path: str | Path,
    as_of: dt.date,
    jobs_path: str | Path | None = None,
    funding_path: str | Path | None = None,
    events_paths: Mapping[str, str | Path] | None = None,
    crm_path: str | Path | None = None,
) -> Explanation:
    """Read the inputs and explain one company."""
    rules = load_rules(rules_path)
    return explain_company(
        query,
        rules,
        read_source(companies_path, "companies"),
        as_of=as_of,
        events=read_event_tables(jobs_path, funding_path, events_paths),
        crm=read_source(crm_path, "crm") if crm_path else None,
    )


def run_explain_run(query: str, run_dir: str | Path) -> Explanation:
    """Explain one company as the run in ``run_dir`` saw it.

    The rules, inputs and as-of date come from the run's ``summary.json``: each path is
    found through ``from_run`` (relative to the run directory), else as recorded. An
    input whose sha256 differs from the run's is used all the same, with a note: the
    explanation is then of today's file, not of the run's.

    Raises:
        DataError: ``run_dir`` is not a run directory, or a recorded input is gone.
    """
    run = Path(run_dir)
    summary_path, summary = read_run_summary(run)
    try:
        as_of = dt.date.fromisoformat(summary["as_of"])  # type: ignore[index]
        rules_entry = summary["rules"]  # type: ignore[index]
        inputs = summary["inputs"]  # type: ignore[index]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{summary_path} is not a listbuilder summary: {exc}") from None
    rules = load_rules(_recorded_path(run, "rules", rules_entry))
    sources = {
        role: read_source(_recorded_path(run, role, inputs[role]), role)
        for role in ("companies", "crm")
        if role in inputs
    }
    # Every other input but the confirmed pairs is an event table, read as the build read
    # it: jobs and funding may be source files of role "events" (--events hiring=x.toml).
    tables = {"jobs": "hiring", "funding": "funding"}
    events = {
        key: read_events(_recorded_path(run, key, entry), tables.get(key, key))
        for key, entry in inputs.items()
        if key not in (*sources, "confirmed")
    }
    sources.update(events)
    jobs, funding = events.pop("jobs", None), events.pop("funding", None)
    notes = [
        f"{role} input {source.path} has changed since the run (its sha256 differs): "
        "this explains the file as it is now"
        for role, source in sources.items()
        if inputs[role].get("sha256") and sha256_of(list(source.files)) != inputs[role]["sha256"]
    ]
    if rules.sha256 != rules_entry.get("sha256"):
        notes.append(f"rules {rules.path} have changed since the run (their sha256 differs)")
    if "confirmed" in inputs:
        notes.append("the run's confirmed CRM pairs are not applied: CRM matches are the engine's")
    explanation = explain_company(
        query,
        rules,
        sources["companies"],
        as_of=as_of,
        jobs=jobs,
        funding=funding,
        events=events,
        crm=sources.get("crm"),
    )
    return dataclasses.replace(explanation, notes=tuple(notes))


def _recorded_path(run: Path, role: str, entry: dict[str, Any]) -> Path:
    """Where a run's recorded input is now: beside the run as recorded, else as given."""
    candidates = [Path(os.path.normpath(run / entry["from_run"]))] if entry.get("from_run") else []
    candidates.append(Path(entry["path"]))
    for path in candidates:
        if any(ch in str(path) for ch in "*?[") or path.exists():
            return path
    raise DataError(
        f"the run's {role} input {entry['path']} is not there any more (looked for "
        f"{' and '.join(str(c) for c in candidates)}); pass the inputs with --rules, "
        "--companies ... and --as-of instead"
    )
