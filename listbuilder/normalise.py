"""Normalisers for domains and company names, as polars expressions and plain functions."""

from __future__ import annotations

import polars as pl


def domain_expr(column: str | pl.Expr) -> pl.Expr:
    """Normalise a domain or URL column: no scheme, ``www.``, port, path, query or case.

    Empty results become null, so an unusable domain never matches anything.
    """
    expr = pl.col(column) if isinstance(column, str) else column
    host = (
        expr.str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.-]*://", "")
        .str.replace(r"[/?#].*$", "")
        .str.replace(r"^[^@]*@", "")
        .str.replace(r":\d*$", "")
        .str.strip_chars(".")
        .str.replace(r"^www\d*\.", "")
    )
    return pl.when(host.str.len_chars() > 0).then(host).otherwise(None)


def name_expr(column: str | pl.Expr) -> pl.Expr:
    """Normalise a company name for exact comparison: case, punctuation and spacing."""
    expr = pl.col(column) if isinstance(column, str) else column
    name = expr.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()
    return pl.when(name.str.len_chars() > 0).then(name).otherwise(None)
