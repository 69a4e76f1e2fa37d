"""`listbuilder explain`: why an account is on a list or not, condition by condition.

One small dataset holds an account for each outcome: listed, excluded, suppressed by the
CRM, below the lowest tier, not eligible, taken by an earlier segment, and left off by a
cap. Every expectation follows from the rules and rows written here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from listbuilder.evidence import Explanation, SegmentOutcome, explain_company
from listbuilder.inputs import read_source
from tests.conftest import AS_OF, Workspace, assert_cli_error, invoke

RULES = """
[crm]
exclude_status = ["customer"]

[[segments]]
name = "core"
max_accounts = 2
[segments.include]
industry = ["software"]
[segments.exclude]
funding_stage = ["Public"]
[[segments.score]]
label = "mid size"
when = { employees = { min = 50, max = 500 } }
points = 2
[[segments.score]]
label = "hiring sellers"
signal = "hiring"
departments = ["sales"]
within_days = 30
points = 1
[[segments.tiers]]
name = "Tier 1"
min_score = 3
[[segments.tiers]]
name = "Tier 2"
min_score = 2

[[segments]]
name = "anywhere_us"
[segments.include]
country = ["US"]
[[segments.tiers]]
name = "Tier 1"
min_score = 0
"""
COMPANIES = [
    # Score 3 (mid size, a sales posting 10 days ago): core Tier 1, rank 1.
    {"company_id": "C1", "name": "Listed Co", "domain": "listedco.com", "industry": "software",
     "employees": 100, "country": "US"},
    # Public: excluded from core; US, so listed in anywhere_us.
    {"company_id": "C2", "name": "Public Co", "domain": "publicco.com", "industry": "software",
     "employees": 100, "country": "US", "funding_stage": "Public"},
    # A customer in the CRM: qualifies for core but is suppressed.
    {"company_id": "C3", "name": "Customer Co", "domain": "customerco.com",
     "industry": "software", "employees": 120, "country": "GB"},
    # 10 people: eligible for core, score 0, below Tier 2's 2; GB: not anywhere_us.
    {"company_id": "C4", "name": "Small Co", "domain": "smallco.com", "industry": "software",
     "employees": 10, "country": "GB"},
    # Score 2 twice: one place left under core's cap of 2, taken by the lower id.
    {"company_id": "C5", "name": "Second Co", "domain": "secondco.com",
     "industry": "software", "employees": 200, "country": "DE"},
    {"company_id": "C6", "name": "Third Co", "domain": "thirdco.com", "industry": "software",
     "employees": 300, "country": "DE"},
    # Two companies of one name, for the ambiguous lookup.
    {"company_id": "C7", "name": "Twin Co", "domain": "twinco.com", "industry": "retail"},
    {"company_id": "C8", "name": "Twin Co", "domain": "twin-otherco.com",
     "industry": "retail"},
]  # fmt: skip
JOBS = [
    {"company_id": "C1", "posted_date": AS_OF - dt.timedelta(days=10), "department": "sales",
     "title": "Account Executive"},
    {"company_id": "C1", "posted_date": AS_OF + dt.timedelta(days=1), "department": "sales",
     "title": "Too Late"},
    {"company_id": "C4", "posted_date": AS_OF - dt.timedelta(days=31), "department": "sales",
     "title": "Too Early"},
]  # fmt: skip
CRM = [
    {"account_id": "A3", "name": "Customer Co Ltd", "domain": "https://customerco.com/",
     "status": "customer"},
    {"account_id": "A1", "name": "Listed Co", "domain": "listedco.com", "status": "prospect"},
]  # fmt: skip


@pytest.fixture
def inputs(ws: Workspace) -> dict[str, Path]:
    return {
        "companies": ws.companies(COMPANIES),
        "jobs": ws.jobs(JOBS),
        "crm": ws.crm(CRM),
        "rules": ws.rules(RULES),
    }


def explain(inputs: dict[str, Path], query: str) -> Explanation:
    from listbuilder.rules.reader import load_rules

    return explain_company(
        query,
        load_rules(inputs["rules"]),
        read_source(inputs["companies"], "companies"),
        as_of=AS_OF,
        jobs=read_source(inputs["jobs"], "jobs"),
        crm=read_source(inputs["crm"], "crm"),
    )


def segment(e: Explanation, name: str) -> SegmentOutcome:
    return next(s for s in e.segments if s.name == name)


def cli_args(inputs: dict[str, Path]) -> list[str]:
    return [
        "--rules",
        str(inputs["rules"]),
        "--companies",
        str(inputs["companies"]),
        "--jobs",
        str(inputs["jobs"]),
        "--crm",
        str(inputs["crm"]),
        "--as-of",
        AS_OF.isoformat(),
    ]


def test_listed_account(inputs: dict[str, Path]) -> None:
    e = explain(inputs, "C1")
    core = segment(e, "core")
    assert (core.outcome, core.tier, core.rank, core.score) == ("listed", "Tier 1", 1, 3)
    assert [(c.condition, c.value, c.held) for c in core.includes] == [
        ("industry is one of software", "software", True)
    ]
    assert [(c.value, c.held) for c in core.excludes] == [("missing", False)]
    mid, hiring = core.criteria
    assert (mid.fired, mid.points) == (True, 2)
    assert mid.why == "employees between 50 and 500 (employees: 100)"
    assert hiring.fired
    # The posting dated after the as-of date is not among the events.
    assert hiring.events == ("2026-10-22 Account Executive (sales)",)
    assert hiring.why == "1 posting (sales) from 2026-10-02 to 2026-11-01, needs 1"
    # It qualifies for anywhere_us too, but a company goes to its first segment.
    assert segment(e, "anywhere_us").outcome == "earlier_segment"
    assert e.crm is not None and [(m.account_id, m.suppresses) for m in e.crm] == [("A1", False)]


def test_excluded_account(inputs: dict[str, Path]) -> None:
    e = explain(inputs, "C2")
    core = segment(e, "core")
    assert core.outcome == "not_eligible"
    assert [(c.condition, c.value, c.held) for c in core.excludes] == [
        ("funding_stage is one of Public", "Public", True)
    ]
    assert core.summary == (
        "not eligible: excluded because funding_stage is one of Public (funding_stage: Public)"
    )
    assert segment(e, "anywhere_us").outcome == "listed"


def test_suppressed_account(inputs: dict[str, Path]) -> None:
    e = explain(inputs, "C3")
    core = segment(e, "core")
    assert core.outcome == "suppressed"
    assert core.score == 2
    assert "its CRM account has status customer" in core.summary
    assert e.crm is not None
    (match,) = e.crm
    assert (match.account_id, match.status, match.method, match.suppresses) == (
        "A3",
        "customer",
        "domain",
        True,
    )


def test_below_threshold_and_not_eligible(inputs: dict[str, Path]) -> None:
    e = explain(inputs, "C4")
    core = segment(e, "core")
    assert core.outcome == "below_threshold"
    assert core.summary == "eligible, but score 0 is below Tier 2's 2"
    mid, hiring = core.criteria
    assert not mid.fired and not hiring.fired
    # The posting 31 days back falls outside the 30-day window.
    assert hiring.why.startswith("0 postings (sales) from 2026-10-02 to 2026-11-01")
    assert hiring.events == ()
    other = segment(e, "anywhere_us")
    assert other.outcome == "not_eligible"
    assert other.summary == "not eligible: country is one of US does not hold (country: GB)"
    assert e.crm == ()


def test_left_off_by_the_cap(inputs: dict[str, Path]) -> None:
    # C1 (Tier 1) and C5 fill core's two places; C6 scores the same as C5 but ranks after.
    assert segment(explain(inputs, "C5"), "core").outcome == "listed"
    core = segment(explain(inputs, "C6"), "core")
    assert core.outcome == "over_cap"
    assert "the list holds at most 2" in core.summary


def test_cli_text_for_each_outcome(inputs: dict[str, Path]) -> None:
    listed = invoke(["explain", "listedco.com", *cli_args(inputs)])
    assert listed.exit_code == 0, listed.output
    text = listed.stdout
    assert text.startswith("Listed Co (C1, listedco.com)\nas of 2026-11-01")
    assert "found by domain" in text
    assert "segment core: listed in Tier 1, rank 1 of 2 (score 3; Tier 1 needs 3" in text
    assert "    [yes] industry is one of software (industry: software)" in text
    assert "     +2 mid size: employees between 50 and 500 (employees: 100)" in text
    assert "          2026-10-22 Account Executive (sales)" in text
    excluded = invoke(["explain", "PUBLIC CO", *cli_args(inputs)]).stdout
    assert (
        "    [yes] funding_stage is one of Public (funding_stage: Public)  <- disqualifies"
        in excluded
    )
    suppressed = invoke(["explain", "C3", *cli_args(inputs)]).stdout
    assert "segment core: qualifies with score 2" in suppressed
    assert "status customer, by domain, match probability 1.0000 -> suppresses" in suppressed
    # The model's evidence, field by field, as matches.csv shows it.
    assert "evidence: prior " in suppressed and "domain same +" in suppressed
    small = invoke(["explain", "https://www.smallco.com/about", *cli_args(inputs)]).stdout
    assert "      0 mid size (not met; worth +2): employees between 50 and 500" in small
    assert "    [no ] country is one of US (country: GB)  <- fails" in small


def test_cli_ambiguous_and_unknown_names(inputs: dict[str, Path]) -> None:
    result = invoke(["explain", "twin co", *cli_args(inputs)])
    assert_cli_error(
        result,
        2,
        f"'twin co' matches 2 companies by name in {inputs['companies']}: C7 'Twin Co' "
        "(twinco.com); C8 'Twin Co' (twin-otherco.com); give the company_id instead",
    )
    result = invoke(["explain", "Nobody Ltd", *cli_args(inputs)])
    assert_cli_error(
        result, 2, f"no company in {inputs['companies']} has the id, domain or name 'Nobody Ltd'"
    )


def test_cli_without_crm_says_so(inputs: dict[str, Path]) -> None:
    args = cli_args(inputs)
    at = args.index("--crm")
    del args[at : at + 2]
    result = invoke(["explain", "C3", *args])
    assert result.exit_code == 0, result.output
    assert "segment core: listed in Tier 2" in result.stdout
    assert result.stdout.rstrip().endswith("CRM: not given (--crm), so no suppression")
