"""The whole list build: eligibility, scores, segments, CRM, tiers, files and summary.

Small scenarios are worked out by hand in their docstrings; a property test compares the
build on random small inputs with a plain-Python evaluator of the same rules.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from listbuilder.build import build_lists
from listbuilder.errors import DataError
from tests.conftest import (
    AS_OF,
    Workspace,
    companies_frame,
    crm_frame,
    jobs_frame,
    rules_from,
    snapshot,
)

DAY = dt.timedelta(days=1)

WORKED_RULES = """
[[segments]]
name = "core"
description = "North American software"
max_accounts = 10
[segments.include]
country = ["US", "CA"]
employees = { min = 50, max = 1000 }
[segments.exclude]
funding_stage = ["Public"]
[[segments.score]]
label = "core size band"
when = { employees = { min = 50, max = 200 } }
points = 2
[[segments.score]]
label = "hiring sellers"
signal = "hiring"
departments = ["sales"]
within_days = 60
points = 1
[[segments.score]]
label = "fresh funding"
signal = "funding"
within_days = 180
round_types = ["Series A", "Series B"]
points = 2
[[segments.score]]
label = "late stage"
when = { funding_stage = ["Series D"] }
points = -1
[[segments.tiers]]
name = "Tier 1"
min_score = 4
[[segments.tiers]]
name = "Tier 2"
min_score = 2
"""


def company(cid: str, country: str | None, employees: int | None, stage: str | None) -> dict:
    return {
        "company_id": cid,
        "name": f"{cid.upper()} Corp",
        "domain": f"{cid}.example",
        "country": country,
        "employees": employees,
        "funding_stage": stage,
        "owner": f"rep-{cid}",  # an extra column: passed through
    }


WORKED_COMPANIES = [
    company("c1", "US", 120, "Series B"),  # 2 + 1 + 2 = 5: Tier 1
    company("c2", "CA", 500, "Series D"),  # 2 (funding) - 1 = 1: eligible, not qualified
    company("c3", "US", 60, None),  # 2: Tier 2
    company("c4", "US", 150, "Public"),  # excluded
    company("c5", "DE", 100, None),  # not included
    company("c6", "US", None, None),  # null employees: not included
    company("c7", "US", 900, "Series D"),  # 1 + 2 - 1 = 2: Tier 2
    company("c8", "us", 200, None),  # 2: Tier 2 (read as the ISO code US)
]
WORKED_JOBS = [
    *(
        {"company_id": "c1", "posted_date": AS_OF - k * DAY, "department": "Sales"}
        for k in (1, 2, 3)
    ),
    {"company_id": "c7", "posted_date": dt.date(2026, 10, 30), "department": "sales"},
    {"company_id": "c8", "posted_date": dt.date(2026, 10, 30), "department": "engineering"},
    {"company_id": "c5", "posted_date": dt.date(2026, 10, 30), "department": "sales"},
]
WORKED_FUNDING = [
    {
        "company_id": "c1",
        "announced_date": dt.date(2026, 9, 14),
        "round_type": "Series B",
        "amount_usd": 2e7,
    },
    {
        "company_id": "c2",
        "announced_date": dt.date(2026, 8, 1),
        "round_type": "Series A",
        "amount_usd": 1e7,
    },
    {
        "company_id": "c7",
        "announced_date": dt.date(2026, 6, 1),
        "round_type": "Series B",
        "amount_usd": 3e6,
    },
    {
        "company_id": "c3",
        "announced_date": dt.date(2026, 1, 1),
        "round_type": "Series A",
        "amount_usd": 3e6,
    },
]

LIST_COLUMNS = [
    "segment",
    "tier",
    "rank",
    "score",
    "percent",
    "fit_score",
    "intent_score",
    "reasons",
    "company_id",
    "name",
    "domain",
    "crm_account_id",
    "crm_match_method",
    "crm_match_score",
    "country",
    "employees",
    "funding_stage",
    "owner",
]


def write_worked(ws: Workspace) -> dict[str, Path]:
    return {
        "companies": ws.companies(WORKED_COMPANIES),
        "jobs": ws.jobs(WORKED_JOBS),
        "funding": ws.funding(WORKED_FUNDING),
        "rules": ws.rules(WORKED_RULES),
    }


def test_worked_example_lists_summary_and_files(ws: Workspace) -> None:
    paths = write_worked(ws)
    summary = ws.build(jobs=paths["jobs"], funding=paths["funding"])
    by_id = {c["company_id"]: c for c in WORKED_COMPANIES}
    order = [("c1", "Tier 1", 5), ("c3", "Tier 2", 2), ("c7", "Tier 2", 2), ("c8", "Tier 2", 2)]
    reasons = {
        "c1": "core size band +2; hiring sellers +1 (3 postings in 60d); "
        "fresh funding +2 (Series B, 2026-09-14)",
        "c7": "hiring sellers +1 (1 posting in 60d); fresh funding +2 (Series B, 2026-06-01); "
        "late stage -1",
        "c3": "core size band +2",
        "c8": "core size band +2",
    }
    expected = pl.DataFrame(
        {
            "segment": ["core"] * 4,
            "tier": [t for _, t, _ in order],
            "rank": [1, 2, 3, 4],
            "score": [s for _, _, s in order],
            # The positive points add up to 2 + 1 + 2 = 5; every criterion is fit.
            "percent": [s * 100 / 5 for _, _, s in order],
            "fit_score": [s for _, _, s in order],
            "intent_score": [0] * 4,
            "reasons": [reasons[c] for c, _, _ in order],
            "company_id": [c for c, _, _ in order],
            "name": [by_id[c]["name"] for c, _, _ in order],
            "domain": [by_id[c]["domain"] for c, _, _ in order],
            "crm_account_id": pl.Series([None] * 4, dtype=pl.String),
            "crm_match_method": pl.Series([None] * 4, dtype=pl.String),
            "crm_match_score": pl.Series([None] * 4, dtype=pl.Float64),
            "country": [by_id[c]["country"].upper() for c, _, _ in order],
            "employees": [by_id[c]["employees"] for c, _, _ in order],
            "funding_stage": [by_id[c]["funding_stage"] for c, _, _ in order],
            "owner": [by_id[c]["owner"] for c, _, _ in order],
        }
    )
    assert_frame_equal(ws.listed("core"), expected)

    with open(ws.out / "core.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == LIST_COLUMNS
    assert rows[1][:9] == ["core", "Tier 1", "1", "5", "100.0", "5", "0", reasons["c1"], "c1"]
    assert [r[8] for r in rows[1:]] == ["c1", "c3", "c7", "c8"]

    written = {p.name for p in ws.out.iterdir()}
    assert {"core.csv", "core.parquet", "summary.json", "suppressed.csv"} <= written
    assert summary == ws.summary()
    assert summary["as_of"] == "2026-11-01"
    rules_bytes = paths["rules"].read_bytes()
    assert summary["rules"] == {
        "path": str(paths["rules"]),
        "sha256": hashlib.sha256(rules_bytes).hexdigest(),
        "from_run": "../rules.toml",
    }
    last = {
        "jobs": pl.read_parquet(paths["jobs"])["posted_date"].max().isoformat(),
        "funding": pl.read_parquet(paths["funding"])["announced_date"].max().isoformat(),
    }
    assert summary["inputs"] == {
        role: {
            "path": str(paths[role]),
            "rows": rows_n,
            "sha256": hashlib.sha256(paths[role].read_bytes()).hexdigest(),
            "from_run": f"../{paths[role].name}",
            **({"last_date": last[role]} if role in last else {}),
            # Text columns with a parser are checked; typed columns need no check.
            **({"bad_values": {}} if role == "companies" else {}),
        }
        for role, rows_n in (("companies", 8), ("jobs", 6), ("funding", 4))
    }
    (seg,) = summary["segments"]
    assert seg["name"] == "core"
    assert seg["description"] == "North American software"
    assert seg["funnel"] == {
        "companies_read": 8,
        "eligible": 5,  # c1 c2 c3 c7 c8
        "qualified": 4,  # c2 scores 1 < 2
        "taken_by_earlier_segment": 0,
        "suppressed_by_crm": 0,
        "duplicate_domain": 0,
        "listed": 4,
        "not_listed_caps": 0,
    }
    assert seg["tiers"] == {"Tier 1": 1, "Tier 2": 3}
    assert summary["suppressed"] == 0


def test_two_builds_of_the_same_inputs_are_byte_identical(ws: Workspace) -> None:
    paths = write_worked(ws)
    crm = ws.crm([{"account_id": "A1", "name": "C3 Corp", "domain": "", "status": "prospect"}])
    first, second = ws.root / "run1", ws.root / "run2"
    for out in (first, second):
        ws.build(jobs=paths["jobs"], funding=paths["funding"], crm=crm, out=out)
    one, two = snapshot(first), snapshot(second)
    assert sorted(one) == sorted(two)
    for name in one:
        if name.endswith((".csv", ".parquet")):
            assert one[name] == two[name], name
    assert ws.listed("core", first)["crm_account_id"].to_list() == [None, "A1", None, None]


def test_directory_glob_and_csv_companies_give_the_same_list(ws: Workspace) -> None:
    rows = [
        {**company(f"k{i}", "US", 50 + 40 * i, None), "technologies": tech}
        for i, tech in enumerate([["HubSpot", "aws"], None, ["gong"], [], ["aws"]])
    ]
    ws.rules(
        """
        [[segments]]
        name = "s"
        [segments.include]
        employees = { min = 50 }
        [[segments.score]]
        label = "big"
        when = { employees = { min = 100 } }
        points = 2
        [[segments.score]]
        label = "aws"
        when = { technologies = { any = ["AWS"] } }
        points = 1
        [[segments.tiers]]
        name = "T1"
        min_score = 3
        [[segments.tiers]]
        name = "T2"
        min_score = 0
        """
    )
    single = ws.companies(rows)
    ws.companies(rows[:2], "parts/part-0.parquet")
    ws.companies(rows[2:], "parts/part-1.parquet")
    csv_path = ws.companies(rows, "companies.csv")
    ws.build(companies=single)
    expected = ws.listed("s")
    # k2 (130, gong) 2; k3 (170, []) 2; k4 (210, aws) 3; k0 (50, aws) 1; k1 (90, null) 0
    assert expected.select("company_id", "tier", "score").rows() == [
        ("k4", "T1", 3),
        ("k2", "T2", 2),
        ("k3", "T2", 2),
        ("k0", "T2", 1),
        ("k1", "T2", 0),
    ]
    assert expected["technologies"].to_list() == [["aws"], ["gong"], [], ["HubSpot", "aws"], None]
    sources = {"dir": ws.root / "parts", "glob": ws.root / "parts" / "*.parquet", "csv": csv_path}
    for kind, source in sources.items():
        out = ws.root / f"out-{kind}"
        summary = ws.build(companies=str(source), out=out)
        assert_frame_equal(ws.listed("s", out), expected)
        assert summary["inputs"]["companies"]["rows"] == 5


def test_csv_list_cells_split_on_semicolons(ws: Workspace) -> None:
    (ws.root / "companies.csv").write_text(
        "company_id,name,domain,technologies\n"
        'a,A,a.example,"HubSpot; aws"\nb,B,b.example,\nc,C,c.example,gong;;aws;\n'
        'd,D,d.example,""\n',
        encoding="utf-8",
    )
    ws.rules(
        '[[segments]]\nname = "s"\n[[segments.score]]\nlabel = "aws"\n'
        'when = { technologies = { any = ["AWS"] } }\npoints = 1\n'
        '[[segments.tiers]]\nname = "T1"\nmin_score = 0\n'
    )
    ws.build(companies=ws.root / "companies.csv")
    assert ws.listed("s").select("company_id", "score", "technologies").rows() == [
        ("a", 1, ["HubSpot", "aws"]),
        ("c", 1, ["gong", "aws"]),
        ("b", 0, None),
        ("d", 0, []),
    ]


def test_csv_inputs_keep_identifiers_as_text_and_extra_columns_can_be_tested(
    ws: Workspace,
) -> None:
    (ws.root / "companies.csv").write_text(
        "company_id,name,domain,region,seats\n"
        "007,Bond,bond.example,EMEA,12\n7,Seven,seven.example,emea,3\n"
        "0070,Other,other.example,APAC,40\n",
        encoding="utf-8",
    )
    (ws.root / "jobs.csv").write_text(
        "company_id,posted_date,title,department\n007,2026-10-31,AE,Sales\n",
        encoding="utf-8",
    )
    ws.rules(
        """
        [[segments]]
        name = "s"
        [segments.include]
        region = ["emea"]
        [[segments.score]]
        label = "hiring"
        signal = "hiring"
        within_days = 5
        points = 1
        [[segments.score]]
        label = "many seats"
        when = { seats = { min = 10 } }
        points = 1
        [[segments.tiers]]
        name = "T1"
        min_score = 0
        """
    )
    ws.build(companies=ws.root / "companies.csv", jobs=ws.root / "jobs.csv")
    got = ws.listed("s").select("company_id", "score", "reasons", "region", "seats")
    assert got.rows() == [
        ("007", 2, "hiring +1 (1 posting in 5d); many seats +1", "EMEA", 12),
        ("7", 0, "", "emea", 3),
    ]


def test_a_segment_nobody_qualifies_for_still_writes_its_files(ws: Workspace) -> None:
    ws.companies([company("c1", "US", 10, None)])
    ws.rules('[[segments]]\nname = "s"\n[[segments.tiers]]\nname = "T1"\nmin_score = 1\n')
    summary = ws.build()
    listed = ws.listed("s")
    assert listed.height == 0
    assert listed.columns == LIST_COLUMNS
    assert (ws.out / "s.csv").read_text(encoding="utf-8") == ",".join(LIST_COLUMNS) + "\n"
    assert summary["segments"][0]["funnel"]["eligible"] == 1
    assert summary["segments"][0]["funnel"]["qualified"] == 0


def test_a_successful_run_replaces_the_run_directory_whole(ws: Workspace) -> None:
    write_worked(ws)
    rules = (
        WORKED_RULES.split("[[segments.score]]")[0]
        + "[[segments.tiers]]\nname = 'T'\nmin_score = 0\n"
    )
    ws.rules(rules.replace('name = "core"', 'name = "former"'))
    ws.build()  # an earlier run, whose segment has since been renamed
    assert (ws.out / "former.csv").is_file()
    ws.rules(rules)
    ws.build()
    assert not (ws.out / "former.csv").exists()
    assert (ws.out / "core.csv").is_file()
    assert sorted(p.name for p in ws.root.iterdir() if p.name.startswith(".")) == []


def test_a_failed_run_leaves_the_run_directory_as_it_was(ws: Workspace) -> None:
    write_worked(ws)
    ws.rules(
        WORKED_RULES.split("[[segments.score]]")[0]
        + "[[segments.tiers]]\nname = 'T'\nmin_score = 0\n"
    )
    ws.build()
    before = snapshot(ws.out)
    # An extra column's type is guessed from the first 10,000 rows, so a later value of
    # another type only shows when the data is read.
    rows = "".join(f"z{i},Z,z.example,US,10,,{i}\n" for i in range(10_001))
    (ws.root / "bad.csv").write_text(
        "company_id,name,domain,country,employees,funding_stage,owner\n"
        + rows
        + "zz,Z,z.example,US,10,,alice\n",
        encoding="utf-8",
    )
    listing = sorted(p.name for p in ws.root.iterdir())
    with pytest.raises(DataError) as caught:
        ws.build(companies=ws.root / "bad.csv")
    assert str(caught.value).startswith("could not process the input data: ")
    assert snapshot(ws.out) == before
    assert sorted(p.name for p in ws.root.iterdir()) == listing


def test_a_company_column_the_lists_write_themselves_is_refused(ws: Workspace) -> None:
    ws.companies([{**company("c1", "US", 10, None), "score": 3}])
    ws.rules('[[segments]]\nname = "s"\n[[segments.tiers]]\nname = "T1"\nmin_score = 0\n')
    with pytest.raises(DataError) as caught:
        ws.build()
    assert str(caught.value) == (
        f"companies file {ws.root / 'companies.parquet'} has column(s) score, which the lists "
        "write themselves; rename them in the data or the source mapping"
    )


# --- segments: priority, caps, penalties ---------------------------------------------------

PRIORITY_RULES = """
[[segments]]
name = "first"
[segments.include]
employees = { min = 1 }
[[segments.score]]
label = "big"
when = { employees = { min = 100 } }
points = 2
[[segments.score]]
label = "american"
when = { country = "US" }
points = 1
[[segments.score]]
label = "tiny"
when = { employees = { max = 5 } }
points = -3
[[segments.tiers]]
name = "F1"
min_score = 2
max_accounts = 1
[[segments]]
name = "second"
[segments.include]
employees = { min = 1 }
[[segments.score]]
label = "any size"
when = { employees = { min = 1 } }
points = 1
[[segments.tiers]]
name = "S1"
min_score = -5
"""


def test_each_account_goes_to_the_first_segment_it_qualifies_for() -> None:
    """p, q: 3 in first; s: 2 in first; r: 1, eligible for first but below F1 (2).

    F1 holds one account, so q and s are not listed anywhere: a cap never moves an
    account to another segment. r goes to second. t: 1 + 1 - 3 = -2 is below F1 too, so
    it goes to second (-2 + ... = 1 there). u has no headcount: in no segment.
    """
    companies = companies_frame(
        [
            {"company_id": "p", "employees": 500, "country": "US"},
            {"company_id": "q", "employees": 400, "country": "US"},
            {"company_id": "r", "employees": 50, "country": "US"},
            {"company_id": "s", "employees": 200, "country": "DE"},
            {"company_id": "t", "employees": 3, "country": "US"},
            {"company_id": "u", "employees": None, "country": "US"},
        ]
    )
    result = build_lists(rules_from(PRIORITY_RULES), companies.lazy(), as_of=AS_OF)
    first, second = result.lists
    assert first.frame.select("company_id", "tier", "rank", "score").rows() == [("p", "F1", 1, 3)]
    assert second.frame.select("company_id", "tier", "rank", "score").rows() == [
        ("r", "S1", 1, 1),
        ("t", "S1", 2, 1),
    ]
    assert first.funnel == {
        "companies_read": 6,
        "eligible": 5,
        "qualified": 3,
        "taken_by_earlier_segment": 0,
        "suppressed_by_crm": 0,
        "duplicate_domain": 0,
        "listed": 1,
        "not_listed_caps": 2,
    }
    assert second.funnel == {
        "companies_read": 6,
        "eligible": 5,
        "qualified": 5,
        "taken_by_earlier_segment": 3,
        "suppressed_by_crm": 0,
        "duplicate_domain": 0,
        "listed": 2,
        "not_listed_caps": 0,
    }
    assert [(p.name, p.size) for p in first.plans] == [("F1", 1)]


def test_segment_and_tier_caps_in_a_build() -> None:
    rules = rules_from(
        """
        [[segments]]
        name = "s"
        max_accounts = 4
        [[segments.score]]
        label = "size"
        when = { employees = { min = 100 } }
        points = 1
        [[segments.score]]
        label = "very big"
        when = { employees = { min = 1000 } }
        points = 1
        [[segments.tiers]]
        name = "T1"
        min_score = 2
        max_accounts = 2
        [[segments.tiers]]
        name = "T2"
        min_score = 1
        max_accounts = 1
        [[segments.tiers]]
        name = "T3"
        min_score = 0
        """
    )
    employees = {"a": 5000, "b": 2000, "c": 1000, "d": 150, "e": 10, "f": 20}
    companies = companies_frame([{"company_id": k, "employees": v} for k, v in employees.items()])
    (sl,) = build_lists(rules, companies.lazy(), as_of=AS_OF).lists
    # a, b fill T1; c (2) overflows to T2 and fills it; d (1) overflows to T3;
    # e and f (0) would go to T3 but the segment holds 4 accounts.
    assert sl.frame.select("company_id", "tier", "rank").rows() == [
        ("a", "T1", 1),
        ("b", "T1", 2),
        ("c", "T2", 3),
        ("d", "T3", 4),
    ]
    assert sl.funnel["not_listed_caps"] == 2


# --- the CRM ------------------------------------------------------------------------------

CRM_RULES = """
{crm}
[[segments]]
name = "a"
[segments.include]
country = ["US"]
[[segments.score]]
label = "american"
when = {{ country = "US" }}
points = 1
[[segments.tiers]]
name = "T1"
min_score = 1
[[segments]]
name = "b"
[[segments.score]]
label = "sized"
when = {{ employees = {{ min = 1 }} }}
points = 1
[[segments.tiers]]
name = "T1"
min_score = 1
"""
CRM_COMPANIES = [
    {"company_id": "acme", "name": "Acme Rockets", "domain": "acme.io"},
    {"company_id": "zebra", "name": "Zebra Logistics", "domain": "zebra-logistics.com"},
    {"company_id": "quill", "name": "Quill Pharmacy", "domain": "quill.health"},
    {"company_id": "orbit", "name": "Orbit Bakery", "domain": "orbitbakery.fr"},
    {"company_id": "lone", "name": "Lonely Penguin Studio", "domain": "penguin.studio"},
    {"company_id": "glacier", "name": "Glacier Mining", "domain": None},
]
CRM_ACCOUNTS = [
    # the same domain written as a URL; a name the company does not use
    {
        "account_id": "A1",
        "name": "ARX legacy import 2019",
        "domain": "https://www.Acme.io/pricing/",
        "status": "customer",
    },
    # the exact same name, no domain
    {"account_id": "A2", "name": "Zebra Logistics", "domain": "", "status": "prospect"},
    {"account_id": "A3", "name": "Quill Pharmacy", "domain": None, "status": "open_opportunity"},
    {
        "account_id": "A4",
        "name": "Boulangerie Orbite",
        "domain": "http://orbitbakery.fr",
        "status": "churned",
    },
    # unrelated accounts match nothing, and an empty domain never matches an empty domain
    {
        "account_id": "A5",
        "name": "Northwind Traders",
        "domain": "northwind.com",
        "status": "customer",
    },
    {"account_id": "A6", "name": "Harbor Analytics", "domain": "", "status": "customer"},
]


def crm_build(exclude: str = "") -> tuple[list[Any], pl.DataFrame]:
    companies = companies_frame(
        [{**c, "country": "US", "employees": 10} for c in CRM_COMPANIES]
        + [
            {
                "company_id": "berg",
                "name": "Bergsteiger Werke",
                "domain": "berg.de",
                "country": "DE",
                "employees": 10,
            }
        ]
    )
    result = build_lists(
        rules_from(CRM_RULES.format(crm=exclude)),
        companies.lazy(),
        as_of=AS_OF,
        crm=crm_frame(CRM_ACCOUNTS),
    )
    return result.lists, result.suppressed


def test_crm_customers_and_open_opportunities_are_suppressed_everywhere() -> None:
    (a, b), suppressed = crm_build()
    assert a.frame.select("company_id", "crm_account_id", "crm_match_method").rows() == [
        ("glacier", None, None),
        ("lone", None, None),
        ("orbit", "A4", "domain"),
        ("zebra", "A2", "name"),
    ]
    assert a.frame["rank"].to_list() == [1, 2, 3, 4]
    # acme would qualify for b as well; a suppressed account is in no list
    assert b.frame["company_id"].to_list() == ["berg"]
    assert suppressed.select(
        "company_id", "segment", "crm_account_id", "crm_status", "crm_match_method"
    ).rows() == [
        ("acme", "a", "A1", "customer", "domain"),
        ("quill", "a", "A3", "open_opportunity", "name"),
    ]
    assert (a.funnel["qualified"], a.funnel["suppressed_by_crm"], a.funnel["listed"]) == (6, 2, 4)
    assert (b.funnel["taken_by_earlier_segment"], b.funnel["suppressed_by_crm"]) == (6, 0)


def test_crm_exclude_status_is_configurable() -> None:
    (a, _), suppressed = crm_build('[crm]\nexclude_status = ["Churned"]\n')
    assert a.frame.select("company_id", "crm_account_id").rows() == [
        ("acme", "A1"),
        ("glacier", None),
        ("lone", None),
        ("quill", "A3"),
        ("zebra", "A2"),
    ]
    assert suppressed["company_id"].to_list() == ["orbit"]


def test_a_customer_among_several_matches_suppresses() -> None:
    companies = companies_frame(
        [
            {"company_id": "a", "name": "Acme Rockets", "domain": "https://www.acme.io/"},
            {"company_id": "b", "name": "Zephyr Kites", "domain": "zephyr-kites.com"},
        ]
    )
    crm = crm_frame(
        [
            {"account_id": "P", "name": "Acme Rockets", "domain": "", "status": "prospect"},
            {"account_id": "C", "name": "ACR old", "domain": "ACME.io", "status": "Customer"},
            {
                "account_id": "Z",
                "name": "Zephyr Kites",
                "domain": "zephyr-kites.com",
                "status": "prospect",
            },
        ]
    )
    rules = rules_from('[[segments]]\nname = "s"\n[[segments.tiers]]\nname = "T"\nmin_score = 0\n')
    result = build_lists(rules, companies.lazy(), as_of=AS_OF, crm=crm)
    assert result.lists[0].frame.select("company_id", "crm_account_id").rows() == [("b", "Z")]
    assert result.suppressed.select("company_id", "crm_account_id", "crm_status").rows() == [
        ("a", "C", "Customer")
    ]


def test_one_company_per_registrable_domain_is_listed() -> None:
    # a, b and d are one organisation's records; c has no domain, e another one.
    companies = companies_frame(
        [
            {"company_id": "a", "name": "Acme", "domain": "shop.acme.co.uk", "employees": 5},
            {
                "company_id": "b",
                "name": "Acme Ltd",
                "domain": "https://www.acme.co.uk/",
                "employees": 50,
            },
            {"company_id": "c", "name": "Nodomain", "domain": None, "employees": 50},
            {"company_id": "d", "name": "ACME", "domain": "ACME.CO.UK", "employees": 50},
            {"company_id": "e", "name": "Other", "domain": "other.com", "employees": 5},
        ]
    )
    rules = rules_from(
        '[[segments]]\nname = "s"\n[[segments.score]]\nlabel = "big"\n'
        "when = { employees = { min = 10 } }\npoints = 1\n"
        '[[segments.tiers]]\nname = "T"\nmin_score = 0\n'
    )
    result = build_lists(rules, companies.lazy(), as_of=AS_OF)
    # Ranked b, c, d (score 1) then a, e (score 0): b is acme.co.uk's best-ranked record.
    assert result.lists[0].frame["company_id"].to_list() == ["b", "c", "e"]
    assert result.lists[0].frame["rank"].to_list() == [1, 2, 3]
    assert result.lists[0].funnel["duplicate_domain"] == 2
    duplicates = result.accounts.filter(pl.col("status") == "duplicate")
    assert sorted(duplicates["company_id"].to_list()) == ["a", "d"]


def test_suppressed_csv_says_who_was_removed_and_why(ws: Workspace) -> None:
    ws.companies([{**c, "country": "US", "employees": 10} for c in CRM_COMPANIES])
    crm = ws.crm(CRM_ACCOUNTS)
    ws.rules(CRM_RULES.format(crm=""))
    summary = ws.build(crm=crm)
    with open(ws.out / "suppressed.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (r["company_id"], r["crm_account_id"], r["crm_status"], r["crm_match_method"]) for r in rows
    ] == [("acme", "A1", "customer", "domain"), ("quill", "A3", "open_opportunity", "name")]
    assert summary["suppressed"] == 2
    assert summary["inputs"]["crm"]["rows"] == 6
    assert summary["inputs"]["crm"]["sha256"] == hashlib.sha256(crm.read_bytes()).hexdigest()


# --- the whole build against a plain-Python evaluator ----------------------------------------

PROPERTY_RULES = """
[[segments]]
name = "first"
{max1}
[segments.include]
country = ["US", "CA"]
employees = {{ min = 10 }}
[segments.exclude]
technologies = {{ any = ["legacy"] }}
[[segments.score]]
label = "big"
when = {{ employees = {{ min = 100 }} }}
points = 2
[[segments.score]]
label = "modern"
when = {{ technologies = {{ any = ["hubspot"] }} }}
points = 1
[[segments.score]]
label = "no tech"
when = {{ technologies = {{ missing = true }} }}
points = -1
[[segments.score]]
label = "hiring sellers"
signal = "hiring"
departments = ["Sales"]
within_days = 30
min_count = 2
points = 2
[[segments.tiers]]
name = "A"
min_score = 4
{cap_a}
[[segments.tiers]]
name = "B"
min_score = 2
{cap_b}
[[segments.tiers]]
name = "C"
min_score = 0
{cap_c}
[[segments]]
name = "second"
{max2}
[segments.include]
employees = {{ max = 500 }}
[[segments.score]]
label = "american"
when = {{ country = "us" }}
points = 1
[[segments.score]]
label = "any hiring"
signal = "hiring"
within_days = 10
points = 1
[[segments.tiers]]
name = "X"
min_score = 2
{cap_x}
[[segments.tiers]]
name = "Y"
min_score = 1
"""
NAMES = [
    "Acme Rockets",
    "Zebra Logistics",
    "Quill Pharmacy",
    "Orbit Bakery",
    "Lonely Penguin Studio",
    "Glacier Mining",
    "Bergsteiger Werke",
    "Copper Kettle Foods",
    "Nimbus Aviation",
    "Saffron Textiles",
    "Tundra Robotics",
    "Velvet Acoustics",
]
EXCLUDED = {"customer", "open_opportunity"}


def reference_build(
    rows: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    crm: dict[str, str],
    caps: dict[str, int | None],
) -> dict[str, Any]:
    """The rules above, read literally, one company at a time."""

    def postings(cid: str, days: int, dept: str | None) -> int:
        return sum(
            1
            for j in jobs
            if j["company_id"] == cid
            and AS_OF - days * DAY <= j["posted_date"] <= AS_OF
            and (dept is None or (j["department"] or "").lower() == dept)
        )

    def has(tech: list[str] | None, word: str) -> bool:
        return tech is not None and any(t.lower() == word for t in tech)

    evaluated = []
    for r in rows:
        emp, country, tech = r["employees"], r["country"], r["technologies"]
        c = (country or "").lower() or None
        elig1 = c in ("us", "ca") and emp is not None and emp >= 10 and not has(tech, "legacy")
        score1 = (
            2 * (emp is not None and emp >= 100)
            + has(tech, "hubspot")
            - (tech is None)
            + 2 * (postings(r["company_id"], 30, "sales") >= 2)
        )
        elig2 = emp is not None and emp <= 500
        score2 = (c == "us") + (postings(r["company_id"], 10, None) >= 1)
        qual1, qual2 = elig1 and score1 >= 0, elig2 and score2 >= 1
        seg = 0 if qual1 else 1 if qual2 else None
        evaluated.append((r["company_id"], seg, (score1, score2), (elig1, elig2), (qual1, qual2)))

    tiers = [
        [("A", 4, caps["a"]), ("B", 2, caps["b"]), ("C", 0, caps["c"])],
        [("X", 2, caps["x"]), ("Y", 1, None)],
    ]
    out: dict[str, Any] = {"suppressed": set(), "lists": [], "funnels": []}
    for i in range(2):
        mine = [(cid, scores[i]) for cid, seg, scores, _, _ in evaluated if seg == i]
        suppressed = {cid for cid, _ in mine if crm.get(cid) in EXCLUDED}
        out["suppressed"] |= suppressed
        taken = {name: 0 for name, _, _ in tiers[i]}
        placed = []
        limit = caps["max1"] if i == 0 else caps["max2"]
        for cid, score in sorted(mine, key=lambda m: (-m[1], m[0])):
            if cid in suppressed or (limit is not None and len(placed) >= limit):
                continue
            for name, low, cap in tiers[i]:
                if score >= low and (cap is None or taken[name] < cap):
                    taken[name] += 1
                    placed.append((cid, name, score, crm.get(cid) and f"A-{cid}"))
                    break
        order = {name: k for k, (name, _, _) in enumerate(tiers[i])}
        placed.sort(key=lambda p: order[p[1]])
        out["lists"].append([(cid, t, k + 1, s, a) for k, (cid, t, s, a) in enumerate(placed)])
        out["funnels"].append(
            (
                sum(e[3][i] for e in evaluated),
                sum(e[4][i] for e in evaluated),
                len(suppressed),
                len(placed),
            )
        )
    return out


caps_st = st.one_of(st.none(), st.integers(1, 4))


@st.composite
def build_inputs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, len(NAMES)))
    rows = [
        {
            "company_id": f"c{k:02d}",
            "name": NAMES[k],
            "domain": NAMES[k].lower().replace(" ", "-") + ".com",
            "country": draw(st.sampled_from(["US", "us", "CA", "DE", None])),
            "employees": draw(st.sampled_from([None, 5, 10, 99, 100, 500, 501])),
            "technologies": draw(
                st.sampled_from([None, [], ["HubSpot"], ["legacy"], ["hubspot", "LEGACY"], ["aws"]])
            ),
        }
        for k in range(n)
    ]
    jobs = [
        {
            "company_id": f"c{draw(st.integers(0, max(n - 1, 0))):02d}",
            "posted_date": AS_OF - draw(st.integers(-3, 35)) * DAY,
            "department": draw(st.sampled_from(["Sales", "sales", "eng", None])),
        }
        for _ in range(draw(st.integers(0, 3 * n)))
    ]
    crm = {
        r["company_id"]: draw(
            st.sampled_from(["customer", "prospect", "open_opportunity", "churned"])
        )
        for r in rows
        if draw(st.booleans())
    }
    caps = {k: draw(caps_st) for k in ("a", "b", "c", "x")}
    caps |= {"max1": draw(st.one_of(st.none(), st.integers(1, 6))), "max2": draw(caps_st)}
    shuffled = list(rows)
    random.Random(draw(st.integers(0, 1000))).shuffle(shuffled)
    return {"rows": shuffled, "jobs": jobs, "crm": crm, "caps": caps}


def cap_line(key: str, value: int | None) -> str:
    return f"{key} = {value}" if value is not None else ""


@settings(max_examples=40, deadline=None)
@given(build_inputs())
def test_build_matches_a_plain_evaluation_of_the_rules(inputs: dict[str, Any]) -> None:
    caps = inputs["caps"]
    rules = rules_from(
        PROPERTY_RULES.format(
            max1=cap_line("max_accounts", caps["max1"]),
            max2=cap_line("max_accounts", caps["max2"]),
            **{f"cap_{k}": cap_line("max_accounts", caps[k]) for k in ("a", "b", "c", "x")},
        )
    )
    by_id = {r["company_id"]: r for r in inputs["rows"]}
    crm_rows = [
        {
            "account_id": f"A-{cid}",
            "name": by_id[cid]["name"],
            "domain": f"https://www.{by_id[cid]['domain']}/about",
            "status": status,
        }
        for cid, status in inputs["crm"].items()
    ]
    result = build_lists(
        rules,
        companies_frame(inputs["rows"]).lazy(),
        as_of=AS_OF,
        jobs=jobs_frame(inputs["jobs"]).lazy(),
        crm=crm_frame(crm_rows),
    )
    expected = reference_build(inputs["rows"], inputs["jobs"], inputs["crm"], caps)
    for i, sl in enumerate(result.lists):
        got = sl.frame.select("company_id", "tier", "rank", "score", "crm_account_id").rows()
        assert got == expected["lists"][i]
        f = sl.funnel
        assert (f["eligible"], f["qualified"], f["suppressed_by_crm"], f["listed"]) == expected[
            "funnels"
        ][i]
        assert f["companies_read"] == len(inputs["rows"])
    assert set(result.suppressed["company_id"].to_list()) == expected["suppressed"]
