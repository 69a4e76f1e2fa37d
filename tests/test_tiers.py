"""Tier assignment: score order, first open tier, overflow downwards, caps.

The reference is the rule as the issue states it, one account at a time: accounts in
order of score descending then ``company_id``; each takes the first tier whose
``min_score`` it reaches and that is not full; with no open tier, or once the segment
holds ``max_accounts``, it is not listed.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from listbuilder.rules import Tier, TierPlan, assign_tiers, plan_tiers


def tiers(*spec: tuple[int, int | None]) -> tuple[Tier, ...]:
    """Tiers T1, T2, ... from (min_score, max_accounts) pairs, highest first."""
    return tuple(
        Tier(f"T{i + 1}", low, cap, None, f"tiers[{i}]") for i, (low, cap) in enumerate(spec)
    )


def reference(
    accounts: list[tuple[str, int]], tier_list: tuple[Tier, ...], max_accounts: int | None
) -> list[tuple[str, int, str, int]]:
    """(company_id, score, tier, rank) for the listed accounts, one account at a time."""
    taken = [0] * len(tier_list)
    placed: list[tuple[str, int, int]] = []
    for cid, score in sorted(accounts, key=lambda a: (-a[1], a[0])):
        if max_accounts is not None and len(placed) >= max_accounts:
            break
        for ix, tier in enumerate(tier_list):
            if score >= tier.min_score and (
                tier.max_accounts is None or taken[ix] < tier.max_accounts
            ):
                taken[ix] += 1
                placed.append((cid, score, ix))
                break
    # rank is the position in the listed order: by tier, then as taken
    placed.sort(key=lambda p: p[2])
    return [(cid, score, tier_list[ix].name, r + 1) for r, (cid, score, ix) in enumerate(placed)]


def run(
    accounts: list[tuple[str, int]], tier_list: tuple[Tier, ...], max_accounts: int | None
) -> tuple[list[tuple[str, int, str, int]], list[TierPlan]]:
    ranked = pl.DataFrame(
        accounts, schema={"company_id": pl.String, "score": pl.Int64}, orient="row"
    ).sort(["score", "company_id"], descending=[True, False])
    listed, plans = assign_tiers(ranked, tier_list, max_accounts)
    rows = listed.select("company_id", "score", "tier", "rank").rows()
    return rows, plans


def test_a_full_tier_overflows_to_the_next_tier_down() -> None:
    accounts = [("e", 9), ("a", 9), ("b", 8), ("c", 5), ("d", 1), ("f", 0)]
    rows, plans = run(accounts, tiers((8, 2), (5, None), (1, None)), None)
    assert rows == [
        ("a", 9, "T1", 1),  # ties on score go by company_id
        ("e", 9, "T1", 2),
        ("b", 8, "T2", 3),  # T1 is full: b overflows to T2
        ("c", 5, "T2", 4),
        ("d", 1, "T3", 5),
    ]  # f reaches no tier
    assert [(p.name, p.size) for p in plans] == [("T1", 2), ("T2", 2), ("T3", 1)]


def test_overflow_runs_through_several_full_tiers() -> None:
    accounts = [(c, 10) for c in "abcdef"]
    rows, plans = run(accounts, tiers((10, 1), (5, 2), (0, 1)), None)
    assert [(c, t) for c, _, t, _ in rows] == [
        ("a", "T1"),
        ("b", "T2"),
        ("c", "T2"),
        ("d", "T3"),
    ]  # e and f find no open tier
    assert [p.size for p in plans] == [1, 2, 1]


def test_an_account_with_no_open_tier_is_not_listed() -> None:
    accounts = [("a", 3), ("b", 3), ("c", 9)]
    rows, _ = run(accounts, tiers((5, None), (3, 1)), None)
    assert rows == [("c", 9, "T1", 1), ("a", 3, "T2", 2)]


def test_the_segment_cap_stops_the_list() -> None:
    accounts = [("a", 9), ("b", 8), ("c", 7), ("d", 1)]
    rows, plans = run(accounts, tiers((8, None), (0, None)), 3)
    assert rows == [("a", 9, "T1", 1), ("b", 8, "T1", 2), ("c", 7, "T2", 3)]
    assert [p.size for p in plans] == [2, 1]
    rows, plans = run(accounts, tiers((8, None), (0, None)), 1)
    assert rows == [("a", 9, "T1", 1)]
    assert [p.size for p in plans] == [1, 0]


def test_negative_thresholds_and_no_candidates() -> None:
    rows, _ = run([("a", -2), ("b", -3)], tiers((0, None), (-2, None)), None)
    assert rows == [("a", -2, "T2", 1)]
    rows, plans = run([], tiers((1, 5)), 10)
    assert rows == []
    assert [p.size for p in plans] == [0]


def test_other_columns_travel_with_their_account() -> None:
    ranked = pl.DataFrame({"company_id": ["b", "a"], "score": [5, 1], "name": ["B", "A"]})
    listed, _ = assign_tiers(ranked, tiers((5, None), (1, None)), None)
    expected = pl.DataFrame(
        {
            "company_id": ["b", "a"],
            "score": [5, 1],
            "name": ["B", "A"],
            "tier": ["T1", "T2"],
            "rank": pl.Series([1, 2], dtype=pl.Int64),
        }
    )
    assert_frame_equal(listed.select(expected.columns), expected)


@pytest.mark.parametrize(
    ("reaching", "spec", "cap", "sizes"),
    [
        ([2, 5, 9], [(8, None), (5, None), (1, None)], None, [2, 3, 4]),
        ([4, 5, 9], [(8, 2), (5, None), (1, None)], None, [2, 3, 4]),
        ([4, 5, 9], [(8, 2), (5, 1), (1, 1)], None, [2, 1, 1]),
        ([4, 5, 9], [(8, 2), (5, 1), (1, 1)], 3, [2, 1, 0]),
        ([0, 0, 3], [(8, 2), (5, 1), (1, 2)], None, [0, 0, 2]),
        ([3, 3, 3], [(8, None), (5, 4), (1, 4)], 2, [2, 0, 0]),
    ],
)
def test_plan_from_counts(
    reaching: list[int], spec: list[tuple[int, int | None]], cap: int | None, sizes: list[int]
) -> None:
    plans = plan_tiers(reaching, tiers(*spec), cap)
    assert [p.size for p in plans] == sizes
    # tiers are consecutive runs of the ranked list
    assert [p.start for p in plans] == [sum(sizes[:i]) for i in range(len(sizes))]


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[tuple[str, int]], tuple[Tier, ...], int | None]:
    n = draw(st.integers(0, 25))
    ids = draw(
        st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=n, max_size=n, unique=True)
    )
    scores = draw(st.lists(st.integers(-3, 10), min_size=n, max_size=n))
    thresholds = sorted(draw(st.sets(st.integers(-4, 10), min_size=1, max_size=4)), reverse=True)
    caps = draw(
        st.lists(
            st.one_of(st.none(), st.integers(1, 6)),
            min_size=len(thresholds),
            max_size=len(thresholds),
        )
    )
    max_accounts = draw(st.one_of(st.none(), st.integers(1, 20)))
    return (
        list(zip(ids, scores, strict=True)),
        tiers(*zip(thresholds, caps, strict=True)),
        max_accounts,
    )


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_assignment_matches_the_one_at_a_time_rule(
    scenario: tuple[list[tuple[str, int]], tuple[Tier, ...], int | None],
) -> None:
    accounts, tier_list, max_accounts = scenario
    rows, plans = run(accounts, tier_list, max_accounts)
    expected = reference(accounts, tier_list, max_accounts)
    assert rows == expected
    assert [p.size for p in plans] == [
        sum(1 for r in expected if r[2] == t.name) for t in tier_list
    ]
