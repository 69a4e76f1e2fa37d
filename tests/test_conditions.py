"""Conditions compiled to polars: every operator, its edges, and nulls.

Golden cases are (column, values, condition as written in a rules file, expected truth
per row), worked out by hand. A null value makes every test false except ``missing``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from listbuilder.rules import Condition, Segment
from tests.conftest import rules_from

D = dt.date
DT = dt.datetime
T, F = True, False
TIERS = '[[segments.tiers]]\nname = "T1"\nmin_score = 0\n'


def segment(body: str) -> Segment:
    return rules_from(f'[[segments]]\nname = "s"\n{body}\n{TIERS}').segments[0]


def condition(column: str, written: str) -> Condition:
    """The condition ``column = written`` as the rules parser makes it."""
    return segment(f"[segments.include]\n{column} = {written}\n").include[0]


def truth(cond: Condition, frame: pl.DataFrame) -> list[bool]:
    return frame.select(cond.expr().alias("hit"))["hit"].to_list()


LIST = pl.List(pl.String)

GOLDEN: list[tuple[str, pl.DataType, list[Any], str, list[bool]]] = [
    # one of: strings compare case-insensitively, numbers exactly
    (
        "industry",
        pl.String,
        ["Software", "FINTECH", "retail", None],
        '["software", "fintech"]',
        [T, T, F, F],
    ),
    ("employees", pl.Int64, [10, 20, 30, None], "[10, 30]", [T, F, T, F]),
    ("revenue_usd", pl.Float64, [1.0, 2.5, None], "[2.5]", [F, T, F]),
    ("founded", pl.Date, [D(2020, 1, 1), D(2021, 1, 1), None], "[2020-01-01]", [T, F, F]),
    # numbers as written, whatever the column's number type
    ("revenue_usd", pl.Float64, [1.0, 2.0, 2.5, None], "[1, 2]", [T, T, F, F]),
    ("employees", pl.Int64, [10, 20, None], "[10.0, 20.5]", [T, F, F]),
    # a day given for a timestamp column means that whole day
    ("seen_at", pl.Datetime, [DT(2020, 1, 1, 15), DT(2020, 1, 2), None], "[2020-01-01]", [T, F, F]),
    ("seen_at", pl.Datetime, [DT(2020, 1, 1, 15), DT(2020, 1, 2), None], "2020-01-01", [T, F, F]),
    # a bare value: equality
    ("country", pl.String, ["US", "us", "CA", None], '"US"', [T, T, F, F]),
    ("founded_year", pl.Int64, [2020, 2021, None], "2020", [T, F, F]),
    ("is_public", pl.Boolean, [True, False, None], "true", [T, F, F]),
    ("is_public", pl.Boolean, [True, False, None], "false", [F, T, F]),
    # ranges: both bounds inclusive, either optional
    (
        "employees",
        pl.Int64,
        [49, 50, 1000, 1001, None],
        "{ min = 50, max = 1000 }",
        [F, T, T, F, F],
    ),
    ("employees", pl.Int64, [-5, 200, 201, None], "{ max = 200 }", [T, T, F, F]),
    (
        "revenue_usd",
        pl.Float64,
        [4_999_999.5, 5_000_000.0, 1e12, None],
        "{ min = 5000000 }",
        [F, T, T, F],
    ),
    ("employees", pl.Int64, [1, 2], "{ min = 1.5 }", [F, T]),
    ("employees", pl.Int64, [7, 8], "{ min = 7, max = 7 }", [T, F]),
    (
        "founded",
        pl.Date,
        [D(2019, 12, 31), D(2020, 1, 1), D(2020, 12, 31), D(2021, 1, 1), None],
        "{ min = 2020-01-01, max = 2020-12-31 }",
        [F, T, T, F, F],
    ),
    (
        "seen_at",
        pl.Datetime,
        [DT(2019, 12, 31, 23), DT(2020, 1, 1), DT(2020, 12, 31, 23, 59), DT(2021, 1, 1), None],
        "{ min = 2020-01-01, max = 2020-12-31 }",
        [F, T, T, F, F],
    ),
    # list columns: any / all / none, case-insensitive
    (
        "technologies",
        LIST,
        [["HubSpot"], ["aws"], [], None, ["a", "Salesforce"], [None, "hubspot"]],
        '{ any = ["hubspot", "salesforce"] }',
        [T, F, F, F, T, T],
    ),
    (
        "technologies",
        LIST,
        [["AWS", "snowflake"], ["aws"], [], None, ["snowflake", "x", "aws"]],
        '{ all = ["aws", "Snowflake"] }',
        [T, F, F, F, T],
    ),
    (
        "technologies",
        LIST,
        [["legacy-crm"], ["aws"], [], None, ["LEGACY-CRM", "x"]],
        '{ none = ["legacy-crm"] }',
        [F, T, T, F, F],
    ),
    # missing: the one test a null passes
    ("employees", pl.Int64, [1, None, 0], "{ missing = true }", [F, T, F]),
    ("employees", pl.Int64, [1, None, 0], "{ missing = false }", [T, F, T]),
    ("technologies", LIST, [None, [], ["a"]], "{ missing = true }", [T, F, F]),
    ("technologies", LIST, [None, [], ["a"]], "{ missing = false }", [F, T, T]),
    ("industry", pl.String, [None, "x"], "{ missing = true }", [T, F]),
]


@pytest.mark.parametrize(("column", "dtype", "values", "written", "expected"), GOLDEN)
def test_condition_golden_cases(
    column: str, dtype: pl.DataType, values: list[Any], written: str, expected: list[bool]
) -> None:
    cond = condition(column, written)
    frame = pl.DataFrame({column: pl.Series(values, dtype=dtype)})
    assert cond.check_dtype(frame.schema[column]) is None
    assert truth(cond, frame) == expected


def test_value_shapes_pick_the_operator() -> None:
    ops = {
        '["a", "b"]': "in",
        '"a"': "equals",
        "3": "equals",
        "{ min = 1 }": "range",
        "{ max = 1 }": "range",
        '{ any = ["a"] }': "any",
        '{ all = ["a"] }': "all",
        '{ none = ["a"] }': "none",
        "{ missing = true }": "missing",
    }
    assert {w: condition("x", w).op for w in ops} == ops


def test_categorical_text_compares_case_insensitively() -> None:
    frame = pl.DataFrame(
        {"industry": pl.Series(["Software", "Retail", None], dtype=pl.Categorical)}
    )
    assert truth(condition("industry", '["SOFTWARE"]'), frame) == [T, F, F]
    assert truth(condition("industry", '"retail"'), frame) == [F, T, F]


# --- conditions inside a segment ----------------------------------------------------------

COMPANIES = pl.DataFrame(
    {
        "company_id": ["ok", "small", "no_size", "legacy", "no_tech", "public", "Public_lc"],
        "employees": [100, 5, None, 100, 100, 100, 100],
        "technologies": pl.Series(
            [["aws"], ["aws"], ["aws"], ["Legacy"], None, ["aws"], ["aws"]], dtype=LIST
        ),
        "funding_stage": [None, None, None, None, None, "Public", "public"],
    }
)


def test_include_all_must_hold_and_any_exclude_disqualifies() -> None:
    seg = segment(
        "[segments.include]\nemployees = { min = 10 }\n"
        '[segments.exclude]\ntechnologies = { any = ["legacy"] }\nfunding_stage = ["Public"]\n'
    )
    got = COMPANIES.select("company_id", eligible=seg.eligible())
    expected = pl.DataFrame(
        {
            "company_id": COMPANIES["company_id"],
            # no_size: a null never passes include; no_tech: a null never triggers exclude
            "eligible": [T, F, F, F, T, F, F],
        }
    )
    assert_frame_equal(got, expected)


def test_no_conditions_means_everyone_is_eligible() -> None:
    seg = segment("")
    got = COMPANIES.with_columns(eligible=seg.eligible())["eligible"]
    assert got.to_list() == [T] * COMPANIES.height


def test_null_never_triggers_exclude_for_any_operator() -> None:
    frame = pl.DataFrame(
        {
            "industry": pl.Series([None], dtype=pl.String),
            "employees": pl.Series([None], dtype=pl.Int64),
            "technologies": pl.Series([None], dtype=LIST),
        }
    )
    seg = segment(
        '[segments.exclude]\nindustry = ["x"]\nemployees = { max = 10 }\n'
        'technologies = { none = ["a"] }\n'
    )
    assert frame.select(seg.eligible()).item() is True
    seg = segment("[segments.exclude]\nemployees = { missing = true }\n")
    assert frame.select(seg.eligible()).item() is False


def test_score_is_the_sum_of_the_points_of_the_criteria_that_fire() -> None:
    seg = segment(
        '[[segments.score]]\nlabel = "big"\nwhen = { employees = { min = 50 } }\npoints = 3\n'
        '[[segments.score]]\nlabel = "big and modern"\n'
        'when = { employees = { min = 50 }, technologies = { any = ["aws"] } }\npoints = 2\n'
        '[[segments.score]]\nlabel = "no tech"\nwhen = { technologies = { missing = true } }\n'
        "points = -4\n"
        '[[segments.score]]\nlabel = "public"\nwhen = { funding_stage = ["public"] }\n'
        "points = -1\n"
    )
    got = COMPANIES.select("company_id", score=seg.score_expr())
    expected = pl.DataFrame(
        {
            "company_id": COMPANIES["company_id"],
            # ok 3+2; small 0; no_size 0 (null employees scores nothing); legacy 3;
            # no_tech 3-4; public 3+2-1; Public_lc 3+2-1
            "score": [5, 0, 0, 3, -1, 4, 4],
        }
    )
    assert_frame_equal(got, expected)


# --- properties against a plain-Python reading of the same rule ---------------------------

ints = st.one_of(st.none(), st.integers(-5, 5))


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(ints, min_size=1, max_size=8),
    low=ints,
    high=ints,
)
def test_range_matches_a_plain_reading(
    values: list[int | None], low: int | None, high: int | None
) -> None:
    if low is None and high is None:
        low = 0
    if low is not None and high is not None and low > high:
        low, high = high, low
    cond = Condition("x", "range", (low, high), "x")
    expected = [
        v is not None and (low is None or v >= low) and (high is None or v <= high) for v in values
    ]
    assert truth(cond, pl.DataFrame({"x": pl.Series(values, dtype=pl.Int64)})) == expected


words = st.sampled_from(["aws", "AWS", "Gong", "gong", "hubspot", "HubSpot", "x"])
lists = st.one_of(st.none(), st.lists(words, max_size=4))


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(lists, min_size=1, max_size=6),
    wanted=st.lists(words, min_size=1, max_size=3),
    op=st.sampled_from(["any", "all", "none"]),
)
def test_list_operators_match_a_plain_reading(
    values: list[list[str] | None], wanted: list[str], op: str
) -> None:
    want = {w.lower() for w in wanted}

    def holds(items: list[str] | None) -> bool:
        if items is None:
            return False
        have = {i.lower() for i in items}
        if op == "any":
            return bool(have & want)
        if op == "all":
            return want <= have
        return not have & want

    cond = Condition("t", op, tuple(wanted), "t")  # type: ignore[arg-type]
    frame = pl.DataFrame({"t": pl.Series(values, dtype=LIST)})
    assert truth(cond, frame) == [holds(v) for v in values]


texts = st.one_of(st.none(), st.sampled_from(["Software", "software", "SaaS", "retail"]))


@settings(max_examples=40, deadline=None)
@given(values=st.lists(texts, min_size=1, max_size=6), wanted=st.lists(texts, min_size=1))
def test_one_of_text_matches_a_plain_reading(
    values: list[str | None], wanted: list[str | None]
) -> None:
    chosen = tuple(w for w in wanted if w is not None) or ("retail",)
    cond = Condition("industry", "in", chosen, "industry")
    lowered = {w.lower() for w in chosen}
    expected = [v is not None and v.lower() in lowered for v in values]
    frame = pl.DataFrame({"industry": pl.Series(values, dtype=pl.String)})
    assert_series_equal(frame.select(cond.expr().alias("hit"))["hit"], pl.Series("hit", expected))
