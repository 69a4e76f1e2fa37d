"""Blocking: which (company, CRM account) pairs are worth comparing at all.

Comparing every company with every account costs their product: a million companies
against two hundred thousand accounts is two hundred billion comparisons. Instead each
record gets a few *blocking keys*, and only records that share a key are compared. The
kinds of key (``KINDS``):

- ``n`` the whole normalised name (exact matches, however common the name);
- ``t`` each distinctive word of the name (generic words such as "Group" are never keys);
- ``p``/``s`` the first four letters and the last one, and the first letter and the last
  four, of each long distinctive word: one typo inside the word leaves one of the two
  intact;
- ``c`` the first two distinctive words, one whole and the other by those affixes, so a
  typo in either still meets its twin when each word alone is too common to block on;
- ``w`` the whole name without spaces ("Sea-World" and "Seaworld"; also the key of a
  name of one or two letters, whose words are too short to be keys);
- ``x`` the deletion neighbourhood of a one-word name of five letters or more: the word
  and each spelling of it with one letter deleted, so a typo or two letters swapped
  ("Zentrix", "Zetnrix") still meet;
- ``d`` the domain's own label (``acme`` of ``acme.co.uk``), for the same brand under
  another suffix, and a brand's own top-level domain (``bmw`` of ``global.bmw``);
- ``a1``/``a2`` initials against a one-word name or a domain label (``IBM``, ``ibm.com``
  and "International Business Machines"), in both directions.

A key shared by too many records identifies nothing and would bring back the quadratic
cost, so a key is dropped when it would pair more than ``max_block_pairs`` records (scaled
by its kind's ``BLOCK_FACTORS``). The whole computation is polars joins and group-bys on
64-bit hashes of the keys; nothing loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# Words shorter than this are not keys on their own ("ab", "us"): they identify nothing.
MIN_TOKEN_LENGTH = 3
# Words at least this long also get prefix and suffix keys (two halves that cannot overlap
# in a word one edit away).
AFFIX_MIN_LENGTH = 7
AFFIX_LENGTH = 4
PAIR_AFFIX_MIN_LENGTH = 5
# How many pairs a block of each kind may hold, relative to ``max_block_pairs``. An
# exact normalised name is strong evidence however common, so its blocks may be bigger;
# affixes and initials are weak, so theirs must be small.
BLOCK_FACTORS = {
    "n": 20.0,
    "w": 20.0,
    "x": 0.05,
    "t": 1.0,
    "d": 1.0,
    "c": 1.0,
    "p": 0.05,
    "s": 0.05,
    "a1": 0.05,
    "a2": 0.05,
}


@dataclass(frozen=True)
class Blocks:
    """Candidate pairs and the counts that explain them."""

    pairs: pl.DataFrame
    keys_kept: int
    keys_dropped: int


# Kinds of key, each hashed with its own seed so equal text of two kinds never meets.
KINDS = {"n": 1, "t": 2, "p": 3, "s": 4, "d": 5, "a1": 6, "a2": 7, "c": 8, "w": 9, "x": 10}
# The deletion neighbourhood covers words of this many letters.
DELETION_LENGTHS = (5, 16)


def _key(kind: str, text: pl.Expr) -> dict[str, pl.Expr]:
    return {"kind": pl.lit(KINDS[kind], pl.UInt8), "key": text.hash(seed=KINDS[kind])}


def blocking_keys(side: pl.LazyFrame, *, crm_side: bool) -> pl.LazyFrame:
    """Every blocking key of every record: ``idx`` (row number), ``kind`` and ``key``.

    ``side`` has ``idx``, ``norm`` (normalised name), ``core`` (its distinctive words),
    ``label`` (the domain's own label), ``brand`` (a brand's top-level domain),
    ``initials`` and ``initials_short``. A key is the 64-bit hash of its
    text; two texts sharing a hash only make a pair more to compare. Acronym keys are
    written so that one side's initials meet the other side's one-word names.
    """
    initials_kind, single_kind = ("a1", "a2") if crm_side else ("a2", "a1")
    tokens = (
        side.select("idx", tok=pl.col("core").str.split(" "))
        .explode("tok")
        .filter(pl.col("tok").str.len_chars() >= MIN_TOKEN_LENGTH)
    )
    tok = pl.col("tok")
    long = tokens.filter(tok.str.len_chars() >= AFFIX_MIN_LENGTH)
    named = side.filter(pl.col("core").is_not_null())
    single = (~pl.col("norm").str.contains(" ", literal=True)) & pl.col(
        "norm"
    ).str.len_chars().is_between(2, 6)
    words = pl.col("core").str.split(" ")
    first, second = words.list.get(0, null_on_oob=True), words.list.get(1, null_on_oob=True)

    def affixes(word: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        long_enough = word.str.len_chars() >= PAIR_AFFIX_MIN_LENGTH
        return (
            pl.when(long_enough).then(word.str.slice(0, AFFIX_LENGTH) + word.str.slice(-1)),
            pl.when(long_enough).then(word.str.slice(0, 1) + word.str.slice(-AFFIX_LENGTH)),
        )

    # The first two distinctive words: one whole, the other by an affix, so a typo in
    # either still meets its twin even when each word alone is too common to block on.
    paired = [
        whole + "|" + affix
        for whole, other in ((second, first), (first, second))
        for affix in affixes(other)
    ]
    two_words = side.filter(words.list.len() >= 2).select("idx", k=pl.concat_list(paired))
    low, high = DELETION_LENGTHS
    # One-word names only: a longer name has other words to meet on.
    deletable = side.filter(
        pl.col("core").str.len_chars().is_between(low, high)
        & ~pl.col("core").str.contains(" ", literal=True)
    ).select("idx", w="core")
    # The word itself, and the word with letter i deleted for each i.
    deletions = [pl.col("w")] + [
        pl.col("w").str.slice(0, i) + pl.col("w").str.slice(i + 1) for i in range(high)
    ]
    neighbourhood = (
        deletable.select("idx", k=pl.concat_list(deletions))
        .explode("k")
        .filter(pl.col("k").str.len_chars() >= low - 1)
    )
    label_single = pl.col("label").str.len_chars().is_between(2, 6)
    parts = [
        two_words.explode("k").drop_nulls("k").select("idx", **_key("c", pl.col("k"))),
        named.select("idx", **_key("w", pl.col("norm").str.replace_all(" ", "", literal=True))),
        neighbourhood.select("idx", **_key("x", pl.col("k"))),
        side.filter(pl.col("brand").is_not_null()).select("idx", **_key("d", pl.col("brand"))),
        side.filter(label_single).select("idx", **_key(single_kind, pl.col("label"))),
        named.filter(
            pl.col("initials_short").is_not_null()
            & (pl.col("initials_short") != pl.col("initials"))
        ).select("idx", **_key(initials_kind, pl.col("initials_short"))),
        named.select("idx", **_key("n", pl.col("norm"))),
        tokens.select("idx", **_key("t", tok)),
        long.select("idx", **_key("p", tok.str.slice(0, AFFIX_LENGTH) + tok.str.slice(-1))),
        long.select("idx", **_key("s", tok.str.slice(0, 1) + tok.str.slice(-AFFIX_LENGTH))),
        side.filter(pl.col("label").str.len_chars() >= MIN_TOKEN_LENGTH).select(
            "idx", **_key("d", pl.col("label"))
        ),
        named.filter(pl.col("initials").is_not_null()).select(
            "idx", **_key(initials_kind, pl.col("initials"))
        ),
        named.filter(single).select("idx", **_key(single_kind, pl.col("norm"))),
    ]
    return pl.concat(parts)


def candidate_pairs(companies: pl.LazyFrame, crm: pl.LazyFrame, *, max_block_pairs: int) -> Blocks:
    """The (company ``ci``, account ``ai``) pairs that share a blocking key, each once.

    A key whose block would hold more than ``max_block_pairs`` pairs (companies with it
    times accounts with it), scaled by its kind's ``BLOCK_FACTORS``, is dropped.
    """
    right = blocking_keys(crm, crm_side=True).collect()
    left = (
        blocking_keys(companies, crm_side=False)
        .join(right.lazy().select("key").unique(), on="key", how="semi")
        .collect()
    )
    factors = {KINDS[k]: f for k, f in BLOCK_FACTORS.items()}
    sizes = (
        left.lazy()
        .group_by("key")
        .agg(pl.len().alias("nc"), pl.col("kind").min())
        .join(right.lazy().group_by("key").len("na"), on="key", how="inner")
        .with_columns(
            keep=(pl.col("nc").cast(pl.Int64) * pl.col("na"))
            <= pl.col("kind").replace_strict(factors, return_dtype=pl.Float64) * max_block_pairs
        )
    )
    kept = sizes.filter("keep").select("key")
    pairs = (
        left.lazy()
        .join(kept, on="key", how="semi")
        .join(right.lazy().join(kept, on="key", how="semi"), on="key", how="inner", suffix="_a")
        .select(ci=pl.col("idx"), ai=pl.col("idx_a"))
        .unique()
        .sort("ai", "ci")
    )
    counts = sizes.select(kept=pl.col("keep").sum(), dropped=(~pl.col("keep")).sum())
    pairs_df, counts_df = pl.collect_all([pairs, counts])
    row = counts_df.row(0, named=True)
    return Blocks(pairs_df, int(row["kept"] or 0), int(row["dropped"] or 0))
