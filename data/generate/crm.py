"""CRM accounts: dataset companies written differently, and organisations outside it."""

from __future__ import annotations

import numpy as np
import polars as pl

from .common import (
    COUNTRIES,
    INDUSTRIES,
    SCHEMAS,
    choose,
    labels,
    norm_domain,
    norm_name,
    salesforce_ids,
    slug_expr,
    stream_rng,
    weights_to_probs,
)
from .names import (
    LEGAL_SUFFIXES,
    core_vocabulary,
    draw_cores,
    draw_descriptors,
    draw_suffixes,
    draw_tlds,
    family_weights,
    full_name,
)

# What a CRM writes when the dataset's name has no suffix at all.
CRM_ADDED_SUFFIX = {"US": "Inc.", "CA": "Inc.", "GB": "Ltd", "DE": "GmbH", "AU": "Pty Ltd"}
CRM_STATUSES = {"customer": 0.25, "open_opportunity": 0.10, "prospect": 0.50, "churned": 0.15}
CRM_MATCHED_SHARE = 0.60
CRM_ICP_SHARE = 0.5  # of the matched accounts, drawn from the typical ICP population
CRM_DUPLICATE_SHARE = 0.02  # of the matched accounts, a second account for the same company
CRM_NAME_VARIANTS = {
    "exact": 0.18,
    "case": 0.20,
    "suffix": 0.26,
    "punct": 0.16,
    "short": 0.08,
    "typo": 0.07,
    "the": 0.05,
}
CRM_DOMAIN_VARIANTS = {
    "bare": 0.24,
    "url": 0.26,
    "www": 0.14,
    "upper": 0.12,
    "email": 0.06,
    "no_domain": 0.18,
}
URL_PARTS = (
    ("https://www.", "/about"),
    ("http://", ""),
    ("https://", "/"),
    ("https://www.", ""),
    ("http://www.", "/en-us/home"),
    ("https://", "/?utm_source=linkedin"),
)
EMAIL_BOXES = ("info@", "sales@", "contact@", "hello@")


def _crm_name(kind: pl.Expr) -> pl.Expr:
    """The CRM's spelling of a dataset company's name, for each name-variant kind."""
    name = pl.col("name")
    has_suffix = pl.col("suffix").is_not_null()
    base = pl.concat_str([pl.col("core"), pl.lit(" ") + pl.col("descriptor")], ignore_nulls=True)
    new_sep = pl.when(pl.col("sep") == ", ").then(pl.lit(" ")).otherwise(pl.lit(", "))
    swapped = (
        pl.when(has_suffix & pl.col("alt_suffix").is_null())
        .then(base)
        .when(has_suffix)
        .then(pl.concat_str([base, pl.col("sep"), pl.col("alt_suffix")]))
        .otherwise(pl.concat_str([base, pl.lit(", "), pl.col("added_suffix")]))
    )
    punct = (
        pl.when(name.str.contains("&", literal=True))
        .then(name.str.replace_all("&", "and", literal=True))
        .when(name.str.contains(".", literal=True))
        .then(name.str.replace_all(r"[.,]", ""))
        .when(has_suffix)
        .then(pl.concat_str([base, new_sep, pl.col("suffix")]))
        .otherwise(name.str.replace(" ", "-", literal=True))
    )
    cut = pl.col("typo_at")
    typo = pl.concat_str([name.str.slice(0, cut), name.str.slice(cut + 1)])
    case = pl.when(pl.col("upper")).then(name.str.to_uppercase()).otherwise(name.str.to_lowercase())
    return (
        pl.when(kind == "case")
        .then(case)
        .when(kind == "suffix")
        .then(swapped)
        .when(kind == "punct")
        .then(punct)
        .when(kind == "short")
        .then(pl.col("core"))
        .when(kind == "typo")
        .then(typo)
        .when(kind == "the")
        .then(pl.lit("The ") + name)
        .otherwise(name)
    )


def _crm_domain(kind: pl.Expr) -> pl.Expr:
    """The CRM's spelling of a domain, for each domain-variant kind."""
    d = pl.col("domain")
    pick = pl.col("pick")
    url_prefix = pl.lit(pl.Series([p for p, _ in URL_PARTS])).gather(pick % len(URL_PARTS))
    url_suffix = pl.lit(pl.Series([s for _, s in URL_PARTS])).gather(pick % len(URL_PARTS))
    box = pl.lit(pl.Series(EMAIL_BOXES)).gather(pick % len(EMAIL_BOXES))
    upper = (
        pl.when(pick % 3 == 0)
        .then(pl.lit("WWW.") + d.str.to_uppercase())
        .when(pick % 3 == 1)
        .then(d.str.to_uppercase())
        .otherwise(d.str.slice(0, 1).str.to_uppercase() + d.str.slice(1))
    )
    return (
        pl.when(kind == "url")
        .then(pl.concat_str([url_prefix, d, url_suffix]))
        .when(kind == "www")
        .then(pl.lit("www.") + d)
        .when(kind == "upper")
        .then(upper)
        .when(kind == "email")
        .then(box + d)
        .when(kind == "no_domain")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(d)
    )


def draw_crm(
    n_crm: int, companies: pl.DataFrame, hidden: pl.DataFrame, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CRM accounts (about 60% dataset companies written differently) and the truth."""
    rng = stream_rng(seed, 4)
    n = companies.height
    n_matched = min(round(n_crm * CRM_MATCHED_SHARE), n)
    n_dup = round(n_matched * CRM_DUPLICATE_SHARE)
    n_unique = n_matched - n_dup

    # Half of the known companies come from the population a typical ICP targets, so that
    # suppression visibly changes the lists.
    icp = (
        companies.select(
            pl.col("industry").is_in(["software", "fintech"])
            & pl.col("employees").is_between(50, 1000)
            & pl.col("country").is_in(["US", "CA"])
        )
        .to_series()
        .fill_null(False)
        .to_numpy()
    )
    icp_pool = np.flatnonzero(icp)
    n_icp = min(round(n_unique * CRM_ICP_SHARE), len(icp_pool))
    chosen = rng.choice(icp_pool, size=n_icp, replace=False)
    rest_pool = np.setdiff1d(np.arange(n), chosen, assume_unique=True)
    chosen = np.concatenate([chosen, rng.choice(rest_pool, size=n_unique - n_icp, replace=False)])
    dups = rng.choice(chosen, size=n_dup, replace=False) if n_dup else np.zeros(0, np.int64)
    matched_idx = np.concatenate([chosen, dups])
    is_dup = np.r_[np.zeros(len(chosen), bool), np.ones(len(dups), bool)]

    matched = _written_differently(rng, companies, hidden, matched_idx, is_dup)
    outside = _outside_accounts(rng, n_crm - len(matched_idx), companies, seed)
    accounts = pl.concat([matched, outside])
    accounts = accounts[rng.permutation(accounts.height)]
    accounts = accounts.with_columns(
        account_id=salesforce_ids(rng, accounts.height, "001A", start=7_000_000)
    )
    statuses, p_status = weights_to_probs(CRM_STATUSES)
    accounts = accounts.with_columns(
        status=labels(statuses, choose(rng, p_status, accounts.height))
    )
    crm = accounts.select(list(SCHEMAS["crm"])).cast(SCHEMAS["crm"])  # type: ignore[arg-type]
    truth = accounts.select(list(SCHEMAS["crm_truth"])).cast(SCHEMAS["crm_truth"])  # type: ignore[arg-type]
    return crm, truth


def _written_differently(
    rng: np.random.Generator,
    companies: pl.DataFrame,
    hidden: pl.DataFrame,
    idx: np.ndarray,
    is_dup: np.ndarray,
) -> pl.DataFrame:
    """CRM rows for dataset companies, each spelled in one documented way or two."""
    k = len(idx)
    name_kinds, p_name = weights_to_probs(CRM_NAME_VARIANTS)
    domain_kinds, p_domain = weights_to_probs(CRM_DOMAIN_VARIANTS)
    rows = pl.DataFrame(
        {
            "company_id": companies.get_column("company_id").gather(idx),
            "name": companies.get_column("name").gather(idx),
            "domain": companies.get_column("domain").gather(idx),
            "name_kind": labels(name_kinds, choose(rng, p_name, k)),
            "domain_kind": labels(domain_kinds, choose(rng, p_domain, k)),
            "pick": pl.Series(rng.integers(0, 1 << 20, k), dtype=pl.Int64),
            "upper": pl.Series(rng.random(k) < 0.6),
            "drop_suffix": pl.Series(rng.random(k) < 0.2),
            "typo_u": pl.Series(rng.random(k)),
            "duplicate": pl.Series(is_dup),
        }
    ).hstack(hidden.select("core", "descriptor", "suffix", "sep", "country")[idx])
    rows = _with_alt_suffix(rows)
    added = pl.col("country").replace_strict(
        CRM_ADDED_SUFFIX, default="Inc.", return_dtype=pl.String
    )
    rows = rows.with_columns(
        name_kind=_possible_name_kind(pl.col("name_kind")),
        added_suffix=added,
        # Typos land inside the core, past its first letter.
        typo_at=(1 + pl.col("typo_u") * (pl.col("core").str.len_chars() - 2)).cast(pl.Int64),
    )
    domain_kind = (
        pl.when(pl.col("domain").is_null())
        .then(pl.lit("no_domain"))
        .when((pl.col("domain_kind") == "bare") & (pl.col("name_kind") == "exact"))
        .then(pl.lit("url"))
        .otherwise(pl.col("domain_kind"))
    )
    rows = rows.with_columns(domain_kind=domain_kind)
    variant = pl.concat_str(
        [
            pl.when(pl.col("duplicate")).then(pl.lit("duplicate")),
            pl.when(pl.col("name_kind") != "exact").then(pl.col("name_kind")),
            pl.when(pl.col("domain_kind") != "bare").then(pl.col("domain_kind")),
        ],
        separator="+",
        ignore_nulls=True,
    )
    return rows.select(
        "company_id",
        _crm_name(pl.col("name_kind")).alias("name"),
        _crm_domain(pl.col("domain_kind")).alias("domain"),
        variant.alias("variant"),
    )


def _with_alt_suffix(rows: pl.DataFrame) -> pl.DataFrame:
    """Add ``alt_suffix``: another spelling of the row's legal suffix, or null to drop it."""
    alt_table = pl.DataFrame(
        {
            "suffix": [s for s, alts in LEGAL_SUFFIXES.items() for _ in alts],
            "alt_suffix": [a for alts in LEGAL_SUFFIXES.values() for a in alts],
        }
    ).with_columns(alt_rank=pl.int_range(pl.len()).over("suffix"), alt_n=pl.len().over("suffix"))
    rows = rows.with_columns(
        alt_rank=pl.when(pl.col("drop_suffix")).then(None).otherwise(pl.col("pick"))
    ).join(
        alt_table.select("suffix", "alt_n").unique("suffix"),
        on="suffix",
        how="left",
        maintain_order="left",
    )
    return rows.with_columns(alt_rank=pl.col("alt_rank") % pl.col("alt_n")).join(
        alt_table.drop("alt_n"), on=["suffix", "alt_rank"], how="left", maintain_order="left"
    )


def _possible_name_kind(name_kind: pl.Expr) -> pl.Expr:
    """The drawn name kind, or ``case`` when the drawn one would change nothing."""
    plain = pl.col("descriptor").is_null() & pl.col("suffix").is_null()
    return (
        pl.when((name_kind == "short") & plain)
        .then(pl.lit("case"))
        .when((name_kind == "typo") & (pl.col("core").str.len_chars() < 5))
        .then(pl.lit("case"))
        .when((name_kind == "punct") & plain & ~pl.col("core").str.contains(" ", literal=True))
        .then(pl.lit("case"))
        # With no domain to write differently, the name must be.
        .when((name_kind == "exact") & pl.col("domain").is_null())
        .then(pl.lit("case"))
        .otherwise(name_kind)
    )


def _outside_accounts(
    rng: np.random.Generator, k: int, companies: pl.DataFrame, seed: int
) -> pl.DataFrame:
    """CRM accounts for organisations the dataset does not hold, from cores kept apart.

    Cores kept apart cannot collide with the dataset's, but a descriptor or domain form
    still could by chance, so any account matching a dataset name or domain exactly is
    dropped and replaced from a further draw.
    """
    inside, outside = core_vocabulary(seed)
    # The dataset's mix of name families, so that outside names look like inside ones.
    weight = family_weights(inside, companies.height)
    known_names = companies.select(norm_name(pl.col("name")).alias("n")).unique()
    known_domains = companies.select(pl.col("domain").alias("d")).drop_nulls().unique()
    batches: list[pl.DataFrame] = []
    found = 0
    for _ in range(5):
        if batches and found >= k:
            break
        m = (k - found) * 5 // 4 + 10
        batch = (
            _outside_batch(rng, m, outside, weight)
            .with_columns(n=norm_name(pl.col("name")), d=norm_domain(pl.col("domain")))
            .join(known_names, on="n", how="anti", maintain_order="left")
            .join(known_domains, on="d", how="anti", maintain_order="left")
        )
        batches.append(batch)
        found += batch.height
    if found < k:
        raise RuntimeError(f"could not draw {k} CRM accounts outside the dataset")
    return (
        pl.concat(batches)
        .head(k)
        .select(
            pl.lit(None, dtype=pl.String).alias("company_id"),
            "name",
            "domain",
            pl.lit("not_in_dataset").alias("variant"),
        )
    )


def _outside_batch(
    rng: np.random.Generator, m: int, outside: dict[str, list[str]], weight: np.ndarray
) -> pl.DataFrame:
    """``m`` candidate outside accounts: names from the cores kept outside, CRM-style domains."""
    _, p_industry = weights_to_probs(INDUSTRIES)
    _, p_country = weights_to_probs(COUNTRIES)
    industry = choose(rng, p_industry, m)
    country = choose(rng, p_country, m)
    cores = draw_cores(rng, outside, m, weight)
    suffix, sep = draw_suffixes(rng, country, share=0.45)
    parts = cores.with_columns(
        descriptor=draw_descriptors(
            rng, industry, cores.get_column("family"), cores.get_column("core")
        ),
        suffix=suffix,
        sep=sep,
        tld=draw_tlds(rng, country, industry),
    )
    domain_kinds, p_domain = weights_to_probs(CRM_DOMAIN_VARIANTS)
    rows = parts.select(
        full_name(pl.col("core"), pl.col("descriptor"), pl.col("sep"), pl.col("suffix")).alias(
            "name"
        ),
        pl.concat_str([slug_expr(pl.col("core")), pl.lit("."), pl.col("tld")]).alias("domain"),
    ).with_columns(
        domain_kind=labels(domain_kinds, choose(rng, p_domain, m)),
        pick=pl.Series(rng.integers(0, 1 << 20, m), dtype=pl.Int64),
    )
    return rows.with_columns(domain=_crm_domain(pl.col("domain_kind")))
