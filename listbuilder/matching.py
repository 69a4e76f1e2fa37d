"""Matching companies to CRM accounts.

``match_crm`` is the one entry point the rest of the package uses: it takes companies
(``company_id``, ``name``, ``domain``) and CRM accounts (``account_id``, ``name``,
``domain``) and returns every matched pair with how it matched and how strongly.
"""

from __future__ import annotations

import polars as pl

from listbuilder.normalise import domain_expr, name_expr

MATCH_SCHEMA = {
    "company_id": pl.String,
    "account_id": pl.String,
    "method": pl.String,
    "score": pl.Float64,
}


def match_crm(companies: pl.DataFrame, crm: pl.DataFrame) -> pl.DataFrame:
    """Return every (company, CRM account) pair that refers to the same organisation.

    Columns: ``company_id``, ``account_id``, ``method`` (``domain`` or ``name``) and
    ``score`` (0-100). A company may match several accounts; callers decide what a
    multiple match means (a customer among them suppresses the company).
    """
    left = companies.select(
        "company_id",
        domain_expr("domain").alias("_d"),
        name_expr("name").alias("_n"),
    )
    right = crm.select(
        "account_id",
        domain_expr("domain").alias("_d"),
        name_expr("name").alias("_n"),
    )
    by_domain = left.drop_nulls("_d").join(right.drop_nulls("_d"), on="_d", how="inner")
    by_name = left.drop_nulls("_n").join(right.drop_nulls("_n"), on="_n", how="inner")
    pairs = pl.concat(
        [
            by_domain.select("company_id", "account_id", method=pl.lit("domain")),
            by_name.select("company_id", "account_id", method=pl.lit("name")),
        ]
    )
    return (
        pairs.unique(["company_id", "account_id"], keep="first", maintain_order=True)
        .with_columns(score=pl.lit(100.0))
        .cast(MATCH_SCHEMA)  # type: ignore[arg-type]
        .sort(["company_id", "account_id"])
    )
