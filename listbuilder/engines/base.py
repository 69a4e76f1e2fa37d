"""What every engine shares: the tables it reads, the result it returns, and the queries
that turn the compiled rules into that result.

An engine runs the whole-dataset part of a build (signals, eligibility, scores, segment
choice and the funnel's counts) and hands back only the companies that pass some
segment's includes, so what comes back to Python follows the size of the segments, not
of the dataset. CRM matching then runs in Python on the qualified accounts, and its
verdict goes back to the engine, which places each segment's list: one account per
registrable domain, held seats, tiers with caps and overflow, the segment's cap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl
from sqlglot import exp

from listbuilder.errors import ConfigError
from listbuilder.inputs import Source
from listbuilder.rules import Rules, exclude_col, included_col
from listbuilder.rules.sql import compile_rules

ENGINES = ("polars", "duckdb", "spark")
# Input order, carried through the engine so the accounts come back in the order polars
# keeps them (ties in every later sort then break the same way).
ROW = "_lb_row"
INCLUDED = "_lb_included"


@dataclass(frozen=True)
class EngineTable:
    """One input table for an engine: the typed polars frame and, when the files already
    hold the canonical schema, the parquet files the engine can scan itself."""

    frame: pl.LazyFrame
    parquet: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Scored:
    """The whole-dataset part of a build, as the build reads it.

    ``counts`` holds ``read``, ``eligible{i}``, ``qualified{i}`` and ``dq{i}_{k}``;
    ``histograms`` per segment (score, eligible accounts) lowest score first;
    ``included`` every company that passes some segment's includes, with the scoring
    columns, in input order (those that qualify are the candidates; the others are kept
    in ``accounts.parquet`` for next month's changes); ``event_rows`` and ``event_last``
    each event table's rows and newest date.
    """

    counts: dict[str, int]
    histograms: list[tuple[tuple[int, int], ...]]
    included: pl.DataFrame
    event_rows: dict[str, int] = field(default_factory=dict)
    event_last: dict[str, dt.date | None] = field(default_factory=dict)


class Engine(Protocol):
    """Runs the compiled rules over the input tables."""

    name: str

    def score(
        self,
        rules: Rules,
        tables: dict[str, EngineTable],
        as_of: dt.date,
        *,
        previous_seats: pl.DataFrame | None = None,
    ) -> Scored:
        """Score every company; ``tables`` holds ``companies`` and any of ``hiring``,
        ``funding``; ``previous_seats`` the previous run's seats for tier stickiness."""
        ...

    def place(self, rules: Rules, accounts: pl.DataFrame, *, sticky: bool) -> pl.DataFrame:
        """Run ``placements_sql`` over the qualified accounts after CRM matching
        (``placement_columns``): each segment's domains, held seats, tiers and caps."""
        ...


def table_of(source: Source) -> EngineTable:
    """The engine's view of a source: parquet files it can scan directly when reading
    them as they are gives exactly the canonical schema (no mapping, no casts)."""
    files = tuple(source.files)
    direct = (
        not source.path.endswith(".toml")
        and bool(files)
        and all(p.suffix.lower() in (".parquet", ".pq") for p in files)
    )
    if direct and pl.scan_parquet(list(files)).collect_schema() == source.schema:
        return EngineTable(source.frame, files)
    return EngineTable(source.frame)


def included_sql(
    rules: Rules,
    as_of: dt.date,
    tables: dict[str, EngineTable],
    *,
    sticky: bool,
    engine: str,
) -> exp.Select:
    """The scored companies that pass some segment's includes (the funnel's population)."""
    schemas = {name: table.frame.collect_schema() for name, table in tables.items()}
    plan = compile_rules(
        rules, as_of, schemas=schemas, sticky=sticky, target=f"the {engine} engine"
    )
    anyone = exp.or_(
        *(exp.column(included_col(i), quoted=True) for i in range(len(rules.segments)))
    )
    return exp.select(exp.Star()).from_(plan.scored.subquery("_s")).where(anyone)


def _count(flag: exp.Expression, name: str) -> exp.Expression:
    ones = exp.Case(
        ifs=[exp.If(this=flag, true=exp.Literal.number(1))], default=exp.Literal.number(0)
    )
    return exp.alias_(exp.cast(exp.Sum(this=ones), exp.DataType.Type.BIGINT), name, quoted=True)


def counts_sql(rules: Rules, table: str) -> exp.Select:
    """The funnel's counts over the included companies, in one pass."""
    col = lambda name: exp.column(name, quoted=True)  # noqa: E731
    segs = rules.segments
    aggs = [_count(col(f"_elig{i}"), f"eligible{i}") for i in range(len(segs))]
    aggs += [_count(col(f"_qual{i}"), f"qualified{i}") for i in range(len(segs))]
    aggs += [
        _count(exp.and_(col(included_col(i)), col(exclude_col(i, k))), f"dq{i}_{k}")
        for i, s in enumerate(segs)
        for k in range(len(s.exclusions()))
    ]
    return exp.select(*aggs).from_(exp.to_table(table))


def histogram_sql(i: int, table: str) -> exp.Select:
    """Segment ``i``: how many eligible accounts have each score, lowest first."""
    score = exp.column(f"_score{i}", quoted=True)
    return (
        exp.select(score, exp.alias_(exp.Count(this=exp.Star()), "n"))
        .from_(exp.to_table(table))
        .where(exp.column(f"_elig{i}", quoted=True))
        .group_by(score.copy())
        .order_by(score.copy())
    )


def event_stats_sql(table: str, date_column: str) -> exp.Select:
    """An event table's row count and newest date."""
    return exp.select(
        exp.Count(this=exp.Star()), exp.Max(this=exp.column(date_column, quoted=True))
    ).from_(exp.to_table(table))


def finish(
    counts: dict[str, int],
    histograms: list[list[tuple[int, int]]],
    included: pl.DataFrame,
    event_stats: dict[str, tuple[int, dt.date | None]],
) -> Scored:
    """Put an engine's answers in input order and the shape the build reads."""
    return Scored(
        {k: int(v or 0) for k, v in counts.items()},
        [tuple((int(s), int(n)) for s, n in h) for h in histograms],
        included.sort(ROW).drop(ROW),
        {name: int(n) for name, (n, _) in event_stats.items()},
        {name: last for name, (_, last) in event_stats.items()},
    )


def missing_dependency(engine: str, module: str) -> ConfigError:
    """The error for an engine whose package is not installed, with the install command."""
    return ConfigError(
        f"the {engine} engine needs the `{module}` package, which is not installed; "
        f"install it with: pip install 'listbuilder[{engine}]'"
    )
