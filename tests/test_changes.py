"""Two consecutive runs: change classification, reasons, stickiness, summary counts.

The scenario is small enough to work out by hand. Rules: segment `a` takes US companies,
`big` (employees >= 100) scores +3 and `hiring` (a posting in the last 30 days) +2;
tiers T1 >= 5 (stickiness 2), T2 >= 3, T3 >= 1. Segment `b` takes DE companies, +1 for
any headcount, one tier at 1. Run 1 is as of 2026-10-01, run 2 as of 2026-11-01.

| id | run 1 | run 2 | expected change in `a` |
| -- | ----- | ----- | ---------------------- |
| c1 | 150, US, no recent posting: 3, T2 | posting 10-20: 5, T1 | tier_up (new: hiring) |
| c2 | 150, US, posting 09-15: 5, T1 | 3, held by stickiness | held |
| c3 | null headcount, posting 09-15: 2, T3 | 0 | dropped (below T3: 0 < 1) |
| c4 | 150, US: 3, T2 | CRM now says customer | dropped (now a customer) |
| c5 | 150, DE: segment b | same | none |
| c6 | 50, US: 0, not listed | posting 10-20: 2, T3 | added (new: hiring) |
| c7 | 150, US: 3, T2 | moved to DE: segment b | moved_segment |
| c8 | 150, US, postings 09-15 & 10-20: 5, T1 | headcount now 50: 2, T3 | tier_down (drop 3 > 2) |
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from listbuilder.build import load_previous
from listbuilder.errors import DataError
from listbuilder.outputs import run_build

RULES = """
[[segments]]
name = "a"
[segments.include]
country = ["US"]
[[segments.score]]
label = "big"
when = { employees = { min = 100 } }
points = 3
[[segments.score]]
label = "hiring"
signal = "hiring"
within_days = 30
points = 2
[[segments.tiers]]
name = "T1"
min_score = 5
stickiness = 2
[[segments.tiers]]
name = "T2"
min_score = 3
[[segments.tiers]]
name = "T3"
min_score = 1

[[segments]]
name = "b"
[segments.include]
country = ["DE"]
[[segments.score]]
label = "any size"
when = { employees = { min = 1 } }
points = 1
[[segments.tiers]]
name = "T1"
min_score = 1
"""

IDS = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]
RUN1_EMPLOYEES = [150, 150, None, 150, 150, 50, 150, 150]
RUN1_COUNTRY = ["US", "US", "US", "US", "DE", "US", "US", "US"]
POSTINGS = [
    ("c1", dt.date(2026, 10, 20)),
    ("c2", dt.date(2026, 9, 15)),
    ("c3", dt.date(2026, 9, 15)),
    ("c6", dt.date(2026, 10, 20)),
    ("c8", dt.date(2026, 9, 15)),
    ("c8", dt.date(2026, 10, 20)),
]


def write_inputs(
    root: Path, employees: list[int | None], country: list[str], crm_status: str
) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "company_id": IDS,
            "name": [f"Company {i}" for i in IDS],
            "domain": [f"{i}-example.com" for i in IDS],
            "employees": employees,
            "country": country,
        },
        schema_overrides={"employees": pl.Int64},
    ).write_parquet(root / "companies.parquet")
    pl.DataFrame(
        {"company_id": [p[0] for p in POSTINGS], "posted_date": [p[1] for p in POSTINGS]}
    ).write_parquet(root / "jobs.parquet")
    pl.DataFrame(
        {
            "account_id": ["A4"],
            "name": ["Company c4"],
            "domain": ["https://www.c4-example.com/"],
            "status": [crm_status],
        }
    ).write_csv(root / "crm.csv")
    (root / "rules.toml").write_text(RULES)
    return {
        "companies_path": root / "companies.parquet",
        "jobs_path": root / "jobs.parquet",
        "crm_path": root / "crm.csv",
        "rules_path": root / "rules.toml",
    }


# The same two runs on each embedded engine: stickiness, suppression and tiers are placed
# by DuckDB's window functions there, and must give the answer worked out above.
@pytest.fixture(params=["polars", "duckdb"])
def two_runs(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, Path, dict]:
    engine = request.param
    if engine != "polars":
        pytest.importorskip(engine)
    first = write_inputs(tmp_path / "m1", RUN1_EMPLOYEES, RUN1_COUNTRY, "prospect")
    run_build(**first, as_of=dt.date(2026, 10, 1), out=tmp_path / "run1", engine=engine)
    employees = list(RUN1_EMPLOYEES)
    employees[7] = 50  # c8 shrinks
    country = list(RUN1_COUNTRY)
    country[6] = "DE"  # c7 moves
    second = write_inputs(tmp_path / "m2", employees, country, "customer")
    summary = run_build(
        **second,
        as_of=dt.date(2026, 11, 1),
        out=tmp_path / "run2",
        previous_path=tmp_path / "run1",
        engine=engine,
    )
    return tmp_path / "run1", tmp_path / "run2", summary


def read_changes(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["company_id"]: row for row in csv.DictReader(handle)}


def test_first_run_lists_are_as_worked_out(two_runs: tuple[Path, Path, dict]) -> None:
    run1, _, _ = two_runs
    a = pl.read_parquet(run1 / "a.parquet")
    assert a.select("company_id", "tier", "score").rows() == [
        ("c2", "T1", 5),
        ("c8", "T1", 5),
        ("c1", "T2", 3),
        ("c4", "T2", 3),
        ("c7", "T2", 3),
        ("c3", "T3", 2),
    ]
    assert pl.read_parquet(run1 / "b.parquet")["company_id"].to_list() == ["c5"]


def test_second_run_lists_apply_stickiness(two_runs: tuple[Path, Path, dict]) -> None:
    _, run2, _ = two_runs
    a = pl.read_parquet(run2 / "a.parquet")
    # c2 scores 3 now (T2 on merit) but T1 has stickiness 2 and it fell by exactly 2.
    assert a.select("company_id", "tier", "score", "rank").rows() == [
        ("c1", "T1", 5, 1),
        ("c2", "T1", 3, 2),
        ("c6", "T3", 2, 3),
        ("c8", "T3", 2, 4),
    ]
    assert pl.read_parquet(run2 / "b.parquet")["company_id"].to_list() == ["c5", "c7"]
    accounts = pl.read_parquet(run2 / "accounts.parquet")
    held = accounts.filter(pl.col("held"))["company_id"].to_list()
    assert held == ["c2"]


def test_changes_are_classified_with_reasons(two_runs: tuple[Path, Path, dict]) -> None:
    _, run2, _ = two_runs
    a = read_changes(run2 / "a.changes.csv")
    assert {k: v["change"] for k, v in a.items()} == {
        "c1": "tier_up",
        "c2": "held",
        "c3": "dropped",
        "c4": "dropped",
        "c6": "added",
        "c7": "moved_segment",
        "c8": "tier_down",
    }
    assert a["c1"]["reason"] == "new: hiring +2 (1 posting in 30d)"
    assert (a["c1"]["previous_tier"], a["c1"]["current_tier"]) == ("T2", "T1")
    assert a["c2"]["reason"] == "held in T1 by stickiness: score 3 (was 5, allowance 2)"
    assert a["c2"]["held_by_stickiness"] == "true"
    assert a["c3"]["reason"] == "below T3 threshold: 0 < 1; no longer: hiring +2"
    assert a["c4"]["reason"] == "now a customer in the CRM"
    assert a["c6"]["reason"] == "new: hiring +2 (1 posting in 30d)"
    assert (a["c6"]["previous_tier"], a["c6"]["current_tier"]) == ("", "T3")
    assert a["c7"]["reason"] == "moved to b"
    assert (a["c7"]["previous_segment"], a["c7"]["current_segment"]) == ("a", "b")
    assert a["c8"]["reason"] == "employees now 50 (was 150); no longer: big +3"
    assert (a["c8"]["previous_score"], a["c8"]["current_score"]) == ("5", "2")
    b = read_changes(run2 / "b.changes.csv")
    assert {k: v["change"] for k, v in b.items()} == {"c7": "moved_segment"}
    assert b["c7"]["reason"] == "moved from a; country now DE (was US)"
    assert {row["rules_changed"] for row in [*a.values(), *b.values()]} == {"false"}


def test_summary_counts_changes(two_runs: tuple[Path, Path, dict]) -> None:
    _, run2, summary = two_runs
    assert summary["changes"]["a"] == {
        "added": 1,
        "dropped": 2,
        "tier_up": 1,
        "tier_down": 1,
        "moved_segment": 1,
        "held": 1,
    }
    assert summary["changes"]["b"]["moved_segment"] == 1
    assert sum(summary["changes"]["b"].values()) == 1
    on_disk = json.loads((run2 / "summary.json").read_text())
    assert on_disk["changes"] == summary["changes"]
    assert on_disk["previous"]["as_of"] == "2026-10-01"
    assert on_disk["previous"]["rules_changed"] is False


def test_changed_rules_are_flagged_and_still_diffed(tmp_path: Path) -> None:
    first = write_inputs(tmp_path / "m1", RUN1_EMPLOYEES, RUN1_COUNTRY, "prospect")
    run_build(**first, as_of=dt.date(2026, 10, 1), out=tmp_path / "run1")
    second = write_inputs(tmp_path / "m2", RUN1_EMPLOYEES, RUN1_COUNTRY, "customer")
    (tmp_path / "m2" / "rules.toml").write_text(RULES + "\n# edited\n")
    summary = run_build(
        **second, as_of=dt.date(2026, 10, 1), out=tmp_path / "run2", previous_path=tmp_path / "run1"
    )
    assert summary["previous"]["rules_changed"] is True
    rows = read_changes(tmp_path / "run2" / "a.changes.csv")
    assert rows["c4"]["change"] == "dropped"
    assert rows["c4"]["rules_changed"] == "true"


def test_without_stickiness_the_account_drops_a_tier(tmp_path: Path) -> None:
    first = write_inputs(tmp_path / "m1", RUN1_EMPLOYEES, RUN1_COUNTRY, "prospect")
    for paths in (first,):
        paths["rules_path"].write_text(RULES.replace("stickiness = 2\n", ""))
    run_build(**first, as_of=dt.date(2026, 10, 1), out=tmp_path / "run1")
    summary = run_build(
        **first, as_of=dt.date(2026, 11, 1), out=tmp_path / "run2", previous_path=tmp_path / "run1"
    )
    rows = read_changes(tmp_path / "run2" / "a.changes.csv")
    assert rows["c2"]["change"] == "tier_down"
    assert rows["c2"]["reason"] == "no longer: hiring +2"
    assert summary["changes"]["a"]["held"] == 0


def test_not_a_run_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"is not a run directory: it has no summary.json"):
        load_previous(tmp_path / "empty")


# --- reasons a plain diff of criteria cannot give -----------------------------------------

CAPPED_RULES = """
[[segments]]
name = "s"
[segments.include]
country = ["US"]
[[segments.score]]
label = "big"
when = { employees = { min = 100 } }
points = 3
[[segments.score]]
label = "hiring"
signal = "hiring"
within_days = 30
points = 2
[[segments.tiers]]
name = "T1"
min_score = 3
max_accounts = 1
[[segments.tiers]]
name = "T2"
min_score = 2
"""


def month(
    root: Path,
    companies: dict[str, int],
    postings: list[tuple[str, dt.date]],
    as_of: dt.date,
    previous: Path | None = None,
) -> dict[str, dict[str, str]]:
    """One monthly run of CAPPED_RULES on US companies (id -> employees); its changes."""
    root.mkdir(parents=True)
    ids = sorted(companies)
    pl.DataFrame(
        {
            "company_id": ids,
            "name": ids,
            "domain": [f"{i}-example.com" for i in ids],
            "employees": [companies[i] for i in ids],
            "country": ["US"] * len(ids),
        },
        schema_overrides={"employees": pl.Int64},
    ).write_parquet(root / "companies.parquet")
    pl.DataFrame(
        {"company_id": [p[0] for p in postings], "posted_date": [p[1] for p in postings]},
        schema={"company_id": pl.String, "posted_date": pl.Date},
    ).write_parquet(root / "jobs.parquet")
    (root / "rules.toml").write_text(CAPPED_RULES)
    run_build(
        rules_path=root / "rules.toml",
        companies_path=root / "companies.parquet",
        jobs_path=root / "jobs.parquet",
        as_of=as_of,
        out=root / "run",
        previous_path=previous,
    )
    changes = root / "run" / "s.changes.csv"
    return read_changes(changes) if changes.exists() else {}


OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def test_a_tier_that_filled_up_explains_a_move_with_the_same_score(tmp_path: Path) -> None:
    # October: x2 alone scores 3 and takes T1's one seat. November: x1 arrives with the
    # same score and wins the tie on its id, so x2 drops to T2 with its score unchanged.
    month(tmp_path / "oct", {"x2": 150}, [], OCT)
    nov = month(tmp_path / "nov", {"x1": 150, "x2": 150}, [], NOV, tmp_path / "oct" / "run")
    assert nov["x2"]["change"] == "tier_down"
    assert (nov["x2"]["previous_score"], nov["x2"]["current_score"]) == ("3", "3")
    assert nov["x2"]["reason"] == "T1 full (cap 1): ranked 2nd"
    assert nov["x1"]["change"] == "added"
    assert nov["x1"]["reason"] == (
        "not a candidate for s last time: not in the data, or its includes did not hold; "
        "new: big +3"
    )
    # December: x1 leaves the data, and x2 gets the seat back.
    dec = month(tmp_path / "dec", {"x2": 150}, [], dt.date(2026, 12, 1), tmp_path / "nov" / "run")
    assert dec["x2"]["change"] == "tier_up"
    assert dec["x2"]["reason"] == "room in T1 (cap 1): ranked 1st, was 2nd"
    assert dec["x1"]["reason"] == "no longer in the company data"


def test_an_account_added_for_a_new_headcount_says_so(tmp_path: Path) -> None:
    # y1 is a US company of 50 in October (score 0: a candidate that does not qualify);
    # in November its headcount is 150. Re-evaluating October with November's headcount
    # would find `big` then too and give no reason at all.
    month(tmp_path / "oct", {"y1": 50, "y2": 150}, [], OCT)
    nov = month(tmp_path / "nov", {"y1": 150, "y2": 150}, [], NOV, tmp_path / "oct" / "run")
    assert nov["y1"]["change"] == "added"
    assert nov["y1"]["reason"] == "employees now 150 (was 50); new: big +3"


def test_an_added_account_is_explained_by_what_rose(tmp_path: Path) -> None:
    # z1 (50 people) was hiring in September: score 2, T2. In November the posting is out
    # of the window but z1 has grown to 150: score 3. It lost `hiring` and gained `big`;
    # its rise into T1 is explained by `big`, not by the criterion it lost.
    postings = [("z1", dt.date(2026, 9, 20))]
    month(tmp_path / "oct", {"z1": 50}, postings, OCT)
    nov = month(tmp_path / "nov", {"z1": 150}, postings, NOV, tmp_path / "oct" / "run")
    assert nov["z1"]["change"] == "tier_up"
    assert nov["z1"]["reason"] == "employees now 150 (was 50); new: big +3"
    # w1 is new in the data in November. Re-evaluated as of October on November's data it
    # was hiring then; "no longer: hiring" would explain a fall, not why it was added.
    month(tmp_path / "oct2", {"w2": 150}, [], OCT)
    nov2 = month(
        tmp_path / "nov2",
        {"w1": 150},
        [("w1", dt.date(2026, 9, 20))],
        NOV,
        tmp_path / "oct2" / "run",
    )
    assert nov2["w1"]["change"] == "added"
    assert nov2["w1"]["reason"] == (
        "not a candidate for s last time: not in the data, or its includes did not hold; "
        "new: big +3"
    )
