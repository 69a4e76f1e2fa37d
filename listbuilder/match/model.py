"""Matching companies to CRM accounts.

``match_crm`` is the entry point the rest of the package uses: it takes companies
(``company_id``, ``name``, ``domain``, optionally ``country``, ``city``, ``region``) and
CRM accounts (the same with ``account_id``) and returns every matched pair with how it
matched, its match probability and the evidence. ``match_frames`` does the same work and
also returns the pairs a person should review and the counts behind them; ``run_match``
(in ``listbuilder.match.command``) reads files and writes a run directory around it.

How a pair is decided (``docs/matching-model.md`` works one pair through, from fields to
probability; ``docs/matching.md`` is the guide to the ``match`` command):

1. A pair a person decided is never second-guessed: ``match`` makes a match
   (``method = confirmed``) and ``no_match`` removes the pair, whatever the model thinks.
2. Candidate pairs: every pair with the same registrable domain, and for accounts without
   one, the pairs blocking lets through (``listbuilder.match.blocking``).
3. Each candidate is compared field by field (``listbuilder.match.compare``) and weighed
   by a Fellegi-Sunter model (``listbuilder.match.linkage``) estimated on the run's own
   records: the summed weights give a match probability (``score``, 0-1), and the
   evidence says which field gave how much (``domain differs -9.1; name 0.97 +6.2``).
4. Each account keeps its best company: a match when its probability is at least
   ``threshold`` and no veto stops it (numbers that differ, two countries, a name that
   is only words inside the other or an acronym without a domain that agrees);
   otherwise its best candidates at or above ``review_threshold`` go to review. When
   several companies share the best weight, nothing tells them apart: ``match_frames``
   sends them to review, ``match_crm`` (for suppression, where missing a customer is the
   worse mistake) matches them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from listbuilder.errors import ConfigError
from listbuilder.match.blocking import Blocks, candidate_pairs
from listbuilder.match.compare import compare, prepare
from listbuilder.match.linkage import (
    FIELDS,
    MIN_PAIRS_TO_ESTIMATE,
    U_SAMPLE,
    VETOES,
    Model,
    estimate,
    prior_model,
    score,
)
from listbuilder.progress import QUIET, Progress

MATCH_SCHEMA = {
    "company_id": pl.String,
    "account_id": pl.String,
    "method": pl.String,
    "score": pl.Float64,
    "weight": pl.Float64,
    "evidence": pl.String,
}
PAIR_COLUMNS = (
    "company_id",
    "account_id",
    "method",
    "score",
    "weight",
    "evidence",
    "company_name",
    "crm_name",
    "company_domain",
    "crm_domain",
)
METHODS = ("confirmed", "domain", "name", "fuzzy", "acronym")

# Match probabilities. Chosen on the labelled training set (tests/data, the sample CRM) and
# checked on held-out real names (tests/test_match_benchmark.py): docs/matching-model.md.
DEFAULT_THRESHOLD = 0.85
DEFAULT_REVIEW_THRESHOLD = 0.001
# ``match_crm`` serves suppression, where pitching a customer is the worse mistake: a pair
# more likely than not one organisation (and not vetoed) counts there.
SUPPRESSION_THRESHOLD = 0.5
# Pairs per blocking key before the key counts as too common to identify anything.
MAX_BLOCK_PAIRS = 2_000
REVIEW_CANDIDATES = 3
# Candidate pairs scored at a time.
SCORING_SLICE = 500_000
SCORING_STAGE = "scoring candidate pairs"


@dataclass(frozen=True)
class MatchSettings:
    """The thresholds and limits of one matching run.

    Args:
        threshold: A pair whose match probability is at least this (0-1), and which no
            veto stops, is a match.
        review_threshold: A pair with at least this probability goes to review, for an
            account with no match.
        max_block_pairs: A blocking key that would pair more records than this (scaled
            by its kind, see ``listbuilder.match.blocking``) is dropped as too common.
        review_candidates: At most this many candidates per account go to review.
    """

    threshold: float = DEFAULT_THRESHOLD
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD
    max_block_pairs: int = MAX_BLOCK_PAIRS
    review_candidates: int = REVIEW_CANDIDATES

    def __post_init__(self) -> None:
        for name in ("threshold", "review_threshold"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ConfigError(f"`{name}` must be a probability between 0 and 1, got {value}")
        if self.review_threshold > self.threshold:
            raise ConfigError(
                f"the review threshold ({self.review_threshold:g}) must not be above the "
                f"match threshold ({self.threshold:g})"
            )


@dataclass(frozen=True)
class MatchResult:
    """A matching run's outputs, before they are written anywhere.

    ``matches`` and ``review`` have ``PAIR_COLUMNS`` (``review`` also ``rank``, the
    candidate's place for its account); ``duplicates`` lists companies that share a
    registrable domain with an earlier one (``company_id``, ``duplicate_of``, ``domain``);
    ``counts`` holds the figures behind them.
    """

    matches: pl.DataFrame
    review: pl.DataFrame
    duplicates: pl.DataFrame
    counts: dict[str, Any] = field(default_factory=dict)


def _scored_schema() -> dict[str, Any]:
    return {
        "ci": pl.UInt32,
        "ai": pl.UInt32,
        **dict.fromkeys(FIELDS, pl.Int8),
        "sim": pl.Float64,
        "method": pl.String,
    }


def _compare_all(pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """``compare`` in slices, so memory stays flat however many pairs there are."""
    parts = [
        compare(pairs.slice(start, SCORING_SLICE), left, right)
        for start in range(0, pairs.height, SCORING_SLICE)
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=_scored_schema())


def random_pairs(n_left: int, n_right: int, size: int = U_SAMPLE) -> pl.DataFrame:
    """``size`` pairs of row numbers drawn uniformly at random, with a fixed seed.

    The seed is fixed so the same inputs give the same model and the same outputs.
    """
    if n_left == 0 or n_right == 0:
        return pl.DataFrame(schema={"ci": pl.UInt32, "ai": pl.UInt32})
    rng = np.random.default_rng(20261129)
    size = min(size, n_left * n_right)
    return pl.DataFrame(
        {
            "ci": rng.integers(0, n_left, size, dtype=np.uint32),
            "ai": rng.integers(0, n_right, size, dtype=np.uint32),
        }
    )


def match_frames(
    companies: pl.DataFrame | pl.LazyFrame,
    crm: pl.DataFrame | pl.LazyFrame,
    settings: MatchSettings | None = None,
    *,
    confirmed: pl.DataFrame | None = None,
    collapse_duplicates: bool = False,
    ambiguous_match: bool = False,
    model: Model | None = None,
    progress: Progress = QUIET,
) -> MatchResult:
    """Match companies to CRM accounts: matches, pairs to review and the counts.

    Args:
        companies: ``company_id``, ``name``, ``domain`` and optionally ``country``,
            ``city``, ``region``.
        crm: ``account_id``, ``name``, optionally the same columns.
        settings: Thresholds and limits (defaults: ``MatchSettings()``).
        confirmed: A person's decisions (``company_id``, ``account_id``, ``decision`` of
            ``match`` or ``no_match``); pairs naming records not given are ignored.
        collapse_duplicates: Companies sharing a registrable domain take part once, as the
            first of them by ``company_id``; the others are listed in ``duplicates``.
        ambiguous_match: An account whose best weight (at or above the threshold) several
            companies share matches all of them; without it, they go to review.
        model: Use these parameters instead of estimating them on the inputs.
        progress: Where to announce each stage (with its time under ``--verbose``).
    """
    settings = settings or MatchSettings()
    with progress.stage("normalising names and domains") as stage:
        left, right = pl.collect_all([prepare(companies, "company_id"), prepare(crm, "account_id")])
        stage.rows = left.height + right.height
    dup_flags = _domain_duplicates(left)
    duplicates = dup_flags.drop("idx").sort("company_id")
    active = left
    if collapse_duplicates and dup_flags.height:
        active = left.join(dup_flags.select("idx"), on="idx", how="anti")

    decisions = _decisions(confirmed, left, right)
    rejected = decisions.filter(pl.col("decision") == "no_match").select("ci", "ai")
    accepted = decisions.filter(pl.col("decision") == "match").select("ci", "ai")

    with progress.stage("matching domains") as stage:
        by_domain = _by_domain(active, right).join(rejected, on=["ci", "ai"], how="anti")
        stage.rows = by_domain.height
    blocks, candidates = _candidate_pairs(
        active, right, by_domain, accepted, rejected, settings, progress
    )
    with progress.stage(SCORING_STAGE) as stage:
        levels = _compare_all(candidates, left, right)
        if model is None:
            model = _estimated_model(levels, active, left, right)
        scored = score(levels, model)
        stage.rows = candidates.height

    with progress.stage("choosing matches") as stage:
        matched, review, ambiguous = _choose(scored, accepted, settings, ambiguous_match)
        matches = _describe(matched, left, right).sort(["company_id", "account_id"])
        review_out = (
            _describe(review, left, right, extra=("rank", "_best"))
            .sort(["_best", "account_id", "rank"], descending=[True, False, False])
            .drop("_best")
        )
        stage.rows = matches.height
    counts = _counts(
        ambiguous,
        settings,
        left,
        right,
        matches,
        review_out,
        duplicates,
        blocks,
        candidates,
        decisions,
        collapse_duplicates,
    )
    counts["model"] = _model_summary(model, scored)
    return MatchResult(matches, review_out, duplicates, counts)


def _domain_duplicates(left: pl.DataFrame) -> pl.DataFrame:
    """Companies sharing a registrable domain with an earlier one (by ``company_id``)."""
    return (
        left.filter(pl.col("dom").is_not_null())
        .sort("id", "idx")
        .with_columns(first=pl.col("id").first().over("dom"))
        .filter(pl.col("id") != pl.col("first"))
        .select("idx", company_id="id", duplicate_of="first", domain="dom")
    )


def _candidate_pairs(
    active: pl.DataFrame,
    right: pl.DataFrame,
    by_domain: pl.DataFrame,
    accepted: pl.DataFrame,
    rejected: pl.DataFrame,
    settings: MatchSettings,
    progress: Progress,
) -> tuple[Blocks, pl.DataFrame]:
    """The blocks, and every pair to compare: domain matches and blocked name pairs."""
    # An account with a company of the same domain is compared with those companies only:
    # the domain says who it is.
    resolved = pl.concat([accepted.select("ai"), by_domain.select("ai")]).unique()
    named_left = active.filter(pl.col("norm").is_not_null())
    named_right = right.filter(pl.col("norm").is_not_null()).join(
        resolved, left_on="idx", right_on="ai", how="anti"
    )
    with progress.stage("blocking") as stage:
        blocks = candidate_pairs(
            named_left.lazy(), named_right.lazy(), max_block_pairs=settings.max_block_pairs
        )
        candidates = (
            pl.concat([by_domain, blocks.pairs])
            .unique(maintain_order=True)
            .join(rejected, on=["ci", "ai"], how="anti")
        )
        stage.rows = candidates.height
    return blocks, candidates


def _estimated_model(
    levels: pl.DataFrame, active: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame
) -> Model:
    """Parameters estimated on the candidate pairs and a random sample of all pairs."""
    total = active.height * right.height
    larger = max(active.height, right.height)
    if levels.height < MIN_PAIRS_TO_ESTIMATE or total <= 0:
        # Too few pairs to estimate from: ``estimate`` keeps the prior and would not look
        # at the random sample, so none is drawn or compared.
        return estimate(levels, levels, total, prior_model(), larger_side=larger)
    sample = random_pairs(active.height, right.height)
    sample_levels = _compare_all(
        sample.with_columns(ci=active["idx"].gather(sample["ci"])), left, right
    )
    return estimate(
        levels,
        sample_levels,
        total,
        prior_model(),
        exact_name_pairs=_equal_name_pairs(active, right),
        larger_side=larger,
    )


def _equal_name_pairs(left: pl.DataFrame, right: pl.DataFrame) -> int:
    """How many (company, account) pairs have the same normalised name: a join of counts."""
    counts = [
        side.filter(pl.col("core").is_not_null()).group_by("norm").len(name)
        for side, name in ((left, "nc"), (right, "na"))
    ]
    joined = counts[0].join(counts[1], on="norm")
    return int((joined["nc"].cast(pl.Int64) * joined["na"]).sum())


def _model_summary(model: Model, scored: pl.DataFrame) -> dict[str, Any]:
    """The parameters used, each level's weight, and how many pairs each veto stopped."""
    weights = model.weights()
    vetoed = scored["veto"].drop_nulls()
    return {
        **model.to_dict(),
        "prior_weight": round(model.prior_weight(), 3),
        "weights": {
            f: {lv: round(w, 3) for lv, w in zip(FIELDS[f], weights[f], strict=True)}
            for f in FIELDS
        },
        "vetoed_pairs": {v: int(vetoed.str.contains(v, literal=True).sum()) for v in VETOES},
    }


def _choose(
    scored: pl.DataFrame,
    accepted: pl.DataFrame,
    settings: MatchSettings,
    ambiguous_match: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Each account's match (its best company) and its candidates for review.

    Returns the matched pairs, the review pairs (with ``rank`` and the account's best
    probability ``_best``) and how many accounts were tied between companies.
    """
    cols = ["ci", "ai", "method", "score", "weight", "evidence"]
    engine = scored.join(accepted.select("ai"), on="ai", how="anti")
    top = pl.col("weight") == pl.col("_top")
    auto = (pl.col("score") >= settings.threshold) & pl.col("veto").is_null()
    ranked = engine.with_columns(
        _top=pl.col("weight").max().over("ai"),
        _best=pl.col("score").max().over("ai"),
    ).with_columns(_tied=top.sum().over("ai"), _auto=(top & auto).any().over("ai"))
    # An account whose best weight several companies share cannot tell them apart.
    tied = pl.col("_auto") & (pl.col("_tied") > 1)
    ranked = ranked.with_columns(_ambiguous=tied & pl.lit(not ambiguous_match))
    confirmed = accepted.join(scored.select(cols), on=["ci", "ai"], how="left").with_columns(
        method=pl.lit("confirmed"),
        score=pl.lit(1.0),
        weight=pl.col("weight").cast(pl.Float64),
        evidence=pl.format("confirmed by a person; {}", pl.col("evidence").fill_null("")),
    )
    matched = pl.concat(
        [
            confirmed.select(cols).cast({"weight": pl.Float64}),
            ranked.filter(top & auto & ~pl.col("_ambiguous")).select(cols),
        ]
    )
    below = ~pl.col("_auto") & (pl.col("score") >= settings.review_threshold)
    review = (
        ranked.filter(below | (top & pl.col("_ambiguous")))
        .sort(["ai", "weight", "ci"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("ai"))
        .filter((pl.col("rank") <= settings.review_candidates) | pl.col("_ambiguous"))
        .select(*cols, "rank", "_best")
    )
    ambiguous = ranked.filter(top & pl.col("_ambiguous"))["ai"].n_unique()
    return (
        matched.with_columns(weight=pl.col("weight").round(2)),
        review.with_columns(weight=pl.col("weight").round(2)),
        ambiguous,
    )


def _by_domain(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """Pairs with the same registrable domain (or unlisted host) on both sides."""
    return (
        left.lazy()
        .filter(pl.col("dom").is_not_null())
        .select(ci="idx", dom="dom")
        .join(right.lazy().select(ai="idx", dom="dom"), on="dom", how="inner")
        .select("ci", "ai")
        .collect()
    )


def _describe(
    pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame, extra: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Pairs by row number to pairs by id, with both sides' names and domains as given."""
    return (
        pairs.join(
            left.select(ci="idx", company_id="id", company_name="name", company_domain="domain"),
            on="ci",
        )
        .join(
            right.select(ai="idx", account_id="id", crm_name="name", crm_domain="domain"),
            on="ai",
        )
        .select(*PAIR_COLUMNS, *extra)
    )


def _decisions(
    confirmed: pl.DataFrame | None, left: pl.DataFrame, right: pl.DataFrame
) -> pl.DataFrame:
    """A person's decisions as row numbers (``ci``, ``ai``, ``decision``)."""
    schema = {"ci": pl.UInt32, "ai": pl.UInt32, "decision": pl.String}
    if confirmed is None or confirmed.height == 0:
        return pl.DataFrame(schema=schema)
    return (
        confirmed.select(
            pl.col("company_id").cast(pl.String),
            pl.col("account_id").cast(pl.String),
            pl.col("decision").cast(pl.String),
        )
        .join(left.select(ci="idx", company_id="id"), on="company_id")
        .join(right.select(ai="idx", account_id="id"), on="account_id")
        .select(list(schema))
        .unique(["ci", "ai"], keep="last", maintain_order=True)
    )


SCORE_BANDS = (
    (0.999, "0.999-1"),
    (0.99, "0.99-0.999"),
    (0.9, "0.9-0.99"),
    (0.5, "0.5-0.9"),
    (0.1, "0.1-0.5"),
    (0.01, "0.01-0.1"),
    (0.0, "below 0.01"),
)


def _bands(scores: pl.Series) -> dict[str, int]:
    """How many scores fall in each band of ``SCORE_BANDS``, every band listed."""
    upper = [None, *(low for low, _ in SCORE_BANDS[:-1])]
    return {
        label: int(((scores >= low) & (scores < high if high is not None else True)).sum())
        for (low, label), high in zip(SCORE_BANDS, upper, strict=True)
    }


def _counts(
    ambiguous: int,
    settings: MatchSettings,
    left: pl.DataFrame,
    right: pl.DataFrame,
    matches: pl.DataFrame,
    review: pl.DataFrame,
    duplicates: pl.DataFrame,
    blocks: Any,
    candidates: pl.DataFrame,
    decisions: pl.DataFrame,
    collapsed: bool,
) -> dict[str, Any]:
    matched_accounts = matches["account_id"].n_unique()
    per_company = matches.group_by("company_id").len()
    named_left = int(left["norm"].is_not_null().sum())
    named_right = int(right["norm"].is_not_null().sum())

    def unusable(side: pl.DataFrame) -> int:
        given = side["domain"].str.strip_chars().fill_null("") != ""
        return int((given & side["dom"].is_null()).sum())

    return {
        "settings": {
            "threshold": settings.threshold,
            "review_threshold": settings.review_threshold,
        },
        "companies": {
            "rows": left.height,
            "matched": matches["company_id"].n_unique(),
            "duplicate_domains": duplicates.height,
            "duplicates_collapsed": collapsed,
            "with_several_accounts": int((per_company["len"] > 1).sum()),
        },
        "crm": {
            "accounts": right.height,
            "matched": matched_accounts,
            "in_review": review["account_id"].n_unique(),
            "unmatched": right.height - matched_accounts,
            "ambiguous": ambiguous,
        },
        "matches": {
            "pairs": matches.height,
            "by_method": {m: int(c) for m in METHODS if (c := (matches["method"] == m).sum())},
            "by_score_band": _bands(matches["score"]),
        },
        "review": {
            "pairs": review.height,
            "by_score_band": _bands(review["score"]),
        },
        "confirmed": {
            "match": int((decisions["decision"] == "match").sum()),
            "no_match": int((decisions["decision"] == "no_match").sum()),
        },
        "warnings": {
            "company_empty_names": left.height - named_left,
            "company_unusable_domains": unusable(left),
            "crm_empty_names": right.height - named_right,
            "crm_unusable_domains": unusable(right),
        },
        "blocking": {
            "candidate_pairs": candidates.height,
            # Of the pairs a person confirmed as matches, the share blocking (or the
            # same domain) put forward: blocking recall where the truth is known.
            "recall_on_confirmed": _recall(decisions, candidates),
            "all_pairs": named_left * named_right,
            "keys_used": blocks.keys_kept,
            "keys_dropped_as_too_common": blocks.keys_dropped,
        },
    }


def _recall(decisions: pl.DataFrame, candidates: pl.DataFrame) -> float | None:
    true = decisions.filter(pl.col("decision") == "match").select("ci", "ai")
    if true.height == 0:
        return None
    found = true.join(candidates, on=["ci", "ai"], how="semi").height
    return round(found / true.height, 4)


def match_crm(
    companies: pl.DataFrame,
    crm: pl.DataFrame,
    *,
    threshold: float = SUPPRESSION_THRESHOLD,
    confirmed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Return every (company, CRM account) pair that refers to the same organisation.

    Columns: ``company_id``, ``account_id``, ``method`` (``confirmed``, ``domain``,
    ``name``, ``fuzzy`` or ``acronym``), ``score`` (the match probability, 0-1),
    ``weight`` (the match weight in bits) and ``evidence`` (each field's weight in
    words). The model is estimated on the inputs, or the shipped prior for a small input
    (one company in ``explain``). Each account keeps its best
    company (several if they tie); a company may match several accounts, and callers
    decide what that means (a customer among them suppresses the company). Companies that
    share a domain each keep their match. ``confirmed`` decisions override the engine.
    """
    settings = MatchSettings(
        threshold=threshold, review_threshold=min(threshold, DEFAULT_REVIEW_THRESHOLD)
    )
    result = match_frames(companies, crm, settings, confirmed=confirmed, ambiguous_match=True)
    return (
        result.matches.select(list(MATCH_SCHEMA))
        .cast(MATCH_SCHEMA)  # type: ignore[arg-type]
        .sort(["company_id", "account_id"])
    )
