"""Hiring and funding signals: windows, counts, filters and the words in ``reasons``.

The window of a criterion is ``[as_of - within_days, as_of]``, both ends included; an
event dated after ``as_of`` is ignored. Every expectation is counted by hand from the
event rows in the test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from listbuilder.build import build_lists
from listbuilder.rules import attach_signals
from tests.conftest import AS_OF, companies_frame, funding_frame, jobs_frame, rules_from

DAY = dt.timedelta(days=1)
LOW_TIER = '[[segments.tiers]]\nname = "all"\nmin_score = -100\n'


def days_ago(n: int) -> dt.date:
    return AS_OF - n * DAY


def scored(
    criteria: str,
    ids: list[str],
    *,
    jobs: list[dict[str, Any]] | None = None,
    funding: list[dict[str, Any]] | None = None,
    as_of: dt.date = AS_OF,
) -> pl.DataFrame:
    """Build one segment listing everyone; returns company_id, score, reasons by id."""
    rules = rules_from(f'[[segments]]\nname = "s"\n{criteria}\n{LOW_TIER}')
    result = build_lists(
        rules,
        companies_frame([{"company_id": i} for i in ids]).lazy(),
        as_of=as_of,
        jobs=jobs_frame(jobs).lazy() if jobs is not None else None,
        funding=funding_frame(funding).lazy() if funding is not None else None,
    )
    return result.lists[0].frame.select("company_id", "score", "reasons").sort("company_id")


def expect(rows: list[tuple[str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"company_id": pl.String, "score": pl.Int64, "reasons": pl.String},
        orient="row",
    )


HIRING_30 = """
[[segments.score]]
label = "hiring"
signal = "hiring"
within_days = 30
points = 1
"""


def test_hiring_window_edges() -> None:
    jobs = [
        {"company_id": "a_edge", "posted_date": days_ago(30)},  # first day of the window
        {"company_id": "b_before", "posted_date": days_ago(31)},  # one day too early
        {"company_id": "c_on", "posted_date": AS_OF},
        {"company_id": "d_after", "posted_date": AS_OF + DAY},  # after as-of: ignored
        {"company_id": "e_mixed", "posted_date": AS_OF + 40 * DAY},
        {"company_id": "e_mixed", "posted_date": days_ago(45)},
    ]
    got = scored(
        HIRING_30, ["a_edge", "b_before", "c_on", "d_after", "e_mixed", "f_none"], jobs=jobs
    )
    assert_frame_equal(
        got,
        expect(
            [
                ("a_edge", 1, "hiring +1 (1 posting in 30d)"),
                ("b_before", 0, ""),
                ("c_on", 1, "hiring +1 (1 posting in 30d)"),
                ("d_after", 0, ""),
                ("e_mixed", 0, ""),
                ("f_none", 0, ""),
            ]
        ),
    )


def test_a_past_month_is_rebuilt_from_its_own_window() -> None:
    jobs = [
        {"company_id": "a", "posted_date": dt.date(2026, 9, 1)},  # 30 days before 10-01
        {"company_id": "b", "posted_date": dt.date(2026, 8, 31)},  # 31 days before
        {"company_id": "c", "posted_date": dt.date(2026, 10, 2)},  # after 10-01
    ]
    got = scored(HIRING_30, ["a", "b", "c"], jobs=jobs, as_of=dt.date(2026, 10, 1))
    assert got["score"].to_list() == [1, 0, 0]
    got = scored(HIRING_30, ["a", "b", "c"], jobs=jobs, as_of=dt.date(2026, 10, 31))
    assert got["score"].to_list() == [0, 0, 1]


def test_a_zero_day_window_is_the_as_of_day_only() -> None:
    jobs = [
        {"company_id": "a", "posted_date": AS_OF},
        {"company_id": "b", "posted_date": days_ago(1)},
    ]
    got = scored(HIRING_30.replace("30", "0"), ["a", "b"], jobs=jobs)
    assert got["reasons"].to_list() == ["hiring +1 (1 posting in 0d)", ""]


def test_min_count_and_departments_case_insensitive() -> None:
    criteria = """
    [[segments.score]]
    label = "hiring sellers"
    signal = "hiring"
    departments = ["Sales", "revenue operations"]
    within_days = 60
    min_count = 3
    points = 2
    """
    jobs = [
        # a: three sellers in the window
        {"company_id": "a", "posted_date": days_ago(1), "department": "SALES"},
        {"company_id": "a", "posted_date": days_ago(60), "department": "Revenue Operations"},
        {"company_id": "a", "posted_date": days_ago(10), "department": "sales"},
        {"company_id": "a", "posted_date": days_ago(5), "department": "engineering"},
        # b: two sellers, plus postings that do not count (other department, null, too old)
        {"company_id": "b", "posted_date": days_ago(1), "department": "sales"},
        {"company_id": "b", "posted_date": days_ago(2), "department": "Sales"},
        {"company_id": "b", "posted_date": days_ago(3), "department": "marketing"},
        {"company_id": "b", "posted_date": days_ago(4), "department": None},
        {"company_id": "b", "posted_date": days_ago(61), "department": "sales"},
        # c: four sellers
        *({"company_id": "c", "posted_date": days_ago(k), "department": "sales"} for k in range(4)),
    ]
    got = scored(criteria, ["a", "b", "c"], jobs=jobs)
    assert_frame_equal(
        got,
        expect(
            [
                ("a", 2, "hiring sellers +2 (3 postings in 60d)"),
                ("b", 0, ""),
                ("c", 2, "hiring sellers +2 (4 postings in 60d)"),
            ]
        ),
    )


def test_without_departments_every_posting_counts() -> None:
    jobs = [
        {"company_id": "a", "posted_date": days_ago(1), "department": None},
        {"company_id": "a", "posted_date": days_ago(2), "department": "engineering"},
    ]
    got = scored(HIRING_30, ["a"], jobs=jobs)
    assert got["reasons"].to_list() == ["hiring +1 (2 postings in 30d)"]


def test_criteria_with_different_windows_count_separately() -> None:
    criteria = """
    [[segments.score]]
    label = "hiring lately"
    signal = "hiring"
    within_days = 90
    points = 1
    [[segments.score]]
    label = "hiring now"
    signal = "hiring"
    within_days = 10
    min_count = 2
    points = 5
    """
    jobs = [
        {"company_id": "a", "posted_date": days_ago(80)},
        {"company_id": "a", "posted_date": days_ago(9)},
        {"company_id": "b", "posted_date": days_ago(10)},
        {"company_id": "b", "posted_date": days_ago(0)},
        {"company_id": "b", "posted_date": days_ago(91)},
    ]
    got = scored(criteria, ["a", "b"], jobs=jobs)
    assert_frame_equal(
        got,
        expect(
            [
                ("a", 1, "hiring lately +1 (2 postings in 90d)"),
                ("b", 6, "hiring lately +1 (2 postings in 90d); hiring now +5 (2 postings in 10d)"),
            ]
        ),
    )


FRESH_FUNDING = """
[[segments.score]]
label = "fresh funding"
signal = "funding"
within_days = 180
round_types = ["Series A", "series b"]
min_amount_usd = 5000000
points = 2
"""


def test_funding_round_types_min_amount_and_the_latest_round_quoted() -> None:
    funding = [
        # a: one qualifying round
        {
            "company_id": "a",
            "announced_date": dt.date(2026, 9, 14),
            "round_type": "Series B",
            "amount_usd": 12e6,
        },
        # b: the amount equals the minimum (counts), listed out of date order
        {
            "company_id": "b",
            "announced_date": dt.date(2026, 10, 1),
            "round_type": "SERIES A",
            "amount_usd": 5e6,
        },
        {
            "company_id": "b",
            "announced_date": dt.date(2026, 6, 1),
            "round_type": "Series A",
            "amount_usd": 9e6,
        },
        # a later round of another type does not hide the qualifying one
        {
            "company_id": "b",
            "announced_date": dt.date(2026, 10, 20),
            "round_type": "Series C",
            "amount_usd": 50e6,
        },
        # c: below the minimum, unknown amount, wrong type, or too old: nothing counts
        {
            "company_id": "c",
            "announced_date": dt.date(2026, 9, 1),
            "round_type": "Series A",
            "amount_usd": 4_999_999.0,
        },
        {
            "company_id": "c",
            "announced_date": dt.date(2026, 9, 2),
            "round_type": "Series B",
            "amount_usd": None,
        },
        {
            "company_id": "c",
            "announced_date": dt.date(2026, 9, 3),
            "round_type": "Seed",
            "amount_usd": 9e6,
        },
        {
            "company_id": "c",
            "announced_date": dt.date(2026, 5, 4),
            "round_type": "Series A",
            "amount_usd": 9e6,
        },  # 181 days before 2026-11-01
        # d: on the first day of the window; e: after as-of
        {
            "company_id": "d",
            "announced_date": dt.date(2026, 5, 5),
            "round_type": "series a",
            "amount_usd": 6e6,
        },
        {
            "company_id": "e",
            "announced_date": dt.date(2026, 11, 2),
            "round_type": "Series A",
            "amount_usd": 6e6,
        },
    ]
    got = scored(FRESH_FUNDING, ["a", "b", "c", "d", "e"], funding=funding)
    assert_frame_equal(
        got,
        expect(
            [
                ("a", 2, "fresh funding +2 (Series B, 2026-09-14)"),
                ("b", 2, "fresh funding +2 (2 rounds, latest SERIES A, 2026-10-01)"),
                ("c", 0, ""),
                ("d", 2, "fresh funding +2 (series a, 2026-05-05)"),
                ("e", 0, ""),
            ]
        ),
    )


def test_funding_without_filters_counts_every_round_in_the_window() -> None:
    criteria = """
    [[segments.score]]
    label = "raised"
    signal = "funding"
    within_days = 365
    min_count = 2
    points = 1
    """
    funding = [
        {"company_id": "a", "announced_date": days_ago(1), "round_type": None, "amount_usd": None},
        {
            "company_id": "a",
            "announced_date": days_ago(365),
            "round_type": "Seed",
            "amount_usd": 1.0,
        },
        {"company_id": "b", "announced_date": days_ago(1), "round_type": "Seed", "amount_usd": 1.0},
        {
            "company_id": "b",
            "announced_date": days_ago(366),
            "round_type": "Seed",
            "amount_usd": 1.0,
        },
    ]
    got = scored(criteria, ["a", "b"], funding=funding)
    assert got["score"].to_list() == [1, 0]
    assert got["reasons"][0] == f"raised +1 (2 rounds, latest round, {days_ago(1).isoformat()})"


# --- the count per company against a plain-Python count -----------------------------------

events = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(-5, 40),  # days before as-of; negative = after as-of
        st.sampled_from(["Sales", "sales", "SALES", "engineering", None]),
    ),
    max_size=25,
)


@settings(max_examples=50, deadline=None)
@given(
    rows=events,
    within=st.integers(0, 35),
    departments=st.sampled_from([None, ["sales"], ["Engineering", "SALES"]]),
    as_of=st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)),
)
def test_hiring_counts_match_a_plain_count(
    rows: list[tuple[str, int, str | None]],
    within: int,
    departments: list[str] | None,
    as_of: dt.date,
) -> None:
    dept = f"departments = {departments!r}\n".replace("'", '"') if departments else ""
    rules = rules_from(
        f'[[segments]]\nname = "s"\n[[segments.score]]\nlabel = "h"\nsignal = "hiring"\n'
        f"within_days = {within}\n{dept}points = 1\n{LOW_TIER}"
    )
    (criterion,) = rules.signals()
    jobs = jobs_frame(
        [{"company_id": c, "posted_date": as_of - k * DAY, "department": d} for c, k, d in rows]
    )
    wanted = {d.lower() for d in departments} if departments else None
    expected = {
        cid: sum(
            1
            for c, k, d in rows
            if c == cid
            and 0 <= k <= within
            and (wanted is None or (d is not None and d.lower() in wanted))
        )
        for cid in ["a", "b", "c", "d"]
    }
    got = (
        attach_signals(
            companies_frame([{"company_id": c} for c in expected]).lazy(),
            [criterion],
            {"hiring": jobs.lazy()},
            as_of,
        )
        .collect()
        .select("company_id", pl.col(f"{criterion.key}_n").fill_null(0))
    )
    assert dict(got.iter_rows()) == expected
