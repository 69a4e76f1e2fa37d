"""An ICP drawn from evidence: which attributes won deals have that lost deals lack.

For every attribute value (industry, employee band, revenue band, country, funding stage,
each technology, each signal as of the deal's created date) the closed deals that have it
give a win rate and a lift over the overall win rate, with 95% intervals from resampling
whole accounts (an account's deals are not independent draws), and a test of the value
against the deals without it, its p-value adjusted for the whole family of values tested
(Benjamini-Hochberg: ``q``). The table describes; it does not decide.

The proposal (``icp.propose_icp``) is fitted on the older deals and checked on the
newest: excludes only on overwhelming evidence, a penalised logistic regression for the
rest, tiers set on the held-out deals. The same comparison of best and worst accounts
(top quarter by won amount against churned) is written alongside. Below
``MIN_CLOSED_DEALS`` closed deals nothing is proposed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from listbuilder.evidence.deals import (
    MIN_DEALS,
    Evidence,
    gather_evidence,
    money,
    percent,
    rate_columns,
)
from listbuilder.evidence.icp import (
    Proposal,
    Scope,
    describe_tiers,
    propose_icp,
    refuse_if_too_few,
)
from listbuilder.evidence.inference import (
    FDR,
    POINTS_PER_DOUBLING,
    Split,
    bh_adjust,
    bootstrap_rates,
    clustered_tests,
    temporal_split,
)
from listbuilder.evidence.proposal import (
    EXTREME_LIFT,
    EXTREME_LIFT_HIGH,
    FILTERABLE,
    NO_WIN_DEALS,
)
from listbuilder.evidence.segments import find_segments
from listbuilder.evidence.values import (
    ATTRIBUTE_ORDER,
    FIRMOGRAPHICS,
    WIDEST_DAYS,
    long_values,
    measure_columns,
    rule_text,
    signal_probes,
)
from listbuilder.files import atomic_directory, check_output_dir, write_csv
from listbuilder.inputs import read_event_tables, read_source
from listbuilder.rules import EventCriterion, Rules, attach_signals_at

HOLDOUT = 0.25
TABLE_REPLICATES = 400
FIT_REPLICATES = 30
SEED = 20261101
BEST_QUANTILE = 0.75
SEGMENT_NAME = "evidence_icp"
TABLE_COLUMNS = (
    "attribute",
    "value",
    "deals",
    "accounts",
    "won",
    "lost",
    "win_rate",
    "ci_low",
    "ci_high",
    "lift",
    "lift_low",
    "lift_high",
    "z",
    "p",
    "q",
    "significant",
    "too_few",
    "avg_won_amount",
    "proposed",
    "rule",
)
BEST_COLUMNS = (
    "attribute",
    "value",
    "accounts",
    "best",
    "worst",
    "best_rate",
    "ci_low",
    "ci_high",
    "lift",
    "lift_low",
    "lift_high",
    "z",
    "too_few",
    "rule",
)


@dataclass(frozen=True)
class BestWorst:
    """The account comparison: who counts as best and worst, and the table."""

    best_rule: str
    worst_rule: str
    best: int
    worst: int
    table: pl.DataFrame


@dataclass(frozen=True)
class Profile:
    """Everything ``profile`` computes, before it is written anywhere."""

    evidence: Evidence
    overall: float
    min_deals: int
    table: pl.DataFrame
    best_worst: BestWorst | None
    best_worst_note: str
    probes: tuple[EventCriterion, ...]
    proposal: Proposal

    @property
    def rules_text(self) -> str:
        """The proposed rules file's text."""
        return self.proposal.text

    @property
    def rules(self) -> Rules:
        """The proposed rules, parsed."""
        return self.proposal.rules

    @property
    def split(self) -> Split:
        """The temporal split the proposal was trained and checked on."""
        return self.proposal.validation.split


# --------------------------------------------------------------------------------------
# The per-value table
# --------------------------------------------------------------------------------------


def deal_values(
    evidence: Evidence, probes: list[EventCriterion]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every deal with ``_row`` (0 .. n - 1) and ``_won``, and its values in long form."""
    deals = evidence.deals
    if probes:
        deals = attach_signals_at(deals.lazy(), probes, evidence.events, "created_date").collect()
    units = deals.with_columns(
        _row=pl.int_range(pl.len(), dtype=pl.Int64),
        _pos=pl.col("is_won"),
        _won=pl.col("is_won"),
        _amount=pl.col("amount"),
    )
    long = (
        long_values(units.lazy(), units.schema, probes)
        .select("_row", "attribute", "value", _won="_pos")
        .collect()
    )
    return units, long


def value_table(
    units: pl.DataFrame,
    long: pl.DataFrame,
    rows: np.ndarray | None,
    min_deals: int,
    *,
    replicates: int = TABLE_REPLICATES,
    seed: int = SEED,
) -> pl.DataFrame:
    """Per attribute value of the deals in ``rows`` (all if None): counts, rates, tests.

    ``win_rate`` and ``lift`` (over the deals' overall rate) carry 95% intervals from
    resampling accounts (``inference.bootstrap_rates``); ``z`` and ``p`` compare the value's
    deals with the others, cluster-robust (``inference.clustered_tests``); ``q`` is ``p``
    adjusted by Benjamini-Hochberg over every value in the table, and ``significant``
    means ``q <= FDR``. ``too_few``: fewer than ``min_deals`` deals.
    """
    deals = units.select("_row", "account_id", "is_won", "amount")
    if rows is not None:
        deals = deals.filter(pl.Series(rows))
        long = long.join(deals.select("_row"), on="_row", how="semi")
    overall = float(deals.get_column("is_won").mean())  # type: ignore[arg-type]
    counts = (
        long.join(deals.select("_row", "amount"), on="_row")
        .group_by("attribute", "value")
        .agg(
            deals=pl.len().cast(pl.Int64),
            won=pl.col("_won").sum().cast(pl.Int64),
            avg_won_amount=pl.col("amount").filter(pl.col("_won")).mean(),
        )
    )
    tests = clustered_tests(long.select("_row", "attribute", "value"), deals)
    tests = tests.with_columns(q=pl.Series(bh_adjust(tests.get_column("p").to_numpy())))
    order = {a: i for i, a in enumerate(ATTRIBUTE_ORDER)}
    table = (
        counts.join(tests.drop("n", "won"), on=["attribute", "value"])
        .with_columns(
            lost=pl.col("deals") - pl.col("won"),
            win_rate=pl.col("won") / pl.col("deals"),
            lift=pl.col("won") / pl.col("deals") / overall,
            significant=(pl.col("q") <= FDR).fill_null(False),
            too_few=pl.col("deals") < min_deals,
            _order=pl.col("attribute").replace_strict(order, return_dtype=pl.Int32),
        )
        .sort(["_order", "lift", "deals", "value"], descending=[False, True, True, False])
        .drop("_order")
    )
    bounds = bootstrap_rates(
        long.select("_row", "attribute", "value"),
        deals.select("_row", "account_id", "is_won"),
        table.select("attribute", "value"),
        replicates,
        seed,
    )
    return table.with_columns(
        ci_low=pl.Series(bounds["rate_low"]),
        ci_high=pl.Series(bounds["rate_high"]),
        lift_low=pl.Series(bounds["lift_low"]),
        lift_high=pl.Series(bounds["lift_high"]),
    ).with_columns(pl.col(pl.Float64).fill_nan(None))


# --------------------------------------------------------------------------------------
# The profile
# --------------------------------------------------------------------------------------


def profile_evidence(
    evidence: Evidence,
    *,
    min_deals: int = MIN_DEALS,
    holdout: float = HOLDOUT,
    replicates: int = FIT_REPLICATES,
    seed: int = SEED,
    segments: bool = True,
) -> Profile:
    """Describe every attribute value, then propose rules trained on the older deals and
    checked on the newest ``holdout`` share.

    Raises:
        DataError: Fewer than ``MIN_CLOSED_DEALS`` closed deals, or a part of the split
            with only wins or only losses.
    """
    mask, split = temporal_split(evidence.deals.get_column("created_date"), holdout)
    refuse_if_too_few(evidence, mask, split)
    probes = signal_probes(evidence.events)
    units, long = deal_values(evidence, probes)
    table = value_table(units, long, None, min_deals, seed=seed)

    def training_table(rows: np.ndarray) -> pl.DataFrame:
        return value_table(units, long, rows, min_deals, replicates=200, seed=seed)

    scopes, note, c = (
        find_segments(units, long, ~mask, mask, min_deals, seed=seed, base_name=SEGMENT_NAME)
        if segments
        else ([], "one segment: not looked for more", None)
    )
    if not scopes:
        scopes = [Scope(SEGMENT_NAME, "Drawn from won and lost deals")]
    proposal = propose_icp(
        evidence,
        units,
        long,
        probes,
        mask,
        split,
        training_table,
        scopes,
        note,
        min_deals,
        replicates=replicates,
        seed=seed,
        c=c,
    )
    by_label = {p.label: p for p in probes}
    table = table.with_columns(
        proposed=_proposed(table, proposal),
        rule=pl.Series(
            [rule_text(a, v, by_label) for a, v in table.select("attribute", "value").iter_rows()],
            dtype=pl.String,
        ),
    )
    best_worst, bw_note = best_versus_worst(evidence, min_deals)
    return Profile(
        evidence=evidence,
        overall=float(units.get_column("is_won").mean()),  # type: ignore[arg-type]
        min_deals=min_deals,
        table=table,
        best_worst=best_worst,
        best_worst_note=bw_note,
        probes=tuple(probes),
        proposal=proposal,
    )


def _proposed(table: pl.DataFrame, proposal: Proposal) -> pl.Series:
    """What the proposal made of each value: ``exclude``, ``+13 points``, or empty."""
    seen: dict[tuple[str, str], list[str]] = {}
    many = len(proposal.segments) > 1
    for plan in proposal.segments:
        where = f" ({plan.scope.name})" if many else ""
        for f in plan.filters:
            for v in f.values:
                seen.setdefault((f.attribute, v), []).append(f"exclude{where}")
        for t in plan.terms:
            seen.setdefault((t.attribute, t.value), []).append(f"{t.points:+d} points{where}")
    return pl.Series(
        [
            "; ".join(seen.get((a, v), []))
            for a, v in table.select("attribute", "value").iter_rows()
        ],
        dtype=pl.String,
    )


def _compare(
    units: pl.DataFrame, probes: Sequence[EventCriterion], min_n: int
) -> tuple[pl.DataFrame, float]:
    """Per attribute value: units, positives, rate, interval, lift; and the overall rate.

    ``units`` has ``_row`` (unique), ``_pos`` (won, or best), ``_amount`` and attributes.
    """
    overall = units.get_column("_pos").mean()
    assert isinstance(overall, float)
    long = long_values(units.lazy(), units.schema, probes)
    won_amount = pl.col("_amount").filter(pl.col("_pos"))
    order = {a: i for i, a in enumerate(ATTRIBUTE_ORDER)}
    table = (
        long.group_by("attribute", "value")
        .agg(
            n=pl.len().cast(pl.Int64),
            pos=pl.col("_pos").sum().cast(pl.Int64),
            avg_won_amount=won_amount.mean(),
        )
        .with_columns(neg=pl.col("n") - pl.col("pos"))
        .with_columns(rate_columns("pos", "n", overall, min_n))
        .with_columns(_order=pl.col("attribute").replace_strict(order, return_dtype=pl.Int32))
        .sort(["_order", "lift", "n", "value"], descending=[False, True, True, False])
        .drop("_order")
        .collect()
    )
    return table, overall


def best_versus_worst(evidence: Evidence, min_n: int) -> tuple[BestWorst | None, str]:
    """Compare the best accounts with the worst on company attributes.

    Best: accounts with a won deal, not churned, whose total won amount is in the top
    quarter (with no amounts at all: more than one won deal, i.e. they expanded). Worst:
    accounts whose CRM status is ``churned``; without any, the bottom quarter by won
    amount. Returns ``None`` and the reason when either group is empty.
    """
    deals = evidence.deals
    per_account = deals.group_by("account_id").agg(
        won_deals=pl.col("is_won").sum(),
        won_amount=pl.col("amount").filter(pl.col("is_won")).sum(),
        amounts=pl.col("amount").filter(pl.col("is_won")).is_not_null().sum(),
    )
    accounts = evidence.accounts.join(per_account, on="account_id", how="left")
    churned = (pl.col("status") == "churned").fill_null(False)
    customers = accounts.filter((pl.col("won_deals") > 0) & ~churned)
    has_amounts = customers.get_column("amounts").sum() > 0
    if has_amounts:
        cut = customers.get_column("won_amount").quantile(BEST_QUANTILE, "nearest")
        best = customers.filter(pl.col("won_amount") >= cut)
        best_rule = (
            f"customers with a won deal, not churned, in the top quarter by won amount: "
            f"at least {money(cut)}"
        )
    else:
        best = customers.filter(pl.col("won_deals") > 1)
        best_rule = "customers (not churned) with more than one won deal"
    n_churned = accounts.filter(churned).height
    if n_churned:
        worst = accounts.filter(churned)
        worst_rule = "accounts whose CRM status is churned"
    elif has_amounts:
        low = customers.get_column("won_amount").quantile(1 - BEST_QUANTILE, "nearest")
        worst = customers.filter(pl.col("won_amount") <= low)
        worst_rule = f"customers in the bottom quarter by won amount: at most {money(low)}"
    else:
        return None, "no churned accounts and no deal amounts, so no worst accounts to compare"
    worst = worst.join(best.select("account_id"), on="account_id", how="anti")
    if best.height == 0 or worst.height == 0:
        return None, f"{best.height} best and {worst.height} worst accounts: nothing to compare"
    table = _best_worst_table(deals, best, worst, min_n)
    note = f"best: {best_rule}; worst: {worst_rule}"
    return BestWorst(best_rule, worst_rule, best.height, worst.height, table), note


def _best_worst_table(
    deals: pl.DataFrame, best: pl.DataFrame, worst: pl.DataFrame, min_n: int
) -> pl.DataFrame:
    """Per attribute value, how many best and worst accounts have it, and the lift."""
    companies = deals.drop("amount").unique("company_id", keep="first", maintain_order=True)
    units = (
        pl.concat(
            [
                best.select("account_id", "company_id", _pos=pl.lit(True)),
                worst.select("account_id", "company_id", _pos=pl.lit(False)),
            ]
        )
        .sort("account_id")
        .join(
            companies.drop("account_id", "is_won"),
            on="company_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(_row=pl.int_range(pl.len(), dtype=pl.Int64), _amount=pl.lit(None, pl.Float64))
    )
    table, _ = _compare(units, [], min_n)
    table = table.select(
        "attribute",
        "value",
        accounts="n",
        best="pos",
        worst="neg",
        best_rate="win_rate",
        ci_low="ci_low",
        ci_high="ci_high",
        lift="lift",
        lift_low="lift_low",
        lift_high="lift_high",
        z="z",
        too_few="too_few",
    ).with_columns(
        rule=pl.Series(
            [rule_text(a, v, {}) for a, v in table.select("attribute", "value").iter_rows()],
            dtype=pl.String,
        )
    )
    return table


# --------------------------------------------------------------------------------------
# profile.md
# --------------------------------------------------------------------------------------


def _md_rows(frame: pl.DataFrame, limit: int = 8) -> list[str]:
    out = [
        "| attribute | value | deals | win rate | lift (95% CI) | q | proposed |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in frame.head(limit).iter_rows(named=True):
        out.append(
            f"| {r['attribute']} | {r['value']} | {r['deals']:,} | {percent(r['win_rate'])} | "
            f"{_lift_text(r)} | {_q(r['q'])} | {r['proposed'] or '-'} |"
        )
    return out


def _lift_text(r: dict) -> str:
    low, high = r["lift_low"], r["lift_high"]
    bounds = f"{low:.2f}-{high:.2f}" if low is not None and high is not None else "-"
    return f"{r['lift']:.2f} ({bounds})"


def _q(q: float | None) -> str:
    if q is None:
        return "-"
    return "<0.001" if q < 0.001 else f"{q:.3f}"


def _section(title: str, frame: pl.DataFrame, empty: str) -> list[str]:
    lines = [f"## {title}", ""]
    if frame.height == 0:
        return [*lines, empty, ""]
    return [*lines, *_md_rows(frame), ""]


def clear_values(table: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """FDR-significant values of at least the minimum deals: above and below the rest."""
    usable = table.filter(pl.col("significant") & ~pl.col("too_few"))
    better = usable.filter(pl.col("lift") > 1).sort("lift", descending=True)
    worse = usable.filter(pl.col("lift") < 1).sort("lift")
    return better, worse


def render_markdown(profile: Profile) -> str:
    """The one-page ICP draft: what wins, what loses, the proposal and its holdout check."""
    q = profile.evidence.quality
    better, worse = clear_values(profile.table)
    overall = percent(profile.overall)
    lines = [
        "# ICP draft from closed deals",
        "",
        f"From {q.used:,} closed deals ({q.won:,} won, {q.lost:,} lost; win rate {overall}) "
        f"created {q.first_created} to {q.last_created}, on "
        f"{profile.evidence.accounts.height:,} CRM accounts matched to companies. "
        f"Lift is a group's win rate divided by {overall}; its 95% interval comes from "
        "resampling whole accounts, since one account's deals are not independent. q is "
        "the p-value of the group against the other deals, adjusted for the "
        f"{profile.table.height:,} values tested (Benjamini-Hochberg); listed are groups "
        f"of at least {profile.min_deals} deals with q at most {FDR}. Signals count only "
        "events up to each deal's created date; company attributes are today's values. "
        "Lifts are one attribute at a time, so attributes that travel together share "
        "credit: the scorecard below separates them.",
        "",
    ]
    lines += _section(
        "Firmographics",
        better.filter(pl.col("attribute").is_in(FIRMOGRAPHICS)),
        "No firmographic value wins clearly more often than the rest.",
    )
    lines += _section(
        "Technographics",
        better.filter(pl.col("attribute") == "technologies"),
        "No technology wins clearly more often than the rest.",
    )
    lines += _section(
        "Signals (as of each deal's created date)",
        better.filter(pl.col("attribute") == "signal"),
        "No signal wins clearly more often than the rest (or no events were given).",
    )
    lines += _section(
        "Anti-ICP: the worst lift",
        worse,
        "No attribute value loses clearly more often than the rest.",
    )
    lines += _best_worst_md(profile)
    lines += _proposal_md(profile)
    lines += ["## Data", "", *(f"- {line}" for line in q.lines()), ""]
    return "\n".join(lines)


def _best_worst_md(profile: Profile) -> list[str]:
    lines = ["## Best versus worst accounts", ""]
    bw = profile.best_worst
    if bw is None:
        return [*lines, f"Not compared: {profile.best_worst_note}.", ""]
    lines += [
        f"{bw.best:,} best accounts ({bw.best_rule}) against {bw.worst:,} worst "
        f"({bw.worst_rule}). Share that are best, by attribute, where the interval "
        "excludes the overall share (full table: best_vs_worst.csv):",
        "",
    ]
    clear = bw.table.filter(
        ~pl.col("too_few") & ((pl.col("lift_low") > 1) | (pl.col("lift_high") < 1))
    ).sort("lift", descending=True)
    if clear.height == 0:
        return [*lines, "No attribute value separates them clearly.", ""]
    lines += [
        "| attribute | value | accounts | best | lift (95% CI) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in clear.head(10).iter_rows(named=True):
        lines.append(
            f"| {r['attribute']} | {r['value']} | {r['accounts']:,} | "
            f"{percent(r['best_rate'])} | {_lift_text(r)} |"
        )
    return [*lines, ""]


def _proposal_md(profile: Profile) -> list[str]:
    proposal = profile.proposal
    v = proposal.validation
    split = v.split
    lines = ["## Proposed rules", ""]
    if split.holdout:
        lines.append(
            f"Trained on the {split.train:,} deals created before {split.cutoff}; checked "
            f"on the {split.holdout:,} created since ({split.share:.0%}), which played no "
            "part in choosing the rules."
        )
    else:
        lines.append("No deals held out (--holdout 0): every figure below is in-sample.")
    lines += ["", f"{proposal.segment_note}.", ""]
    for plan in proposal.segments:
        lines += [f"### Segment `{plan.scope.name}`", ""]
        for f in plan.scope.include:
            lines.append(f"- in the segment: {f.condition().describe()}")
        for f in plan.scope.exclude:
            lines.append(f"- in the segment: not {f.condition().describe()}")
        for f in plan.filters:
            lines.append(f"- exclude: {f.condition().describe()} — why: {'; '.join(f.reasons)}")
        if not plan.filters:
            lines.append("- exclude: nothing (no value is both significant and extreme)")
        lines += [
            "",
            f"Scorecard fitted on {plan.train_deals:,} training deals ({plan.train_won:,} "
            f"won); {POINTS_PER_DOUBLING} points double the odds of a win.",
            "",
            "| value | coefficient (95% CI) | kept in refits | points |",
            "| --- | ---: | ---: | ---: |",
        ]
        for t in plan.terms:
            lines.append(
                f"| {t.attribute}: {t.value} | {t.coef:+.2f} ({t.low:+.2f} to {t.high:+.2f}) | "
                f"{t.selected:.0%} | {t.points:+d} |"
            )
        lines.append("")
    lines += ["### Not filters, though they look it", ""]
    lines += _not_filters(profile) or ["Every clearly worse value is a filter."]
    lines += ["", "### On the held-out deals", ""]
    lines += [
        f"Win rate of the held-out deals: {percent(v.base_rate)}. AUC (how often a won deal "
        f"outranks a lost one; 0.5 is chance): {v.auc.text()}.",
        "",
        "| segment | tier | min score | deals | win rate (95% CI) | lift | companies |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in v.tiers.iter_rows(named=True):
        ci = f"{percent(r['ci_low'])}-{percent(r['ci_high'])}" if r["deals"] else "-"
        lift = f"{r['lift']:.2f}" if r["deals"] else "-"
        companies = f"{r['companies']:,}" if r["companies"] is not None else "-"
        minimum = "" if r["min_score"] is None else str(r["min_score"])
        lines.append(
            f"| {r['segment']} | {r['tier']} | {minimum} | {r['deals']:,} | "
            f"{percent(r['win_rate'])} ({ci}) | {lift} | {companies} |"
        )
    lines += ["", *_list_size(v.list_sizes, v.as_of), ""]
    if v.calibration.height:
        lines += [
            "Calibration (held-out deals by score band: the scorecard's predicted win rate "
            "against the observed one):",
            "",
            "| segment | score | deals | predicted | observed (95% CI) |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for r in v.calibration.iter_rows(named=True):
            lines.append(
                f"| {r['segment']} | {r['score_from']} to {r['score_to']} | {r['deals']:,} | "
                f"{percent(r['predicted'])} | {percent(r['win_rate'])} "
                f"({percent(r['ci_low'])}-{percent(r['ci_high'])}) |"
            )
        lines.append("")
    return lines


def _list_size(sizes: dict[str, int], as_of: object) -> list[str]:
    if not sizes:
        return ["List size: not estimated (no company data)."]
    parts = []
    for name, n in sizes.items():
        where = "within" if 2_000 <= n <= 10_000 else ("below" if n < 2_000 else "above")
        parts.append(f"`{name}` lists {n:,} companies ({where} the 2,000 to 10,000 band)")
    return [
        "List size (every tier, signals as of "
        f"{as_of}, before CRM suppression and caps): " + "; ".join(parts) + "."
    ]


def _not_filters(profile: Profile) -> list[str]:
    """Why each clearly worse value that is not an exclude was not made one."""
    _, worse = clear_values(profile.table)
    plan = profile.proposal.segments[0]
    checked = (
        {(r["attribute"], r["value"]): r for r in plan.checked.iter_rows(named=True)}
        if plan.checked.height
        else {}
    )
    out = []
    rows = worse.filter(~pl.col("proposed").str.contains("exclude")).head(8)
    for r in rows.iter_rows(named=True):
        seen = checked.get((r["attribute"], r["value"]))
        if r["attribute"] == "signal":
            why = "the absence of a signal cannot be a filter"
        elif r["attribute"] not in FILTERABLE:
            why = "not an attribute filters are made on"
        elif seen is not None:
            why = (
                f"its deals win {seen['adjusted']:.2f} times what the scorecard expects from "
                f"the rest of these companies ({seen['adjusted_low']:.2f}-"
                f"{seen['adjusted_high']:.2f}), short of {EXTREME_LIFT} with the interval "
                f"below {EXTREME_LIFT_HIGH} once the rest is known"
            )
        elif r["won"] == 0:
            why = f"no win, but in only {r['deals']} deals (a filter needs {NO_WIN_DEALS})"
        elif r["lift"] >= EXTREME_LIFT:
            why = f"lift not below {EXTREME_LIFT}"
        elif r["lift_high"] is None or r["lift_high"] >= EXTREME_LIFT_HIGH:
            reach = _num(r["lift_high"])
            why = f"its interval reaches {reach}, not wholly below {EXTREME_LIFT_HIGH}"
        else:
            why = (
                "on the older (training) deals alone it is not both significant and extreme "
                f"in at least {profile.min_deals} deals"
            )
        result = r["proposed"] or "no points either: the scorecard left it out"
        out.append(f"- {r['attribute']} {r['value']}: lift {_lift_text(r)}; {why}; {result}.")
    return out


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    """Round rates to 4 and amounts to 2 decimals, so files stay small and stable."""
    # p and q span hundreds of orders of magnitude: four significant figures, which
    # also hides the last bits a parallel sum may order differently from run to run.
    return frame.with_columns(
        pl.col(c).round_sig_figs(4)
        if c in ("p", "q")
        else pl.col(c).round(2 if c == "avg_won_amount" else 4)
        for c, dtype in frame.schema.items()
        if dtype == pl.Float64
    )


def write_profile(profile: Profile, out: str | Path) -> list[str]:
    """Write profile.csv, best_vs_worst.csv (when compared), holdout.csv, calibration.csv,
    profile.md and proposed_rules.toml into ``out``, replaced whole; return the names."""
    names = ["profile.csv", "holdout.csv", "profile.md", "proposed_rules.toml"]
    v = profile.proposal.validation
    with atomic_directory(out, "profile") as tmp:
        write_csv(_rounded(profile.table.select(TABLE_COLUMNS)), tmp / "profile.csv")
        write_csv(_rounded(v.tiers), tmp / "holdout.csv")
        if v.calibration.height:
            write_csv(_rounded(v.calibration), tmp / "calibration.csv")
            names.insert(2, "calibration.csv")
        if profile.best_worst is not None:
            write_csv(
                _rounded(profile.best_worst.table.select(BEST_COLUMNS)), tmp / "best_vs_worst.csv"
            )
            names.insert(1, "best_vs_worst.csv")
        (tmp / "profile.md").write_text(render_markdown(profile), encoding="utf-8")
        (tmp / "proposed_rules.toml").write_text(profile.rules_text, encoding="utf-8")
    return names


def run_profile(
    *,
    companies_path: str | Path,
    crm_path: str | Path,
    opportunities_path: str | Path,
    out: str | Path,
    jobs_path: str | Path | None = None,
    funding_path: str | Path | None = None,
    min_deals: int = MIN_DEALS,
    holdout: float = HOLDOUT,
    matches: str | Path | None = None,
    events_paths: Mapping[str, str | Path] | None = None,
) -> Profile:
    """Read the inputs, profile the closed deals and write the profile directory.

    ``matches`` is a stored ``listbuilder match`` run directory used instead of matching
    the CRM to the companies again. ``events_paths`` are further event tables by name
    (``exec_hires``, ``headcount``...); each becomes signals as of every deal's created
    date (see ``values.signal_probes``).
    """
    check_output_dir(out, "profile")
    tables = read_event_tables(jobs_path, funding_path, events_paths)
    # A measurement's "then" may lie before any window, so growth tables keep their history.
    growth = frozenset(
        name
        for name, source in tables.items()
        if name not in ("hiring", "funding") and measure_columns(source.frame.collect_schema())
    )
    evidence = gather_evidence(
        read_source(companies_path, "companies"),
        read_source(crm_path, "crm"),
        read_source(opportunities_path, "opportunities"),
        widest_days=WIDEST_DAYS,
        matches=matches,
        events=tables,
        whole_history=growth,
    )
    profile = profile_evidence(evidence, min_deals=min_deals, holdout=holdout)
    write_profile(profile, out)
    return profile


def format_profile(profile: Profile, limit: int = 5) -> str:
    """A short terminal summary: the counts, the clearest lifts, the proposal's check."""
    better, worse = clear_values(profile.table)
    lines = [*profile.evidence.quality.lines(), ""]
    for title, frame in (("highest lift", better), ("lowest lift", worse)):
        lines.append(f"{title} (q <= {FDR}, at least {profile.min_deals} deals):")
        if frame.height == 0:
            lines.append("  (none clear of the other deals)")
        for r in frame.head(limit).iter_rows(named=True):
            lines.append(
                f"  {r['attribute']} = {r['value']}: {r['deals']:,} deals, win rate "
                f"{percent(r['win_rate'])}, lift {_lift_text(r)}, q {_q(r['q'])}"
            )
    proposal = profile.proposal
    v = proposal.validation
    lines += ["", f"proposed: {proposal.segment_note}"]
    for plan in proposal.segments:
        lines.append(
            f"  {plan.scope.name}: {len(plan.filters)} exclude(s), {len(plan.terms)} "
            "scorecard line(s), tiers at " + ", ".join(str(m) for _, m, _ in plan.tiers)
        )
    where = (
        f"held-out deals (created {v.split.cutoff} or later: {v.split.holdout:,})"
        if v.split.holdout
        else "training deals (nothing held out)"
    )
    lines += [f"on the {where}: AUC {v.auc.text()}, win rate {percent(v.base_rate)}"]
    lines += [f"  {line}" for line in describe_tiers(v)]
    lines += _list_size(v.list_sizes, v.as_of)
    return "\n".join(lines)
