"""The lists' placement in SQL (``placements_sql``) against the polars build, one step
below the whole-build differential test: many more cases of the part that decides who
is listed where, with the scores drawn directly so that ties, caps, overflow, held seats
and shared domains are common rather than lucky.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listbuilder.build.lists import (
    _pin_expr,
    _place_engine,
    _place_polars,
    _placement_input,
)
from listbuilder.rules import Rules, parse_rules

pytest.importorskip("duckdb")
from listbuilder.engines.duck import DuckDBEngine

DOMAINS = ["acme.com", "shop.acme.com", "beta.co.uk", "x.beta.co.uk", "gamma.io", None]
MAX_POINTS = 5


def _tiers(draw: st.DrawFn) -> list[dict[str, Any]]:
    kind = draw(st.sampled_from(["min_score", "min_percent", "min_fit"]))
    pool = [0, 20, 40, 60, 100] if kind == "min_percent" else [-1, 0, 1, 2, 3, 4]
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    tiers = []
    for k, value in enumerate(sorted(values, reverse=True)):
        tier: dict[str, Any] = {"name": f"T{k + 1}", kind: value}
        if kind == "min_fit" and draw(st.booleans()):
            tier["min_intent"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            tier["max_accounts"] = draw(st.integers(1, 3))
        tier["stickiness"] = 1
        tiers.append(tier)
    return tiers


@st.composite
def placement_cases(draw: st.DrawFn) -> tuple[Rules, pl.DataFrame]:
    """Rules with one or two segments and the qualified accounts after CRM matching."""
    segments = []
    for i in range(draw(st.integers(1, 2))):
        segment: dict[str, Any] = {
            "name": f"s{i}",
            "score": [{"label": "big", "when": {"employees": {"min": 1}}, "points": MAX_POINTS}],
            "tiers": _tiers(draw),
        }
        if draw(st.booleans()):
            # Small caps, so that held seats fill them as often as not.
            segment["max_accounts"] = draw(st.integers(1, 5))
        segments.append(segment)
    rules = parse_rules({"segments": segments}, "placement.toml")
    n = draw(st.integers(0, 30))
    n_seg = len(segments)
    rows: dict[str, list[Any]] = {
        "company_id": _ids(draw, n),
        "domain": [draw(st.sampled_from(DOMAINS)) for _ in range(n)],
        "_seg": [draw(st.integers(0, n_seg - 1)) for _ in range(n)],
        "_excluded": [draw(st.integers(0, 4)) == 0 for _ in range(n)],
    }
    # Last month's seat: a segment and one of its tiers, or none, per company id (as
    # _previous_seats gives it, joined on the id: rows sharing an id share the seat).
    seat_of: dict[str, tuple[int | None, int | None]] = {}
    for company_id in rows["company_id"]:
        if company_id not in seat_of:
            seg = draw(st.sampled_from([*range(n_seg), None]))
            tier = None if seg is None else draw(st.integers(0, len(segments[seg]["tiers"]) - 1))
            seat_of[company_id] = (seg, tier)
    rows["_prev_seg"] = [seat_of[c][0] for c in rows["company_id"]]
    rows["_prev_tier_ix"] = [seat_of[c][1] for c in rows["company_id"]]
    for i in range(n_seg):
        fit = [draw(st.integers(0, 3)) for _ in range(n)]
        intent = [draw(st.integers(0, 2)) for _ in range(n)]
        rows[f"_fit{i}"] = fit
        rows[f"_int{i}"] = intent
        rows[f"_score{i}"] = [f + t for f, t in zip(fit, intent, strict=True)]
        rows[f"_keep{i}"] = [draw(st.integers(0, 3)) > 0 for _ in range(n)]
    frame = pl.DataFrame(
        rows,
        schema_overrides={
            "company_id": pl.String,
            "domain": pl.String,
            "_excluded": pl.Boolean,
            **{f"_keep{i}": pl.Boolean for i in range(n_seg)},
            "_seg": pl.Int32,
            "_prev_seg": pl.Int32,
            "_prev_tier_ix": pl.Int32,
            **{f"_score{i}": pl.Int64 for i in range(n_seg)},
            **{f"_fit{i}": pl.Int64 for i in range(n_seg)},
            **{f"_int{i}": pl.Int64 for i in range(n_seg)},
        },
    )
    frame = frame.with_columns(
        (pl.col(f"_score{i}") * 100 / MAX_POINTS).alias(f"_pct{i}") for i in range(n_seg)
    )
    return rules, frame.with_row_index("_lb_row").with_columns(pl.col("_lb_row").cast(pl.Int64))


def _ids(draw: st.DrawFn, n: int) -> list[str]:
    """Ids that sort apart from input order, so ties on score are broken by id; one in
    four repeats an earlier row's, as a dataset may (rows, not ids, are placed)."""
    ids: list[str] = []
    for k in range(n):
        if k and draw(st.integers(0, 3)) == 0:
            ids.append(ids[draw(st.integers(0, k - 1))])
        else:
            ids.append(f"c{draw(st.integers(0, 999)):03d}-{k}")
    return ids


def _assigned(candidates: pl.DataFrame, rules: Rules, i: int) -> pl.DataFrame:
    """Segment ``i``'s accounts as the build hands them to placement."""
    return candidates.filter(pl.col("_seg") == i).with_columns(
        score=pl.col(f"_score{i}"),
        percent=pl.col(f"_pct{i}"),
        fit_score=pl.col(f"_fit{i}"),
        intent_score=pl.col(f"_int{i}"),
        _pin=_pin_expr(rules.segments[i], i),
    )


def _outcome(frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]) -> tuple[list, ...]:
    listed, not_listed, duplicates = frames
    return (
        listed.select("company_id", "tier", "rank", "held").rows(),
        not_listed["company_id"].to_list(),
        duplicates["company_id"].to_list(),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(placement_cases())
def test_duckdb_places_every_list_as_polars_does(case: tuple[Rules, pl.DataFrame]) -> None:
    rules, candidates = case
    for sticky in (True, False):
        _same_placement(rules, candidates, sticky)


def _same_placement(rules: Rules, candidates: pl.DataFrame, sticky: bool) -> None:
    placed = DuckDBEngine().place(rules, _placement_input(rules, candidates, sticky), sticky=sticky)
    for i, segment in enumerate(rules.segments):
        assigned = _assigned(candidates, rules, i)
        expected = _outcome(_place_polars(assigned, segment, sticky=sticky))
        got = _outcome(_place_engine(assigned, placed.filter(pl.col("_seg") == i), segment))
        assert got == expected


def test_placement_is_worked_out_by_hand() -> None:
    """Five accounts, a capped top tier, a held seat and a shared domain.

    T1 (score >= 4, at most 1 seat, stickiness) and T2 (score >= 2). By rank: e (5),
    a (4), b (4), c (3), d (1). e was in T1 last month and is held there (it would earn
    it anyway, so it is no real hold: ``held`` false); T1's one seat is then taken, so a
    and b overflow to T2 in id order; c shares a's registrable domain (shop.acme.com is
    acme.com) and is a duplicate; d reaches no tier and is not listed.
    """
    rules = parse_rules(
        {
            "segments": [
                {
                    "name": "s0",
                    "score": [{"label": "big", "when": {"employees": {"min": 1}}, "points": 5}],
                    "tiers": [
                        {"name": "T1", "min_score": 4, "max_accounts": 1, "stickiness": 1},
                        {"name": "T2", "min_score": 2},
                    ],
                }
            ]
        },
        "hand.toml",
    )
    candidates = pl.DataFrame(
        {
            "company_id": ["a", "b", "c", "d", "e"],
            "domain": ["acme.com", "b.io", "shop.acme.com", "d.io", "e.io"],
            "_seg": [0] * 5,
            "_excluded": [False] * 5,
            "_score0": [4, 4, 3, 1, 5],
            "_fit0": [4, 4, 3, 1, 5],
            "_int0": [0] * 5,
            "_keep0": [False, False, False, False, True],
            "_prev_seg": [None, None, None, None, 0],
            "_prev_tier_ix": [None, None, None, None, 0],
        },
        schema_overrides={"_seg": pl.Int32, "_prev_seg": pl.Int32, "_prev_tier_ix": pl.Int32},
    ).with_columns(_pct0=pl.col("_score0") * 20.0, _lb_row=pl.int_range(5, dtype=pl.Int64))
    placed = DuckDBEngine().place(rules, _placement_input(rules, candidates, True), sticky=True)
    listed, not_listed, duplicates = _outcome(
        _place_engine(_assigned(candidates, rules, 0), placed, rules.segments[0])
    )
    assert listed == [("e", "T1", 1, False), ("a", "T2", 2, False), ("b", "T2", 3, False)]
    assert not_listed == ["d"]
    assert duplicates == ["c"]


def test_one_company_id_twice_is_placed_row_by_row() -> None:
    """A dataset holding id x twice (a.com and b.com): both rows got x's seat from last
    month, but only the first still qualifies to be held. Each row is placed on its own,
    on both paths: the first keeps its seat, the second reaches T1 and is listed too."""
    rules = parse_rules(
        {
            "segments": [
                {
                    "name": "s0",
                    "score": [{"label": "big", "when": {"employees": {"min": 1}}, "points": 5}],
                    "tiers": [{"name": "T1", "min_score": 0, "stickiness": 1}],
                }
            ]
        },
        "dup.toml",
    )
    candidates = pl.DataFrame(
        {
            "company_id": ["x", "x"],
            "domain": ["a.com", "b.com"],
            "_seg": [0, 0],
            "_excluded": [False, False],
            "_score0": [3, 2],
            "_fit0": [3, 2],
            "_int0": [0, 0],
            "_keep0": [True, False],
            "_prev_seg": [0, 0],
            "_prev_tier_ix": [0, 0],
        },
        schema_overrides={"_seg": pl.Int32, "_prev_seg": pl.Int32, "_prev_tier_ix": pl.Int32},
    ).with_columns(_pct0=pl.col("_score0") * 20.0, _lb_row=pl.int_range(2, dtype=pl.Int64))
    assigned = _assigned(candidates, rules, 0)
    placed = DuckDBEngine().place(rules, _placement_input(rules, candidates, True), sticky=True)
    expected = ([("x", "T1", 1, False), ("x", "T1", 2, False)], [], [])
    assert _outcome(_place_polars(assigned, rules.segments[0], sticky=True)) == expected
    assert _outcome(_place_engine(assigned, placed, rules.segments[0])) == expected
