"""Matching companies to CRM accounts.

``match_crm`` is the entry point the rest of the package uses: it takes companies
(``company_id``, ``name``, ``domain``, optionally ``country``) and CRM accounts
(``account_id``, ``name``, ``domain``, optionally ``country``) and returns every matched
pair with how it matched and how strongly. ``match_frames`` does the same work and also
returns the pairs a person should review and the counts behind them; ``run_match`` (in
``listbuilder.match.run``) reads files and writes a run directory around it.

How a pair is decided (every number is a constant below; docs/matching.md explains them):

1. A pair a person decided is never second-guessed: ``match`` makes a match
   (``method = confirmed``) and ``no_match`` removes the pair, whatever the engine thinks.
2. The same registrable domain on both sides is a match (``method = domain``, score 100).
   An account matched by domain takes no match by name: the domain said who it is.
3. Otherwise names are compared, over the candidate pairs blocking lets through
   (``listbuilder.match.blocking``). The *core* of a name is its distinctive words (generic
   ones such as "Group" or "Solutions" removed); a name made only of generic words
   never matches by name. The name score is the better of
   ``0.3 * whole + 0.7 * core`` and ``core - GENERIC_EXTRA`` (when only one side has
   generic words), where *whole* is the rapidfuzz ``ratio`` of the normalised names and
   *core* the optimal-string-alignment similarity of the cores, capped by that of their
   first words (so "Zentrix Labs" is not "Zentrax Labs"). Each is also computed on the
   words sorted, less ``ORDER_DIFFERS``. Cores that differ only in spacing ("Wal-Mart",
   "Walmart") score 100. One name's words all inside the other's ("Brightwave",
   "Brightwave Analytics") scores at least ``SUBSET_SCORE`` (``SUBSET_SCORE_MULTI``
   for two words or more) and a one-word name that is the other's initials ("IBM")
   ``ACRONYM_SCORE``: below the default threshold, so a person confirms them.
4. Evidence moves the score: the same country adds ``COUNTRY_AGREES`` and two different
   countries subtract ``COUNTRY_DIFFERS``; the same domain label under another suffix
   (``acme.com``, ``acme.de``) adds ``LABEL_AGREES`` and two unrelated company domains
   subtract ``DOMAIN_DIFFERS``; each side having a trade word the other lacks
   ("... Systems", "... Associates") subtracts ``DESCRIPTOR_DIFFERS``.
5. Each account keeps its best-scoring company: a match at or above ``threshold``,
   otherwise its best candidates at or above ``review_threshold`` go to review. When
   several companies share the best score, nothing tells them apart: ``match_frames``
   sends them to review, ``match_crm`` (for suppression, where missing a customer is the
   worse mistake) matches them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from listbuilder.errors import ConfigError
from listbuilder.inputs import country, domain_expr, domain_label_expr
from listbuilder.match.blocking import candidate_pairs
from listbuilder.match.names import GENERIC_WORDS, core_name_expr, name_expr
from listbuilder.progress import QUIET, Progress

MATCH_SCHEMA = {
    "company_id": pl.String,
    "account_id": pl.String,
    "method": pl.String,
    "score": pl.Float64,
}
PAIR_COLUMNS = (
    "company_id",
    "account_id",
    "method",
    "score",
    "company_name",
    "crm_name",
    "company_domain",
    "crm_domain",
)
METHODS = ("confirmed", "domain", "name", "fuzzy", "acronym")

# Chosen on the labelled benchmark in tests/data: 90 is where precision passes 0.99 on
# both it and the sample CRM with recall above 0.95; from 80 the review file holds nearly
# every true pair the threshold misses, with few pairs per account to read.
DEFAULT_THRESHOLD = 90.0
DEFAULT_REVIEW_THRESHOLD = 80.0
WHOLE_NAME_WEIGHT = 0.3
SUBSET_SCORE = 85.0
SUBSET_SCORE_MULTI = 88.0
ACRONYM_SCORE = 80.0
COUNTRY_AGREES = 3.0
COUNTRY_DIFFERS = 15.0
DOMAIN_DIFFERS = 15.0
ORDER_DIFFERS = 15.0
DESCRIPTOR_DIFFERS = 10.0
GENERIC_EXTRA = 5.0
LABEL_AGREES = 5.0
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
        threshold: A pair scoring at least this (0-100) is a match.
        review_threshold: A pair scoring at least this but below ``threshold`` goes to
            review, for an account with no match.
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
            if not 0 <= value <= 100:
                raise ConfigError(f"`{name}` must be between 0 and 100, got {value}")
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


# Generic words that name a trade ("Systems", "Partners"), not connectors ("and", "of"):
# each side having one the other lacks marks two different businesses.
TRADE_WORDS = tuple(sorted(GENERIC_WORDS - {"and", "of", "the", "for"}))


def prepare(frame: pl.DataFrame | pl.LazyFrame, id_column: str) -> pl.LazyFrame:
    """One side's records with everything matching compares, normalised once.

    Columns: ``idx`` (row number), ``id``, the raw ``name``/``domain``/``country``;
    ``norm`` (normalised name), ``core`` (its distinctive words), ``first`` (the first of
    them), ``sorted_norm``/``sorted_core`` (words in order, for order-free similarity),
    ``trade`` (a bit per trade word present), ``words`` (distinct words), ``long_core``
    (a distinctive word of four letters or more), ``initials`` (of a name of several
    words); ``dom`` (registrable company domain), ``label`` (its own label) and ``iso``
    (ISO 3166 country code).
    """
    lf = frame.lazy()
    schema = lf.collect_schema()

    def text(column: str) -> pl.Expr:
        if column in schema:
            return pl.col(column).cast(pl.String)
        return pl.lit(None, pl.String)

    bits = {word: 1 << i for i, word in enumerate(TRADE_WORDS)}
    words = pl.col("norm").str.split(" ")
    core_words = pl.col("core").str.split(" ")
    return (
        lf.select(
            id=pl.col(id_column).cast(pl.String),
            name=text("name"),
            domain=text("domain"),
            country=text("country"),
        )
        .with_row_index("idx")
        .with_columns(
            norm=name_expr("name"),
            dom=domain_expr("domain"),
            iso=country(pl.col("country").str.strip_chars().replace("", None), {}),
        )
        .with_columns(core=core_name_expr("norm"), label=domain_label_expr("dom"))
        .with_columns(
            sorted_norm=words.list.sort().list.join(" "),
            sorted_core=core_words.list.sort().list.join(" "),
            first=core_words.list.first(),
            trade=words.list.eval(
                pl.element().replace_strict(bits, default=0, return_dtype=pl.Int64)
            )
            .list.unique()
            .list.sum(),
            words=words.list.n_unique(),
            long_core=core_words.list.eval(pl.element().str.len_chars() >= 4).list.any(),
            initials=pl.when(words.list.len() >= 2).then(
                words.list.eval(pl.element().str.slice(0, 1)).list.join("")
            ),
        )
    )


def _similarity(left: pl.Series, right: pl.Series, scorer: Any) -> np.ndarray:
    """A rapidfuzz similarity (0-100) of each pair of strings; 0 where either is null."""
    scores = process.cpdist(
        left.fill_null("").to_list(),
        right.fill_null("").to_list(),
        scorer=scorer,
        workers=-1,
        dtype=np.float64,
    )
    if scorer is OSA.normalized_similarity:
        scores *= 100.0
    missing = (left.is_null() | right.is_null() | (left == "") | (right == "")).to_numpy()
    scores[missing] = 0.0
    return scores


def score_pairs(pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """Score name-based candidate pairs ``ci``/``ai`` of prepared ``left``/``right``.

    Returns ``ci``, ``ai``, ``score`` (0-100, evidence included) and ``method`` (``name``
    for equal normalised names, ``acronym``, else ``fuzzy``).
    """
    cols = ["norm", "core", "first", "sorted_norm", "sorted_core", "trade", "words"]
    cols += ["long_core", "initials", "dom", "label", "iso"]
    both = pl.concat(
        [
            pairs,
            left.select(cols).rename(lambda c: f"{c}_c").gather(pairs["ci"]),
            right.select(cols).rename(lambda c: f"{c}_a").gather(pairs["ai"]),
        ],
        how="horizontal",
    )
    same = (both["norm_c"] == both["norm_a"]).fill_null(False).to_numpy()
    todo = np.flatnonzero(~same)
    rest = both[todo]
    # Word order matters only where some name's words are out of order.
    unsorted = (
        (rest["sorted_norm_c"] != rest["norm_c"]) | (rest["sorted_norm_a"] != rest["norm_a"])
    ).to_numpy()
    shuffled = np.flatnonzero(unsorted)

    def similarity(
        column: str, scorer: Any, rows: np.ndarray, *, default: float = 100.0
    ) -> pl.Series:
        out = np.full(both.height, default)
        out[todo[rows]] = _similarity(rest[f"{column}_c"][rows], rest[f"{column}_a"][rows], scorer)
        return pl.Series(out)

    every = np.arange(rest.height)
    both = both.with_columns(
        _whole=similarity("norm", fuzz.ratio, every),
        _core=similarity("core", OSA.normalized_similarity, every),
        _first=similarity("first", OSA.normalized_similarity, every),
        _set=similarity("norm", fuzz.token_set_ratio, every),
        _whole_sorted=similarity("sorted_norm", fuzz.ratio, shuffled, default=0.0),
        _core_sorted=similarity("sorted_core", OSA.normalized_similarity, shuffled, default=0.0),
    )
    # Whole names, and distinctive words (a name only as close as its first distinctive
    # word: "Zentrix Labs" is not "Zentrax Labs"), each also compared out of order.
    whole = pl.max_horizontal("_whole", pl.col("_whole_sorted") - ORDER_DIFFERS)
    core = pl.max_horizontal(
        pl.min_horizontal("_core", "_first"), pl.col("_core_sorted") - ORDER_DIFFERS
    )
    # "Wal-Mart" and "Walmart", "Blue Harbor" and "Blueharbor": only the spacing differs.
    compact_c = pl.col("core_c").str.replace_all(" ", "", literal=True)
    compact_a = pl.col("core_a").str.replace_all(" ", "", literal=True)
    core = pl.when(compact_c == compact_a).then(100.0).otherwise(core)
    # Generic words on one side only ("Sony" and "Sony Group") cost little; each side
    # having its own trade word ("Okafor & Thornton Systems" and "Okafor & Thornton
    # Associates") says they share a name but not a business.
    trade_c, trade_a = pl.col("trade_c"), pl.col("trade_a")
    extra_c = (trade_c & ~trade_a) != 0
    extra_a = (trade_a & ~trade_c) != 0
    generic_extra = pl.when(extra_c | extra_a).then(GENERIC_EXTRA).otherwise(0.0)
    descriptor_adj = pl.when(extra_c & extra_a).then(-DESCRIPTOR_DIFFERS).otherwise(0.0)
    # One name's words all inside the other's ("Brightwave", "Brightwave Analytics").
    c_shorter = pl.col("words_c") < pl.col("words_a")
    subset = (
        (pl.col("_set") == 100.0)
        & (pl.col("words_c") != pl.col("words_a"))
        & pl.when(c_shorter).then(pl.col("long_core_c")).otherwise(pl.col("long_core_a"))
    ).fill_null(False)
    shorter_words = pl.when(c_shorter).then(pl.col("words_c")).otherwise(pl.col("words_a"))
    subset_score = (
        pl.when(subset & (shorter_words >= 2))
        .then(SUBSET_SCORE_MULTI)
        .when(subset)
        .then(SUBSET_SCORE)
        .otherwise(0.0)
    )
    # A one-word name that is the other's initials ("IBM").
    acronym = (
        ((pl.col("words_c") == 1) & (pl.col("norm_c") == pl.col("initials_a")))
        | ((pl.col("words_a") == 1) & (pl.col("norm_a") == pl.col("initials_c")))
    ).fill_null(False)
    name_score = (
        pl.when(pl.col("core_c").is_null() | pl.col("core_a").is_null())
        .then(0.0)
        .otherwise(
            pl.max_horizontal(
                WHOLE_NAME_WEIGHT * whole + (1 - WHOLE_NAME_WEIGHT) * core,
                core - generic_extra,
            )
        )
    )
    name_score = pl.max_horizontal(
        name_score, subset_score, pl.when(acronym).then(ACRONYM_SCORE).otherwise(0.0)
    )
    both_countries = pl.col("iso_c").is_not_null() & pl.col("iso_a").is_not_null()
    country_adj = (
        pl.when(both_countries & (pl.col("iso_c") == pl.col("iso_a")))
        .then(COUNTRY_AGREES)
        .when(both_countries)
        .then(-COUNTRY_DIFFERS)
        .otherwise(0.0)
    )
    # The same label under another suffix (acme.com, acme.de) is the same brand; labels
    # that share nothing (acme.com, zenith.io) are two organisations.
    domain_adj = (
        pl.when(pl.col("label_c") == pl.col("label_a"))
        .then(LABEL_AGREES)
        .when(
            pl.col("dom_c").is_not_null()
            & pl.col("dom_a").is_not_null()
            & ~pl.col("label_c").str.contains(pl.col("label_a"), literal=True)
            & ~pl.col("label_a").str.contains(pl.col("label_c"), literal=True)
        )
        .then(-DOMAIN_DIFFERS)
        .otherwise(0.0)
    )
    score = (name_score + country_adj + domain_adj + descriptor_adj).clip(0.0, 100.0).round(1)
    method = (
        pl.when(pl.col("norm_c") == pl.col("norm_a"))
        .then(pl.lit("name"))
        .when(acronym & (name_score == ACRONYM_SCORE))
        .then(pl.lit("acronym"))
        .otherwise(pl.lit("fuzzy"))
    )
    return both.select("ci", "ai", score=score, method=method)


def _empty_pairs() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"ci": pl.UInt32, "ai": pl.UInt32, "score": pl.Float64, "method": pl.String}
    )


def match_frames(
    companies: pl.DataFrame | pl.LazyFrame,
    crm: pl.DataFrame | pl.LazyFrame,
    settings: MatchSettings | None = None,
    *,
    confirmed: pl.DataFrame | None = None,
    collapse_duplicates: bool = False,
    ambiguous_match: bool = False,
    progress: Progress = QUIET,
) -> MatchResult:
    """Match companies to CRM accounts: matches, pairs to review and the counts.

    Args:
        companies: ``company_id``, ``name``, ``domain`` and optionally ``country``.
        crm: ``account_id``, ``name``, optionally ``domain`` and ``country``.
        settings: Thresholds and limits (defaults: ``MatchSettings()``).
        confirmed: A person's decisions (``company_id``, ``account_id``, ``decision`` of
            ``match`` or ``no_match``); pairs naming records not given are ignored.
        collapse_duplicates: Companies sharing a registrable domain take part once, as the
            first of them by ``company_id``; the others are listed in ``duplicates``.
        ambiguous_match: An account whose best score (at or above the threshold) several
            companies share matches all of them; without it, they go to review.
        progress: Where to announce each stage (with its time under ``--verbose``).
    """
    settings = settings or MatchSettings()
    with progress.stage("normalising names and domains") as stage:
        left, right = pl.collect_all([prepare(companies, "company_id"), prepare(crm, "account_id")])
        stage.rows = left.height + right.height
    dup_flags = (
        left.filter(pl.col("dom").is_not_null())
        .sort("id", "idx")
        .with_columns(first=pl.col("id").first().over("dom"))
        .filter(pl.col("id") != pl.col("first"))
        .select("idx", company_id="id", duplicate_of="first", domain="dom")
    )
    duplicates = dup_flags.drop("idx").sort("company_id")
    active = left
    if collapse_duplicates and dup_flags.height:
        active = left.join(dup_flags.select("idx"), on="idx", how="anti")

    decisions = _decisions(confirmed, left, right)
    rejected = decisions.filter(pl.col("decision") == "no_match").select("ci", "ai")
    accepted = decisions.filter(pl.col("decision") == "match").select(
        "ci", "ai", score=pl.lit(100.0), method=pl.lit("confirmed")
    )

    with progress.stage("matching domains") as stage:
        by_domain = _by_domain(active, right, rejected)
        stage.rows = by_domain.height
    resolved = pl.concat([accepted.select("ai"), by_domain.select("ai")]).unique()
    named_left = active.filter(pl.col("norm").is_not_null())
    named_right = right.filter(pl.col("norm").is_not_null()).join(
        resolved, left_on="idx", right_on="ai", how="anti"
    )
    with progress.stage("blocking") as stage:
        blocks = candidate_pairs(
            named_left.lazy(), named_right.lazy(), max_block_pairs=settings.max_block_pairs
        )
        candidates = blocks.pairs.join(rejected, on=["ci", "ai"], how="anti")
        stage.rows = candidates.height
    with progress.stage(SCORING_STAGE) as stage:
        # In slices, so memory stays flat however many pairs blocking lets through.
        scored = pl.concat(
            [
                score_pairs(candidates.slice(start, SCORING_SLICE), left, right)
                for start in range(0, candidates.height, SCORING_SLICE)
            ]
            or [_empty_pairs()]
        )
        stage.rows = candidates.height

    with progress.stage("choosing matches") as stage:
        engine = pl.concat([by_domain, scored.select(by_domain.columns)])
        matched, review, ambiguous = _choose(engine, accepted, settings, ambiguous_match)
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
        candidates.height,
        decisions,
        collapse_duplicates,
    )
    return MatchResult(matches, review_out, duplicates, counts)


def _choose(
    engine: pl.DataFrame,
    accepted: pl.DataFrame,
    settings: MatchSettings,
    ambiguous_match: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Each account's match (its best company) and its candidates for review.

    Returns the matched pairs, the review pairs (with ``rank`` and the account's best
    score ``_best``) and how many accounts were tied between companies.
    """
    # A person's match for an account replaces whatever the engine found for it.
    engine = engine.join(accepted.select("ai"), on="ai", how="anti")
    top = pl.col("score") == pl.col("_best")
    ranked = engine.with_columns(_best=pl.col("score").max().over("ai")).with_columns(
        _tied=top.sum().over("ai")
    )
    # An account whose best score several companies share cannot tell them apart.
    tied = (pl.col("_best") >= settings.threshold) & (pl.col("_tied") > 1)
    ranked = ranked.with_columns(_ambiguous=tied & pl.lit(not ambiguous_match))
    matched = pl.concat(
        [
            accepted,
            ranked.filter(
                top & (pl.col("score") >= settings.threshold) & ~pl.col("_ambiguous")
            ).select(accepted.columns),
        ]
    )
    below = (pl.col("_best") < settings.threshold) & (pl.col("score") >= settings.review_threshold)
    review = (
        ranked.filter(below | (top & pl.col("_ambiguous")))
        .sort(["ai", "score", "ci"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("ai"))
        .filter((pl.col("rank") <= settings.review_candidates) | pl.col("_ambiguous"))
    )
    ambiguous = ranked.filter(top & pl.col("_ambiguous"))["ai"].n_unique()
    return matched, review, ambiguous


def _by_domain(left: pl.DataFrame, right: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """Pairs with the same registrable domain on both sides, less those a person rejected."""
    return (
        left.lazy()
        .filter(pl.col("dom").is_not_null())
        .select(ci="idx", dom="dom")
        .join(right.lazy().select(ai="idx", dom="dom"), on="dom", how="inner")
        .select("ci", "ai", score=pl.lit(100.0), method=pl.lit("domain"))
        .join(rejected.lazy(), on=["ci", "ai"], how="anti")
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
    (100.0, "100"),
    (95.0, "95-99.9"),
    (90.0, "90-94.9"),
    (85.0, "85-89.9"),
    (80.0, "80-84.9"),
    (75.0, "75-79.9"),
    (70.0, "70-74.9"),
    (0.0, "below 70"),
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
    compared: int,
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
            "candidate_pairs": compared,
            "all_pairs": named_left * named_right,
            "keys_used": blocks.keys_kept,
            "keys_dropped_as_too_common": blocks.keys_dropped,
        },
    }


def match_crm(
    companies: pl.DataFrame,
    crm: pl.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    confirmed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Return every (company, CRM account) pair that refers to the same organisation.

    Columns: ``company_id``, ``account_id``, ``method`` (``confirmed``, ``domain``,
    ``name``, ``fuzzy`` or ``acronym``) and ``score`` (0-100). Each account keeps its best
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
