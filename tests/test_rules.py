"""The rules file: what parses into what, and every way it can be wrong.

Errors are checked as (snippet, expected problem) tables: each problem must name the key
path where it was found and what was expected, and the error must name the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import textwrap
from pathlib import Path

import polars as pl
import pytest

from listbuilder.errors import RulesError
from listbuilder.rules import (
    DEFAULT_EXCLUDE_STATUS,
    AttributeCriterion,
    Condition,
    SignalCriterion,
    Tier,
    load_rules,
)
from tests.conftest import Workspace, rules_from

TIERS = """
[[segments.tiers]]
name = "T1"
min_score = 1
"""
ONE_SEGMENT = '[[segments]]\nname = "s"\n' + TIERS


def problems_of(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        rules_from(text)
    return caught.value.problems


# --- what a valid file becomes ---------------------------------------------------------


def test_a_full_segment_parses_into_frozen_objects(tmp_path: Path) -> None:
    text = """
    [crm]
    exclude_status = ["Customer", "churned"]

    [[segments]]
    name = "core"
    description = "the core ICP"
    max_accounts = 40
    [segments.include]
    industry = ["software", "fintech"]
    employees = { min = 50 }
    country = "US"
    [segments.exclude]
    technologies = { none = ["hubspot"] }
    [[segments.score]]
    label = "small"
    when = { employees = { max = 200 }, founded_year = { missing = false } }
    points = -2
    [[segments.score]]
    label = "hiring"
    signal = "hiring"
    within_days = 60
    departments = ["Sales"]
    points = 1
    [[segments.score]]
    label = "funded"
    signal = "funding"
    within_days = 180
    min_count = 2
    round_types = ["Series A"]
    min_amount_usd = 5000000
    points = 3
    [[segments.tiers]]
    name = "T1"
    min_score = 4
    max_accounts = 10
    [[segments.tiers]]
    name = "T2"
    min_score = -1
    """
    path = tmp_path / "icp.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    rules = load_rules(path)
    assert rules.path == str(path)
    assert rules.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rules.exclude_status == ("customer", "churned")
    (seg,) = rules.segments
    assert (seg.name, seg.description, seg.max_accounts) == ("core", "the core ICP", 40)
    assert seg.include == (
        Condition("industry", "in", ("software", "fintech"), "segments[0].include.industry"),
        Condition("employees", "range", (50, None), "segments[0].include.employees"),
        Condition("country", "equals", "US", "segments[0].include.country"),
    )
    assert seg.exclude == (
        Condition("technologies", "none", ("hubspot",), "segments[0].exclude.technologies"),
    )
    small, hiring, funded = seg.score
    assert small == AttributeCriterion(
        "small",
        -2,
        (
            Condition("employees", "range", (None, 200), "segments[0].score[0].when.employees"),
            Condition("founded_year", "missing", False, "segments[0].score[0].when.founded_year"),
        ),
        "segments[0].score[0]",
    )
    assert isinstance(hiring, SignalCriterion)
    assert (hiring.signal, hiring.within_days, hiring.min_count, hiring.departments) == (
        "hiring",
        60,
        1,  # the default
        ("Sales",),
    )
    assert isinstance(funded, SignalCriterion)
    assert (
        funded.signal,
        funded.within_days,
        funded.min_count,
        funded.round_types,
        funded.min_amount_usd,
    ) == ("funding", 180, 2, ("Series A",), 5_000_000.0)
    assert seg.tiers == (
        Tier("T1", 4, 10, None, "segments[0].tiers[0]"),
        Tier("T2", -1, None, None, "segments[0].tiers[1]"),
    )
    assert seg.min_score == -1


def test_crm_defaults_and_file_order() -> None:
    rules = rules_from('[[segments]]\nname = "b"\n' + TIERS + '[[segments]]\nname = "a"\n' + TIERS)
    assert rules.exclude_status == DEFAULT_EXCLUDE_STATUS == ("customer", "open_opportunity")
    assert [s.name for s in rules.segments] == ["b", "a"]


def test_three_segments_are_allowed() -> None:
    text = "".join(f'[[segments]]\nname = "s{i}"\n{TIERS}' for i in range(3))
    assert len(rules_from(text).segments) == 3


def test_the_example_rules_parse() -> None:
    rules = load_rules(Path(__file__).parent.parent / "rules" / "example.toml")
    assert [s.name for s in rules.segments] == ["core_saas", "emea_mid_market"]
    assert [t.min_score for t in rules.segments[0].tiers] == [6, 4, 2]


def test_date_bounds_are_kept_as_dates() -> None:
    rules = rules_from(
        '[[segments]]\nname = "s"\n[segments.include]\n'
        "founded = { min = 2020-01-01, max = 2020-12-31 }\n" + TIERS
    )
    assert rules.segments[0].include[0].value == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))


# --- every way a file can be wrong -------------------------------------------------------

SEG = '[[segments]]\nname = "s"\n'
SCORE = "[[segments.score]]\n"
VALID_KEYS = "['description', 'exclude', 'include', 'max_accounts', 'name', 'score', 'tiers']"

ERROR_CASES = [
    pytest.param(
        "colour = 1\n" + ONE_SEGMENT,
        "colour: unknown key; valid keys are ['crm', 'segments']",
        id="unknown-top-level-key",
    ),
    pytest.param(
        SEG + "inclde = { country = ['US'] }\n" + TIERS,
        f"segments[0].inclde: unknown key (did you mean `include`?); valid keys are {VALID_KEYS}",
        id="unknown-segment-key-with-hint",
    ),
    pytest.param(
        SEG
        + SCORE
        + 'label = "a"\nwhen = { employees = { min = 1 } }\npoints = 1\n'
        + SCORE
        + 'label = "b"\nwhen = { employees = { min = 2 } }\npoints = 1\n'
        + SCORE
        + 'label = "c"\nwhen = { employees = { min = 3 } }\npoints = "two"\n'
        + TIERS,
        "segments[0].score[2].points: expected an integer, got string 'two'",
        id="points-not-an-integer",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nwhen = { employees = { min = 1 } }\npoints = 1.5\n' + TIERS,
        "segments[0].score[0].points: expected an integer, got number 1.5",
        id="points-a-float",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nwhen = { employees = { min = 1 } }\n' + TIERS,
        "segments[0].score[0].points: required key is missing; expected an integer",
        id="points-missing",
    ),
    pytest.param(
        SEG + SCORE + "when = { employees = { min = 1 } }\npoints = 1\n" + TIERS,
        "segments[0].score[0].label: required key is missing; expected a string",
        id="label-missing",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nwhen = { x = 1 }\npionts = 1\n' + TIERS,
        [
            "segments[0].score[0].points: required key is missing; expected an integer",
            "segments[0].score[0].pionts: unknown key (did you mean `points`?); "
            "valid keys are ['group', 'label', 'points', 'when']",
        ],
        id="misspelt-criterion-key",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\npoints = 1\n' + TIERS,
        "segments[0].score[0].when: required key is missing; expected `when`, `signal` or `growth`",
        id="criterion-without-when-or-signal",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nwhen = {}\npoints = 1\n' + TIERS,
        "segments[0].score[0].when: expected at least one condition",
        id="empty-when",
    ),
    pytest.param(
        SEG
        + SCORE
        + 'label = "a"\nsignal = "hiring"\nwithin_days = 5\nwhen = { x = 1 }\npoints = 1\n'
        + TIERS,
        "segments[0].score[0]: give one of `when`, `signal` or `growth`, not ['when', 'signal']",
        id="when-and-signal",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nsignal = "news feed"\nwithin_days = 5\npoints = 1\n' + TIERS,
        "segments[0].score[0].signal: expected an event table's name (letters, digits and `_`), "
        "got string 'news feed'",
        id="bad-signal-name",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nsignal = "hiring"\npoints = 1\n' + TIERS,
        "segments[0].score[0].within_days: required key is missing; expected an integer",
        id="within-days-missing",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nsignal = "hiring"\nwithin_days = -1\npoints = 1\n' + TIERS,
        "segments[0].score[0].within_days: expected an integer of at least 0, got -1",
        id="within-days-negative",
    ),
    pytest.param(
        SEG
        + SCORE
        + 'label = "a"\nsignal = "hiring"\nwithin_days = 5\nmin_count = 0\npoints = 1\n'
        + TIERS,
        "segments[0].score[0].min_count: expected an integer of at least 1, got 0",
        id="min-count-zero",
    ),
    pytest.param(
        SEG
        + SCORE
        + 'label = "a"\nsignal = "hiring"\nwithin_days = 5\ndepartments = "sales"\npoints = 1\n'
        + TIERS,
        "segments[0].score[0].departments: expected a non-empty list of strings, "
        "got string 'sales'",
        id="departments-not-a-list",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nsignal = "funding"\nwithin_days = 5\nmin_amount_usd = "5M"\n'
        "points = 1\n" + TIERS,
        "segments[0].score[0].min_amount_usd: expected a number, got string '5M'",
        id="min-amount-not-a-number",
    ),
    pytest.param(
        SEG + SCORE + 'label = "a"\nsignal = "funding"\nwithin_days = 5\nround_types = []\n'
        "points = 1\n" + TIERS,
        "segments[0].score[0].round_types: expected a non-empty list of strings, got a list",
        id="round-types-empty",
    ),
    pytest.param(
        SEG
        + SCORE
        + 'label = "a"\nwhen = { x = 1 }\npoints = 1\n'
        + SCORE
        + 'label = "a"\nwhen = { y = 1 }\npoints = 2\n'
        + TIERS,
        "segments[0].score[1].label: duplicate label 'a' in this segment",
        id="duplicate-label",
    ),
    pytest.param(
        ONE_SEGMENT + ONE_SEGMENT,
        "segments[1].name: duplicate segment name 's'",
        id="duplicate-segment-name",
    ),
    pytest.param(
        '[[segments]]\nname = "core/saas"\n' + TIERS,
        "segments[0].name: 'core/saas' cannot name a file; use letters, digits, `_` and `-`",
        id="segment-name-not-a-file-name",
    ),
    pytest.param(
        "[[segments]]\n" + TIERS,
        "segments[0].name: required key is missing; expected a string",
        id="segment-name-missing",
    ),
    pytest.param(
        SEG + "max_accounts = 0\n" + TIERS,
        "segments[0].max_accounts: expected an integer of at least 1, got 0",
        id="segment-max-accounts-zero",
    ),
    pytest.param(
        ONE_SEGMENT * 2 + ONE_SEGMENT.replace('"s"', '"t"') * 2,
        "segments: 4 segments defined; at most 3 are allowed "
        "(a focused ICP has few segments: merge or drop some)",
        id="a-fourth-segment",
    ),
    pytest.param(
        "[crm]\n",
        "segments: expected 1 to 3 [[segments]] tables, found none",
        id="no-segments",
    ),
    pytest.param(
        SEG,
        "segments[0].tiers: expected at least one [[segments.tiers]] table",
        id="no-tiers",
    ),
    pytest.param(
        SEG + TIERS + '[[segments.tiers]]\nname = "T2"\nmin_score = 1\n',
        "segments[0].tiers[1].min_score: tiers must be listed highest first with strictly "
        "descending min_score; 1 is not below 1 (T1)",
        id="tiers-equal",
    ),
    pytest.param(
        SEG + TIERS + '[[segments.tiers]]\nname = "T2"\nmin_score = 3\n',
        "segments[0].tiers[1].min_score: tiers must be listed highest first with strictly "
        "descending min_score; 3 is not below 1 (T1)",
        id="tiers-ascending",
    ),
    pytest.param(
        SEG + TIERS + '[[segments.tiers]]\nname = "T1"\nmin_score = 0\n',
        "segments[0].tiers[1].name: duplicate tier name 'T1'",
        id="duplicate-tier-name",
    ),
    pytest.param(
        SEG + '[[segments.tiers]]\nname = "T1"\n',
        "segments[0].tiers[0]: a tier needs a threshold: `min_score` or `min_percent`, "
        "and/or `min_fit`, `min_intent`",
        id="tier-min-score-missing",
    ),
    pytest.param(
        SEG + '[[segments.tiers]]\nname = "T1"\nmin_score = 1\nmax_accounts = "ten"\n',
        "segments[0].tiers[0].max_accounts: expected an integer, got string 'ten'",
        id="tier-max-accounts-wrong-type",
    ),
    pytest.param(
        SEG + '[[segments.tiers]]\nname = "T1"\nmin_score = 1\nmax_acounts = 3\n',
        "segments[0].tiers[0].max_acounts: unknown key (did you mean `max_accounts`?); "
        "valid keys are ['max_accounts', 'min_fit', 'min_intent', 'min_percent', 'min_score', "
        "'name', 'stickiness']",
        id="tier-unknown-key",
    ),
    pytest.param(
        SEG + "include = 3\n" + TIERS,
        "segments[0].include: expected a table, got number 3",
        id="include-not-a-table",
    ),
    pytest.param(
        SEG + "[segments.include]\nindustry = []\n" + TIERS,
        "segments[0].include.industry: expected a non-empty list of values to match one of",
        id="empty-one-of-list",
    ),
    pytest.param(
        SEG + "[segments.include]\nemployees = { above = 5 }\n" + TIERS,
        "segments[0].include.employees: unknown condition {above}; expected a list of values, "
        "{ min, max }, { any }, { all }, { none }, { contains } or { missing }",
        id="unknown-condition",
    ),
    pytest.param(
        SEG + "[segments.include]\nemployees = { min = 10, max = 5 }\n" + TIERS,
        "segments[0].include.employees: `min` (10) is greater than `max` (5)",
        id="range-min-above-max",
    ),
    pytest.param(
        SEG + '[segments.include]\nemployees = { min = "50" }\n' + TIERS,
        "segments[0].include.employees.min: expected a number or date, got string '50'",
        id="range-bound-a-string",
    ),
    pytest.param(
        SEG + '[segments.exclude]\ntechnologies = { any = "legacy-crm" }\n' + TIERS,
        "segments[0].exclude.technologies.any: expected a non-empty list of strings, "
        "got string 'legacy-crm'",
        id="any-not-a-list",
    ),
    pytest.param(
        SEG + '[segments.exclude]\ntechnologies = { missing = "yes" }\n' + TIERS,
        "segments[0].exclude.technologies.missing: expected true or false, got string 'yes'",
        id="missing-not-a-boolean",
    ),
    pytest.param(
        '[crm]\nexclude_status = "customer"\n' + ONE_SEGMENT,
        "crm.exclude_status: expected a list of strings, got string 'customer'",
        id="exclude-status-not-a-list",
    ),
    pytest.param(
        '[crm]\nexclude = ["customer"]\n' + ONE_SEGMENT,
        "crm.exclude: unknown key (did you mean `exclude_status`?); "
        "valid keys are ['exclude_status']",
        id="unknown-crm-key",
    ),
]


@pytest.mark.parametrize(("text", "problem"), ERROR_CASES)
def test_rule_errors_name_the_key_and_what_was_expected(
    text: str, problem: str | list[str]
) -> None:
    assert problems_of(text) == (problem if isinstance(problem, list) else [problem])


def test_every_problem_is_reported_at_once_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "icp.toml"
    path.write_text(
        SEG
        + "max_accounts = -3\n"
        + SCORE
        + 'label = "a"\nsignal = "gossip!"\nwithin_days = 5\npoints = 1\n'
        + '[[segments.tiers]]\nname = "T1"\nmin_score = "high"\n',
        encoding="utf-8",
    )
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    expected = [
        "segments[0].max_accounts: expected an integer of at least 1, got -3",
        "segments[0].score[0].signal: expected an event table's name (letters, digits and "
        "`_`), got string 'gossip!'",
        "segments[0].tiers[0].min_score: expected an integer, got string 'high'",
    ]
    assert caught.value.problems == expected
    assert str(caught.value) == f"invalid rules file {path}:\n" + "".join(
        f"  - {p}\n" for p in expected
    ).rstrip("\n")


def test_malformed_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "icp.toml"
    path.write_text('[[segments]]\nname = "s"\nmax_accounts = = 3\n', encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    (problem,) = caught.value.problems
    assert problem.startswith("malformed TOML: ")
    assert "line 3" in problem
    assert str(caught.value).startswith(f"invalid rules file {path}:\n  - malformed TOML")


def test_missing_and_non_utf8_rules_files(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path / "nope.toml")
    assert caught.value.problems == ["file not found"]
    assert str(caught.value) == f"invalid rules file {tmp_path / 'nope.toml'}:\n  - file not found"
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[[segments]]\nname = "caf\xe9"\n')
    with pytest.raises(RulesError) as caught:
        load_rules(latin)
    assert caught.value.problems == ["not UTF-8 text (byte 24)"]


# --- rules against the data's columns -----------------------------------------------------

SCHEMA = pl.Schema(
    {
        "company_id": pl.String,
        "name": pl.String,
        "domain": pl.String,
        "industry": pl.String,
        "employees": pl.Int64,
        "revenue_usd": pl.Float64,
        "founded": pl.Date,
        "is_public": pl.Boolean,
        "technologies": pl.List(pl.String),
    }
)
HAS = ", ".join(SCHEMA)

COLUMN_CASES = [
    pytest.param(
        "[segments.include]\nheadcount = { min = 1 }\n",
        "segments[0].include.headcount: column `headcount` is not in the companies data "
        f"(companies.parquet); it has: {HAS}",
        id="unknown-include-column",
    ),
    pytest.param(
        '[segments.exclude]\nstage = ["Public"]\n',
        "segments[0].exclude.stage: column `stage` is not in the companies data "
        f"(companies.parquet); it has: {HAS}",
        id="unknown-exclude-column",
    ),
    pytest.param(
        SCORE + 'label = "a"\nwhen = { country = "US" }\npoints = 1\n',
        "segments[0].score[0].when.country: column `country` is not in the companies data "
        f"(companies.parquet); it has: {HAS}",
        id="unknown-score-column",
    ),
    pytest.param(
        "[segments.include]\nindustry = [1, 2]\n",
        "segments[0].include.industry: column `industry` holds string values, so the rule "
        "must give strings; got 1",
        id="numbers-for-a-text-column",
    ),
    pytest.param(
        '[segments.include]\nemployees = ["50", "100"]\n',
        "segments[0].include.employees: column `employees` holds number values, so the rule "
        "must give numbers; got '50'",
        id="text-for-a-number-column",
    ),
    pytest.param(
        "[segments.include]\nemployees = true\n",
        "segments[0].include.employees: column `employees` holds number values, so the rule "
        "must give numbers; got True",
        id="boolean-for-a-number-column",
    ),
    pytest.param(
        "[segments.include]\nfounded = { min = 2020 }\n",
        "segments[0].include.founded: column `founded` holds date values, so the rule "
        "must give dates; got 2020",
        id="number-for-a-date-column",
    ),
    pytest.param(
        "[segments.include]\nindustry = { min = 1 }\n",
        "segments[0].include.industry: `range` does not apply to column `industry` of type "
        "String; it takes date, number columns",
        id="range-on-text",
    ),
    pytest.param(
        '[segments.include]\nemployees = { any = ["a"] }\n',
        "segments[0].include.employees: `any` does not apply to column `employees` of type "
        "Int64; it takes list columns",
        id="any-on-a-number",
    ),
    pytest.param(
        '[segments.include]\ntechnologies = ["hubspot"]\n',
        "segments[0].include.technologies: column `technologies` is a list; "
        "use { any = [...] }, { all = [...] }, { none = [...] }, { contains = [...] } "
        "or { missing = ... }",
        id="one-of-on-a-list",
    ),
]


@pytest.mark.parametrize(("snippet", "problem"), COLUMN_CASES)
def test_rules_are_checked_against_the_columns(snippet: str, problem: str) -> None:
    rules = rules_from(SEG + snippet + TIERS, "icp.toml")
    with pytest.raises(RulesError) as caught:
        rules.check_against(SCHEMA, "companies.parquet")
    assert caught.value.problems == [problem]
    assert str(caught.value).startswith("invalid rules file icp.toml:\n")


def test_rules_that_fit_the_columns_pass() -> None:
    rules = rules_from(
        SEG + '[segments.include]\nindustry = ["Software"]\nemployees = { min = 1.5, max = 10 }\n'
        "founded = { min = 2020-01-01 }\nis_public = false\nrevenue_usd = [1, 2.5]\n"
        + '[segments.exclude]\ntechnologies = { all = ["a", "b"] }\nname = { missing = true }\n'
        + TIERS
    )
    rules.check_against(SCHEMA, "companies.parquet")


# --- rule errors come before any data is read ---------------------------------------------


def test_rules_file_errors_come_before_the_inputs_are_opened(ws: Workspace) -> None:
    ws.rules(SEG + "max_accounts = 0\n" + TIERS)
    with pytest.raises(RulesError) as caught:
        ws.build(companies=ws.root / "does-not-exist.parquet")
    assert caught.value.problems == [
        "segments[0].max_accounts: expected an integer of at least 1, got 0"
    ]
    assert not ws.out.exists()


def test_unknown_columns_are_found_from_the_schema_before_the_values(ws: Workspace) -> None:
    # `employees` holds text that cannot become a number: reading the values would fail
    # with a data error; the rule error about `headcount` must come first.
    (ws.root / "companies.csv").write_text(
        "company_id,name,domain,employees\nc1,One,one.example,many\n", encoding="utf-8"
    )
    ws.rules(SEG + "[segments.include]\nheadcount = { min = 1 }\n" + TIERS)
    with pytest.raises(RulesError) as caught:
        ws.build(companies=ws.root / "companies.csv")
    assert caught.value.problems == [
        "segments[0].include.headcount: column `headcount` is not in the companies data "
        f"({ws.root / 'companies.csv'}); it has: company_id, name, domain, employees"
    ]
    # with a valid rule the same file builds: the value no parser reads is counted
    ws.rules(ONE_SEGMENT)
    summary = ws.build(companies=ws.root / "companies.csv")
    assert summary["inputs"]["companies"]["bad_values"] == {"employees": 1}
    assert summary["inputs"]["companies"]["bad_value_examples"] == {"employees": ["many"]}


def test_signals_need_their_tables_and_columns(ws: Workspace) -> None:
    ws.companies([{"company_id": "c1"}])
    ws.rules(
        SEG
        + SCORE
        + 'label = "h"\nsignal = "hiring"\nwithin_days = 5\ndepartments = ["sales"]\npoints = 1\n'
        + SCORE
        + 'label = "f"\nsignal = "funding"\nwithin_days = 5\npoints = 1\n'
        + TIERS
    )
    with pytest.raises(RulesError) as caught:
        ws.build()
    assert caught.value.problems == [
        "segments[0].score[0].signal: `hiring` needs the jobs table; pass --jobs",
        "segments[0].score[1].signal: `funding` needs the funding table; pass --funding",
    ]
    jobs = ws.root / "jobs.csv"
    jobs.write_text("company_id,posted_date\nc1,2026-10-01\n", encoding="utf-8")
    funding = ws.root / "funding.csv"
    funding.write_text("company_id,announced_date\nc1,2026-10-01\n", encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        ws.build(jobs=jobs, funding=funding)
    assert caught.value.problems == [
        f"segments[0].score[0].departments: no column `department` in hiring ({jobs}); "
        "it has: company_id, posted_date",
        f"segments[0].score[1].signal: no column `round_type` in funding ({funding}); "
        "it has: company_id, announced_date",
    ]
