"""`listbuilder backtest`: tiers scored as of each deal's date, win rates, lift and AUC.

Expectations are counted by hand from the deals written in each test; on the sample data
the generating pattern (data/README.md) makes listed accounts win more often.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from listbuilder.errors import RulesError
from listbuilder.evidence import (
    Backtest,
    backtest_evidence,
    bootstrap_auc,
    format_backtest,
    gather_evidence,
    prepare_deals,
    profile_evidence,
    roc_auc,
    write_backtest,
)
from listbuilder.inputs import read_events, read_source
from listbuilder.rules import load_rules
from tests.conftest import (
    Workspace,
    assert_cli_error,
    companies_frame,
    crm_frame,
    invoke,
    jobs_frame,
    rules_from,
    write_frame,
)
from tests.test_profile import opps_frame

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CREATED = dt.date(2026, 3, 10)

RULES = """
[[segments]]
name = "s"
[segments.include]
industry = ["software"]
[[segments.score]]
label = "mid size"
when = { employees = { min = 50, max = 199 } }
points = 2
[[segments.score]]
label = "hiring sellers"
signal = "hiring"
departments = ["sales"]
within_days = 60
points = 3
[[segments.tiers]]
name = "Tier 1"
min_score = 5
[[segments.tiers]]
name = "Tier 2"
min_score = 2
[[segments.tiers]]
name = "Tier 3"
min_score = 0
"""
COMPANIES = [
    {"company_id": "C1", "industry": "software", "employees": 100},
    {"company_id": "C2", "industry": "software", "employees": 300},
    {"company_id": "C3", "industry": "retail", "employees": 5},
    {"company_id": "C4", "industry": "software", "employees": 60},
]
CRM = [
    {"account_id": f"A{i}", "name": f"C{i} Holdings", "domain": f"c{i}.example", "status": "x"}
    for i in range(1, 5)
]
DEALS: list[dict[str, Any]] = [
    # A1 (C1, 100 people: +2, no postings) -> Tier 2: 3 won, 1 lost.
    {"account_id": "A1", "is_won": True, "amount": 1000.0},
    {"account_id": "A1", "is_won": True, "amount": 2000.0},
    {"account_id": "A1", "is_won": True, "amount": 3000.0},
    {"account_id": "A1", "is_won": False, "amount": 9000.0},
    # A2 (C2, 300 people: 0) -> Tier 3: 1 won, 1 lost.
    {"account_id": "A2", "is_won": True, "amount": 500.0},
    {"account_id": "A2", "is_won": False},
    # A3 (C3, retail): not eligible -> not listed, 4 lost.
    *[{"account_id": "A3", "is_won": False}] * 4,
    # A4 (C4, 60 people: +2; a sales posting on 2026-03-10): the deal opened that day
    # gets the +3 (Tier 1); the one opened the day before does not (Tier 2).
    {"account_id": "A4", "is_won": True, "amount": 4000.0, "created_date": CREATED},
    {"account_id": "A4", "is_won": False, "created_date": CREATED - dt.timedelta(days=1)},
]
JOBS = [{"company_id": "C4", "posted_date": CREATED, "department": "sales"}]


def tiny(replicates: int = 200) -> Backtest:
    evidence = prepare_deals(
        opps_frame(DEALS), crm_frame(CRM), companies_frame(COMPANIES).lazy(), source="opps"
    )
    evidence = dataclasses.replace(evidence, events={"hiring": jobs_frame(JOBS).lazy()})
    return backtest_evidence([rules_from(RULES, "rules.toml")], evidence, replicates=replicates)


def rows_by_tier(result: Backtest) -> dict[str, dict[str, Any]]:
    return {r["tier"]: r for r in result.results[0].rows.iter_rows(named=True)}


# --------------------------------------------------------------------------------------
# AUC
# --------------------------------------------------------------------------------------


def test_auc_by_hand() -> None:
    # Winners score 2 and 4, losers 1 and 3: 3 of the 4 pairs are ordered right.
    assert roc_auc(pl.Series([1, 2, 3, 4]), pl.Series([False, True, False, True])) == 0.75
    # Winners 1 and 2, loser 1: one tie (a half) and one win, over 2 pairs.
    assert roc_auc(pl.Series([1, 1, 2]), pl.Series([True, False, True])) == 0.75
    assert roc_auc(pl.Series([3, 2, 1]), pl.Series([True, True, False])) == 1.0
    assert math.isnan(roc_auc(pl.Series([1, 2]), pl.Series([True, True])))


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    score = pl.Series([0, 1, 1, 2, 2, 2, 3, 3, 4, 5] * 3)
    won = pl.Series([False, False, True, False, True, False, True, True, False, True] * 3)
    first = bootstrap_auc(score, won, 500, seed=7)
    assert first == bootstrap_auc(score, won, 500, seed=7)
    assert first != bootstrap_auc(score, won, 500, seed=8)
    assert first.value == roc_auc(score, won)
    assert first.low < first.value < first.high
    # Ten times the deals, the same mix: the same AUC, known more precisely.
    more = bootstrap_auc(pl.concat([score] * 10), pl.concat([won] * 10), 500, seed=7)
    assert more.value == pytest.approx(first.value)
    assert more.high - more.low < (first.high - first.low) / 2


def test_bootstrap_of_a_perfect_ranking_is_one() -> None:
    auc = bootstrap_auc(pl.Series([1, 1, 5, 5, 5]), pl.Series([False, False, True, True, True]))
    assert (auc.value, auc.low, auc.high) == (1.0, 1.0, 1.0)


# --------------------------------------------------------------------------------------
# Tiers on hand-made deals
# --------------------------------------------------------------------------------------


def test_tiers_win_rates_lift_and_amounts_by_hand() -> None:
    result = tiny()
    base = result.baseline
    assert (base["deals"], base["won"]) == (12, 5)
    rows = rows_by_tier(result)
    overall = 5 / 12
    t1, t2, t3 = rows["Tier 1"], rows["Tier 2"], rows["Tier 3"]
    assert (t1["deals"], t1["won"], t1["win_rate"]) == (1, 1, 1.0)
    assert t1["lift"] == pytest.approx(1 / overall)
    assert t1["avg_won_amount"] == 4000.0
    assert (t2["deals"], t2["won"]) == (5, 3)
    assert t2["lift"] == pytest.approx(0.6 / overall)
    assert t2["avg_won_amount"] == 2000.0  # (1000 + 2000 + 3000) / 3: won deals only
    assert (t3["deals"], t3["won"], t3["avg_won_amount"]) == (2, 1, 500.0)
    off = rows["not listed"]
    assert (off["deals"], off["won"], off["lift"]) == (4, 0, 0.0)
    assert off["avg_won_amount"] is None
    whole = rows["all tiers"]
    assert (whole["deals"], whole["won"]) == (8, 5)
    # Eligible deals: winners score 2, 2, 2, 0, 5; losers 2, 0, 2. Pairs won: 9.5 of 15.
    assert whole["auc"] == pytest.approx(9.5 / 15)
    # The list as a ranking (Tier 1 > 2 > 3 > not listed): 29.5 of 35 pairs.
    assert result.results[0].auc.value == pytest.approx(29.5 / 35)
    assert result.results[0].listed["deals"] == 8
    assert result.results[0].not_listed["deals"] == 4


def test_a_signal_after_the_created_date_never_scores() -> None:
    # The posting is on 2026-03-10: it counts for the deal created that day (Tier 1) and
    # not for the one created on 2026-03-09, even though the build as of today sees it.
    scored_tiers = rows_by_tier(tiny())
    assert scored_tiers["Tier 1"]["deals"] == 1
    assert scored_tiers["Tier 1"]["won"] == 1


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def write_inputs(ws: Workspace) -> list[str]:
    opps = write_frame(opps_frame(DEALS), ws.root / "opps.parquet")
    return [
        "--companies",
        str(ws.companies(COMPANIES)),
        "--crm",
        str(ws.crm(CRM)),
        "--opportunities",
        str(opps),
    ]


def test_cli_writes_csv_and_json(ws: Workspace) -> None:
    args = write_inputs(ws)
    jobs = ws.jobs(JOBS)
    rules = ws.rules(RULES)
    out = ws.root / "bt"
    args += ["--jobs", str(jobs), "--out", str(out), "--bootstrap", "200", "--holdout", "0"]
    result = invoke(["backtest", "--rules", str(rules), *args])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}/" in result.output
    table = pl.read_csv(out / "backtest.csv")
    assert table.columns[:4] == ["rules", "segment", "tier", "min_score"]
    first = table.row(0, named=True)
    assert (first["tier"], first["deals"], first["won"]) == ("all deals", 12, 5)
    tier1 = table.filter(pl.col("tier") == "Tier 1").row(0, named=True)
    assert (tier1["deals"], tier1["lift"]) == (1, 2.4)
    report = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert report["baseline"]["deals"] == 12
    assert report["bootstrap"] == {"replicates": 200, "seed": 20261101}
    assert report["holdout"] is None  # --holdout 0: every deal
    assert report["rules"][0]["not_listed"]["deals"] == 4
    assert report["rules"][0]["auc"]["value"] == pytest.approx(29.5 / 35, abs=1e-6)
    assert "Tier 1" in result.output and "not listed" in result.output


def test_cli_rules_with_a_signal_need_its_table(ws: Workspace) -> None:
    args = write_inputs(ws)
    rules = ws.rules(RULES)
    result = invoke(["backtest", "--rules", str(rules), *args, "--out", str(ws.root / "bt")])
    assert_cli_error(
        result,
        2,
        f"invalid rules file {rules}:\n  - segments[0].score[1].signal: `hiring` needs the "
        "jobs table; pass --jobs",
    )


def test_cli_no_closed_deals_is_an_error(ws: Workspace) -> None:
    args = write_inputs(ws)
    opps = write_frame(
        opps_frame([{"account_id": "A1", "is_closed": False}]), ws.root / "open.parquet"
    )
    args[-1] = str(opps)
    args += ["--jobs", str(ws.jobs(JOBS)), "--out", str(ws.root / "bt")]
    result = invoke(["backtest", "--rules", str(ws.rules(RULES)), *args])
    assert_cli_error(result, 1, f"opportunities file {opps} has no closed deals", prefix=True)
    assert not (ws.root / "bt").exists()


# --------------------------------------------------------------------------------------
# The sample data
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The example rules and the profile's proposed rules, backtested on the sample."""
    source = {
        role: read_source(DATA / name, role)  # type: ignore[arg-type]
        for role, name in (
            ("companies", "companies.parquet"),
            ("crm", "crm.csv"),
            ("opportunities", "opportunities.parquet"),
            ("jobs", "jobs.parquet"),
            ("funding", "funding.parquet"),
        )
    }
    events = {
        name: read_events(DATA / f"{name}.parquet", name)
        for name in ("exec_hires", "intent", "layoffs", "headcount")
    }
    # One evidence table for both: the matching of 50,000 companies is done once.
    evidence = gather_evidence(**source, events=events, widest_days=365)
    proposed = profile_evidence(evidence).rules
    example = load_rules(ROOT / "rules" / "example.toml")
    result = backtest_evidence([example, proposed], evidence, replicates=500)
    out = tmp_path_factory.mktemp("backtest") / "bt"
    write_backtest(result, out)
    return out, format_backtest(result)


def test_sample_tier_1_beats_the_not_listed_deals(sample: tuple[Path, str]) -> None:
    out, _ = sample
    report = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    baseline = report["baseline"]["win_rate"]
    assert len(report["rules"]) == 2
    for rules in report["rules"]:
        not_listed = rules["not_listed"]
        assert rules["listed"]["win_rate"] > baseline > not_listed["win_rate"]
        assert rules["auc"]["low"] > 0.5  # the list ranks winners above losers
        first = next(r for r in rules["rows"] if r["tier"] == "Tier 1")
        assert first["deals"] >= 30
        assert first["lift"] > 1.3
        # The tier's whole interval lies above the not-listed deals' rate.
        assert first["ci_low"] > not_listed["win_rate"]


def test_sample_side_by_side_in_the_terminal(sample: tuple[Path, str]) -> None:
    _, output = sample
    summary = output.split("baseline:")[1]
    assert "rules/example.toml" in summary
    assert "proposed_rules.toml" in summary
    assert "AUC (95% CI)" in summary


def test_holdout_backtests_the_newest_deals_only() -> None:
    # The same 12 deals; those of A3 (4 lost) and A2 (1 won, 1 lost) are the newest.
    newer = {"A2", "A3"}
    dated = [
        {**d, "created_date": CREATED + dt.timedelta(days=30)} if d["account_id"] in newer else d
        for d in DEALS
    ]
    evidence = prepare_deals(
        opps_frame(dated), crm_frame(CRM), companies_frame(COMPANIES).lazy(), source="opps"
    )
    evidence = dataclasses.replace(evidence, events={"hiring": jobs_frame(JOBS).lazy()})
    rules = [rules_from(RULES, "rules.toml")]
    result = backtest_evidence(rules, evidence, replicates=200, holdout=0.25)
    # 25% of 12 asks for 3; the newest day holds 6, and a day is never split.
    assert result.split is not None
    assert (result.split.cutoff, result.split.holdout) == (CREATED + dt.timedelta(days=30), 6)
    assert (result.baseline["deals"], result.baseline["won"]) == (6, 1)
    rows = rows_by_tier(result)
    assert rows["not listed"]["deals"] == 4  # A3, retail
    assert rows["Tier 3"]["deals"] == 2  # A2
    assert "held out: created 2026-04-09 or later" in format_backtest(result)


def test_rules_reading_an_event_table_not_gathered_are_refused_by_name() -> None:
    evidence = prepare_deals(
        opps_frame(DEALS), crm_frame(CRM), companies_frame(COMPANIES).lazy(), source="opps"
    )
    evidence = dataclasses.replace(evidence, events={"hiring": jobs_frame(JOBS).lazy()})
    intent = RULES.replace('signal = "hiring"', 'signal = "intent"')
    with pytest.raises(RulesError) as raised:
        backtest_evidence([rules_from(intent, "intent.toml")], evidence, replicates=10)
    assert raised.value.problems == [
        "segments[0].score[1].signal: `intent` needs an event table of that name; pass "
        "--events intent=PATH or name it under [inputs.events] in the project file "
        "(event tables given: hiring)"
    ]
