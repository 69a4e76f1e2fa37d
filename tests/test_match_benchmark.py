"""Matching measured on real exchange-listed company names, group by group.

The pairs come from ``tests/real_names.py`` (names, countries and websites from
``pytickersymbols``). The model's prior and thresholds were chosen on ``tests/data`` and
the sample CRM; this set was looked at once, with ``SEED``, to find failures. The figures
asserted here come from another draw (``HELD_OUT``) that was never looked at before the
assertions were written.
"""

from __future__ import annotations

import polars as pl
import pytest

from listbuilder.match import match_frames
from tests.real_names import SEED, build

HELD_OUT = SEED + 1
# Groups that are hard negatives as much as positives: the targets.
HARD = ("numbered", "franchise", "other_country", "holding_bank")


def per_group(seed: int) -> tuple[pl.DataFrame, dict]:
    """Precision, recall and review coverage per group, and the run's counts."""
    companies, crm, truth = build(seed).frames()
    result = match_frames(companies, crm, collapse_duplicates=True)
    matched = result.matches.select("account_id", got="company_id")
    review = result.review.group_by("account_id").agg(candidates=pl.col("company_id"))
    rows = truth.join(matched, on="account_id", how="left").join(
        review, on="account_id", how="left"
    )
    positive = pl.col("company_id").is_not_null()
    right = (pl.col("got") == pl.col("company_id")).fill_null(False)
    wrong = pl.col("got").is_not_null() & ~right
    missed = positive & pl.col("got").is_null()
    in_review = missed & pl.col("candidates").list.contains(pl.col("company_id")).fill_null(False)
    table = (
        rows.group_by("group")
        .agg(
            positives=positive.sum(),
            negatives=(~positive).sum(),
            right=right.sum(),
            wrong=wrong.sum(),
            missed=missed.sum(),
            in_review=in_review.sum(),
        )
        .with_columns(
            precision=pl.col("right") / (pl.col("right") + pl.col("wrong")),
            recall=pl.col("right") / pl.col("positives"),
        )
        .sort("group")
    )
    return table, result.counts


@pytest.fixture(scope="module")
def held_out() -> tuple[pl.DataFrame, dict]:
    return per_group(HELD_OUT)


def test_the_benchmark_is_real_names_in_every_group(held_out: tuple[pl.DataFrame, dict]) -> None:
    table, _ = held_out
    with pl.Config(tbl_rows=20, tbl_width_chars=160):
        print(f"\nreal names, held-out draw (seed {HELD_OUT}):\n{table}")
    assert table["positives"].sum() + table["negatives"].sum() >= 1_000
    assert set(table["group"]) == {
        "crm_variants", "numbered", "franchise", "other_country", "holding_bank",
        "spaced_legal", "national_spelling", "glued", "legal_typo", "swapped", "short",
        "acronym",
    }  # fmt: skip
    assert (table["positives"] > 0).all()
    for group in (*HARD, "crm_variants"):
        assert table.filter(pl.col("group") == group)["negatives"].item() > 0, group


def test_hard_groups_precision_and_recall(held_out: tuple[pl.DataFrame, dict]) -> None:
    table, _ = held_out
    for row in table.filter(pl.col("group").is_in(HARD)).iter_rows(named=True):
        assert row["precision"] >= 0.99, row
        assert row["recall"] >= 0.95, row


def test_crm_typed_variants_and_every_group(held_out: tuple[pl.DataFrame, dict]) -> None:
    table, _ = held_out
    variants = table.filter(pl.col("group") == "crm_variants").row(0, named=True)
    # The target: recall 0.99 at precision 0.995 (docs/matching-model.md gives the figures).
    assert variants["precision"] >= 0.995
    assert variants["recall"] >= 0.99
    for row in table.iter_rows(named=True):
        assert row["precision"] >= 0.99, row
        assert row["recall"] >= 0.9, row


def test_review_holds_most_true_pairs_not_matched(held_out: tuple[pl.DataFrame, dict]) -> None:
    table, _ = held_out
    assert table["in_review"].sum() / table["missed"].sum() >= 0.5
