"""The statistics and the proposal of `profile`: FDR, clustered intervals, the temporal
split, scorecard scaling, the refusal below the minimum, and the proposal on deals won by
a known pattern (tests/evidence_synth.py).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from listbuilder.errors import DataError
from listbuilder.evidence import (
    MIN_CLOSED_DEALS,
    Profile,
    bh_adjust,
    bootstrap_rates,
    clustered_tests,
    prepare_deals,
    profile_evidence,
    roc_auc,
    scorecard_points,
    temporal_split,
    wilson_interval,
)
from listbuilder.rules import load_rules
from tests.conftest import assert_cli_error, companies_frame, crm_frame, invoke
from tests.evidence_synth import DRIVERS, LEAK, NO_EFFECT, generate
from tests.test_profile import COMPANIES, CRM, SAMPLE_INPUTS, deals, opps_frame

# --------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------


def test_benjamini_hochberg_against_hand_computed_values() -> None:
    # Sorted: 0.01, 0.03, 0.04, 0.20; times m / rank: 0.04, 0.06, 0.0533, 0.20; then the
    # running minimum from the largest down: 0.04, 0.0533, 0.0533, 0.20.
    q = bh_adjust(np.array([0.01, 0.04, 0.03, 0.20]))
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])
    # NaN is outside the family: the other three are adjusted as a family of three.
    q = bh_adjust(np.array([0.02, np.nan, 0.03, 0.5]))
    assert math.isnan(q[1])
    assert q[[0, 2, 3]] == pytest.approx([0.045, 0.045, 0.5])
    assert bh_adjust(np.array([0.9, 0.95])) == pytest.approx([0.95, 0.95])


def _clustered(accounts: int, per: int, won_accounts: int) -> pl.DataFrame:
    """``accounts`` accounts of ``per`` deals each; all of an account's deals share one
    outcome, won for the first ``won_accounts``."""
    n = accounts * per
    account = np.repeat(np.arange(accounts), per)
    return pl.DataFrame(
        {
            "_row": np.arange(n),
            "account_id": [f"A{a:04d}" for a in account],
            "is_won": account < won_accounts,
        }
    )


def test_account_bootstrap_widens_with_clustering_and_not_without() -> None:
    # Value "clustered": 20 accounts of 10 deals, each account all won or all lost.
    # Value "spread": 200 accounts of one deal each. Both: 200 deals, half won.
    clustered = _clustered(20, 10, 10)
    spread = _clustered(200, 1, 100).with_columns(
        _row=pl.col("_row") + 200, account_id=pl.col("account_id") + "s"
    )
    deals = pl.concat([clustered, spread])
    long = pl.concat(
        [
            clustered.select("_row", attribute=pl.lit("a"), value=pl.lit("clustered")),
            spread.select("_row", attribute=pl.lit("a"), value=pl.lit("spread")),
        ]
    )
    keys = pl.DataFrame({"attribute": ["a", "a"], "value": ["clustered", "spread"]})
    got = bootstrap_rates(long, deals, keys, 2000, seed=1)
    low, high = wilson_interval(100, 200)
    wilson = high - low
    widths = got["rate_high"] - got["rate_low"]
    # 20 independent accounts, not 200 deals: about sqrt(10) times as wide.
    assert widths[0] > 2.5 * wilson
    assert 0.8 * wilson < widths[1] < 1.2 * wilson
    assert got["rate_low"][0] < 0.5 < got["rate_high"][0]
    # Lift over the overall rate (0.5 here): the same interval, doubled, near enough.
    assert got["lift_low"][1] == pytest.approx(2 * got["rate_low"][1], abs=0.1)
    # Seeded: the same seed, the same interval.
    again = bootstrap_rates(long, deals, keys, 2000, seed=1)
    assert np.array_equal(again["rate_low"], got["rate_low"])


def test_clustered_test_counts_accounts_not_deals() -> None:
    # 5 accounts of 20 deals have the value: 4 accounts all won, one all lost (80%). The
    # other 400 deals (400 accounts) win half the time.
    inside = _clustered(5, 20, 4)
    rest = _clustered(400, 1, 200).with_columns(
        _row=pl.col("_row") + 100, account_id=pl.col("account_id") + "r"
    )
    deals = pl.concat([inside, rest])
    long = inside.select("_row", attribute=pl.lit("a"), value=pl.lit("v"))
    row = clustered_tests(long, deals).row(0, named=True)
    assert (row["n"], row["won"], row["accounts"]) == (100, 80, 5)
    # As 100 independent deals: z = 0.3 / sqrt(pooled variance) with pooled 280 / 500.
    pooled = 280 / 500
    naive = 0.3 / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 400))
    assert naive > 5
    # By account: the value's side is 5 draws of 0 or 1; far less certain.
    assert 0 < row["z"] < naive / 2
    assert row["p"] > 0.01


def test_temporal_split_holds_out_the_newest_whole_days() -> None:
    days = [dt.date(2026, 1, d) for d in (4, 1, 2, 3, 1, 4, 2, 3)]
    created = pl.Series(days)
    mask, split = temporal_split(created, 0.25)
    assert (split.cutoff, split.train, split.holdout) == (dt.date(2026, 1, 4), 6, 2)
    assert mask.tolist() == [d == dt.date(2026, 1, 4) for d in days]
    # 30% asks for 3 deals; the third newest was created on the 3rd, and so was another:
    # a day is never split, so 4 are held out.
    mask, split = temporal_split(created, 0.3)
    assert (split.cutoff, split.holdout, split.share) == (dt.date(2026, 1, 3), 4, 0.5)
    assert all(d >= dt.date(2026, 1, 3) for d, m in zip(days, mask, strict=True) if m)
    mask, split = temporal_split(created, 0.0)
    assert not mask.any() and split.holdout == 0


def test_scorecard_points_are_proportional_to_log_odds() -> None:
    ln2 = math.log(2)
    coef = np.array([0.0, ln2, 2 * ln2, -ln2, 0.5 * ln2, 0.05 * ln2, -0.049 * ln2])
    # 10 points double the odds; half away from zero.
    assert scorecard_points(coef).tolist() == [0, 10, 20, -10, 5, 1, 0]
    # A driver twice as strong gets twice the points.
    assert scorecard_points(np.array([0.3, 0.6])).tolist() == [4, 9]


# --------------------------------------------------------------------------------------
# Refusal
# --------------------------------------------------------------------------------------


def test_profile_refuses_below_the_minimum_of_closed_deals() -> None:
    few = deals("A1", 20, 10) + deals("A2", 5, 14)  # 49 closed deals
    assert len(few) == MIN_CLOSED_DEALS - 1
    evidence = prepare_deals(
        opps_frame(few), crm_frame(CRM), companies_frame(COMPANIES).lazy(), source="opps"
    )
    with pytest.raises(DataError) as caught:
        profile_evidence(evidence)
    assert str(caught.value) == (
        "only 49 usable closed deals in opps (25 won, 24 lost); profile needs at least 50 "
        "before it proposes rules, because with fewer any pattern it finds is as likely "
        "chance as real"
    )


def test_profile_refuses_a_holdout_without_a_loss() -> None:
    # 60 deals: the 20 newest (created last) are all won.
    old = [{**d, "created_date": dt.date(2026, 1, 5)} for d in deals("A1", 20, 20)]
    new = [{**d, "created_date": dt.date(2026, 3, 5)} for d in deals("A3", 20, 0)]
    evidence = prepare_deals(
        opps_frame(old + new), crm_frame(CRM), companies_frame(COMPANIES).lazy()
    )
    with pytest.raises(DataError, match=r"the held-out deals .* are all won"):
        profile_evidence(evidence)


# --------------------------------------------------------------------------------------
# A known pattern, several realisations
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[11, 12])
def realisation(request: pytest.FixtureRequest) -> tuple[Profile, pl.DataFrame]:
    synthetic = generate(request.param)
    return profile_evidence(synthetic.evidence, replicates=20), synthetic.truth


def _points(profile: Profile) -> dict[tuple[str, str], int]:
    return {(t.attribute, t.value): t.points for t in profile.proposal.segments[0].terms}


def test_no_attribute_without_effect_becomes_a_filter(
    realisation: tuple[Profile, pl.DataFrame],
) -> None:
    profile, _ = realisation
    filtered = {
        (f.attribute, v)
        for plan in profile.proposal.segments
        for f in plan.filters
        for v in f.values
    }
    for attribute, values in NO_EFFECT.items():
        for value in values:
            assert (attribute, value) not in filtered
    assert not any(c.include for s in profile.rules.segments for c in [s])


def test_every_driver_is_proposed_with_its_sign(
    realisation: tuple[Profile, pl.DataFrame],
) -> None:
    profile, _ = realisation
    points = _points(profile)
    excluded = {(f.attribute, v) for f in profile.proposal.segments[0].filters for v in f.values}
    for (attribute, value), effect in DRIVERS.items():
        if value == "50-999":  # planted on 50-999: the bands 50-199 and 200-999
            assert points.get((attribute, "50-199"), 0) > 0
            assert points.get((attribute, "200-999"), 0) > 0
        elif (attribute, value) in excluded:
            assert effect < 0
        else:
            assert np.sign(points.get((attribute, value), 0)) == np.sign(effect), value
    # A stronger driver gets more points: software (+1.0) over legacy-crm (-0.8) is not
    # guaranteed by chance, but the signal and software both outscore any no-effect value.
    weakest_driver = min(
        abs(points[("industry", "software")]), abs(points[("signal", "hiring: sales, 60 days")])
    )
    for (attribute, value), p in points.items():
        if value in NO_EFFECT.get(attribute, ()):
            assert abs(p) < weakest_driver


def test_the_future_never_leaks_in(realisation: tuple[Profile, pl.DataFrame]) -> None:
    profile, _ = realisation
    # Onboarding postings follow every won deal within 25 days: counted after the fact
    # they would mark nearly every win. As of each deal's created date they cannot.
    leak = profile.table.filter(
        (pl.col("attribute") == "signal") & pl.col("value").str.contains(LEAK)
    )
    assert leak.height > 0
    assert leak.get_column("lift").max() < 1.6
    strongest = max(abs(p) for p in _points(profile).values())
    for (_attribute, value), p in _points(profile).items():
        if LEAK in value:
            assert abs(p) < strongest / 3


def test_holdout_ranking_and_tier_1(realisation: tuple[Profile, pl.DataFrame]) -> None:
    profile, truth = realisation
    v = profile.proposal.validation
    held = profile.evidence.deals.filter(pl.col("created_date") >= v.split.cutoff).join(
        truth, on="opportunity_id"
    )
    assert held.height == v.split.holdout
    true_auc = roc_auc(held.get_column("p"), held.get_column("is_won"))
    assert v.auc.value >= 0.92 * true_auc
    tier1 = v.tiers.row(0, named=True)
    assert tier1["tier"] == "Tier 1"
    assert tier1["win_rate"] >= 1.5 * v.base_rate
    assert tier1["ci_low"] > v.base_rate
    size = v.list_sizes["evidence_icp"]
    assert 2_000 <= size <= 10_000


def test_proposed_rules_parse_with_a_comment_on_every_point(
    realisation: tuple[Profile, pl.DataFrame], tmp_path: Path
) -> None:
    profile, _ = realisation
    path = tmp_path / "proposed_rules.toml"
    path.write_text(profile.rules_text, encoding="utf-8")
    rules = load_rules(path)
    assert [c.points for c in rules.segments[0].score] == [
        t.points for t in profile.proposal.segments[0].terms
    ]
    for line in profile.rules_text.splitlines():
        if line.startswith("[[segments.score]]"):
            assert "coefficient" in line and "95% CI" in line
        if line.startswith("points ="):
            assert "points per unit of log-odds" in line


# --------------------------------------------------------------------------------------
# --matches
# --------------------------------------------------------------------------------------


def test_profile_and_backtest_reuse_a_stored_match_run(tmp_path: Path) -> None:
    companies, crm = SAMPLE_INPUTS[1], SAMPLE_INPUTS[3]
    run = tmp_path / "match"
    result = invoke(["match", "--companies", companies, "--crm", crm, "--out", str(run)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "icp"
    result = invoke(["profile", *SAMPLE_INPUTS, "--matches", str(run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "AUC" in result.output
    rules = out / "proposed_rules.toml"
    bt = tmp_path / "bt"
    args = ["backtest", "--rules", str(rules), *SAMPLE_INPUTS, "--matches", str(run)]
    result = invoke([*args, "--out", str(bt), "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    assert "held out: created" in result.output
    # Another CRM file than the one the run matched is refused, naming both.
    other = tmp_path / "crm.csv"
    shutil.copy(crm, other)
    with other.open("a", encoding="utf-8") as handle:
        handle.write("001Z000000000001,Someone Else,someone.example,prospect\n")
    inputs = list(SAMPLE_INPUTS)
    inputs[3] = str(other)
    result = invoke(["profile", *inputs, "--matches", str(run), "--out", str(tmp_path / "x")])
    assert_cli_error(
        result,
        1,
        f"--matches {run} was made from crm file {crm}, not from {other} as given now",
        prefix=True,
    )


# --------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [5, 6])
def test_two_planted_segments_are_found_each_with_its_drivers(seed: int, tmp_path: Path) -> None:
    # US companies win by being software and hiring sellers; the others by being 200+
    # people and at Series B. One scorecard for both would blur the two.
    synthetic = generate(seed, two_segments=True)
    profile = profile_evidence(synthetic.evidence, replicates=20)
    plans = profile.proposal.segments
    assert len(plans) == 2
    by_side = {
        "inside": next(p for p in plans if p.scope.include),
        "outside": next(p for p in plans if p.scope.exclude),
    }
    for plan in plans:
        bound = (*plan.scope.include, *plan.scope.exclude)
        assert [(f.attribute, f.values) for f in bound] == [("country", ("US",))]
    us = {(t.attribute, t.value): t.points for t in by_side["inside"].terms}
    rest = {(t.attribute, t.value): t.points for t in by_side["outside"].terms}
    assert us[("industry", "software")] > 0 and us[("signal", "hiring: sales, 60 days")] > 0
    assert ("industry", "software") not in rest
    assert rest[("funding_stage", "Series B")] > 0
    assert rest.get(("employees", "200-999"), 0) > 0
    assert ("funding_stage", "Series B") not in us
    # The file holds both, in priority order, and parses as a rules file.
    path = tmp_path / "proposed_rules.toml"
    path.write_text(profile.rules_text, encoding="utf-8")
    rules = load_rules(path)
    assert [s.name for s in rules.segments] == [p.scope.name for p in plans]
    assert profile.proposal.validation.auc.low > 0.6


def test_one_pattern_stays_one_segment(realisation: tuple[Profile, pl.DataFrame]) -> None:
    profile, _ = realisation
    assert len(profile.proposal.segments) == 1
    assert profile.proposal.segment_note.startswith("one segment: no split predicts")
