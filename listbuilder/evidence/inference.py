"""The statistics behind ``profile``: false-discovery control, tests and intervals that
respect accounts, the temporal split and the scorecard's point scale.

Deals are not independent: one account opens several, and they share everything the
account is. A test that treats 40 deals of 8 accounts as 40 independent draws claims far
more certainty than there is, so every test and interval here treats the account as the
unit that was sampled: the tests use a cluster-robust (sandwich) variance summed over
accounts, and the intervals resample whole accounts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from scipy.special import erfc

FDR = 0.05
"""The false discovery rate: of the values called significant, at most this share by chance."""

POINTS_PER_DOUBLING = 10
"""Scorecard scaling: this many points double a deal's odds of a win."""

POINTS_PER_LOG_ODDS = POINTS_PER_DOUBLING / math.log(2)


def bh_adjust(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    ``q_(i) = min over j >= i of p_(j) * m / j`` for the p-values sorted ascending
    (``i`` from 1), capped at 1. Calling every value with ``q <= FDR`` significant keeps
    the expected share of false discoveries among them at most ``FDR`` (Benjamini and
    Hochberg 1995), whatever the number of values tested. NaN p-values are left out of
    the family and stay NaN.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    values = p[ok]
    order = np.argsort(values, kind="stable")
    scaled = values[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    adjusted = np.empty(m)
    adjusted[order] = q
    out[ok] = adjusted
    return out


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """The two-sided normal p-value of each ``z``: ``P(|Z| >= |z|)``."""
    return erfc(np.abs(np.asarray(z, dtype=np.float64)) / math.sqrt(2.0))


def _account_cells(
    long: pl.DataFrame, deals: pl.DataFrame
) -> tuple[pl.DataFrame, tuple[float, float, int, float, float, float, float]]:
    """Deals and wins per (value, account), with the account's own totals ``N`` and ``W``;
    and the sums over accounts the rest of the deals' variance is computed from."""
    acc = deals.group_by("account_id").agg(
        N=pl.len().cast(pl.Float64), W=pl.col("is_won").sum().cast(pl.Float64)
    )
    n_all = float(deals.height)
    w_all = float(deals.get_column("is_won").sum())
    sw2, swn, sn2 = acc.select(
        a=(pl.col("W") ** 2).sum(), b=(pl.col("W") * pl.col("N")).sum(), c=(pl.col("N") ** 2).sum()
    ).row(0)
    per = (
        long.join(deals.select("_row", "account_id", "is_won"), on="_row")
        .group_by("attribute", "value", "account_id")
        .agg(n=pl.len().cast(pl.Float64), w=pl.col("is_won").sum().cast(pl.Float64))
        .join(acc, on="account_id")
    )
    return per, (n_all, w_all, acc.height, w_all / n_all, sw2, swn, sn2)


def clustered_tests(long: pl.DataFrame, deals: pl.DataFrame) -> pl.DataFrame:
    """Per value, the win rate of the deals that have it against those that do not.

    Args:
        long: ``_row``, ``attribute``, ``value``: one row per deal and value it has
            (a deal has a value at most once).
        deals: ``_row``, ``account_id``, ``is_won``: every deal once.

    Returns ``attribute``, ``value``, ``n``, ``won``, ``accounts``, ``rest_rate``, ``z``
    and ``p``. The
    difference of the two rates is divided by its cluster-robust standard error: each
    account contributes the sum of its deals' influence on the difference, and the
    variance is the sum of the squared contributions times ``G / (G - 1)`` for ``G``
    accounts. Accounts that have the value on some deals and not on others (a signal
    that came and went) count on both sides, with the covariance that brings. The
    variance is never taken below that of independent deals at the pooled rate.
    """
    per, totals = _account_cells(long, deals)
    n_all, w_all, g, pooled, sw2, swn, sn2 = totals
    nv = pl.col("n").sum().over("attribute", "value")
    wv = pl.col("w").sum().over("attribute", "value")
    p_v = wv / nv
    p_r = (w_all - wv) / (n_all - nv)
    inside = (pl.col("w") - p_v * pl.col("n")) / nv - (
        (pl.col("W") - pl.col("w")) - p_r * (pl.col("N") - pl.col("n"))
    ) / (n_all - nv)
    rest_part = (pl.col("W") - p_r * pl.col("N")) ** 2
    out = (
        per.with_columns(_in=inside**2, _rest=rest_part, _nv=nv, _wv=wv, _pv=p_v, _pr=p_r)
        .group_by("attribute", "value")
        .agg(
            n=pl.col("_nv").first(),
            accounts=pl.len(),
            won=pl.col("_wv").first(),
            rate=pl.col("_pv").first(),
            rest_rate=pl.col("_pr").first(),
            s_in=pl.col("_in").sum(),
            s_rest=pl.col("_rest").sum(),
        )
        .with_columns(
            total=sw2 - 2 * pl.col("rest_rate") * swn + pl.col("rest_rate") ** 2 * sn2,
            n_rest=n_all - pl.col("n"),
        )
        .with_columns(
            var=pl.max_horizontal(
                (
                    pl.col("s_in")
                    + (pl.col("total") - pl.col("s_rest")).clip(lower_bound=0.0)
                    / pl.col("n_rest") ** 2
                )
                * (g / (g - 1) if g > 1 else math.nan),
                # Never below the variance of independent deals: with few accounts the
                # sandwich underestimates, and one account's three deals are no proof.
                pooled * (1.0 - pooled) * (1.0 / pl.col("n") + 1.0 / pl.col("n_rest")),
            )
        )
        .with_columns(
            z=pl.when(pl.col("n_rest") > 0)
            .then(
                pl.when(pl.col("var") > 0)
                .then((pl.col("rate") - pl.col("rest_rate")) / pl.col("var").sqrt())
                .otherwise(0.0)
            )
            .otherwise(None)
        )
        .select(
            "attribute",
            "value",
            pl.col("n").cast(pl.Int64),
            pl.col("won").cast(pl.Int64),
            pl.col("accounts").cast(pl.Int64),
            "rest_rate",
            "z",
        )
    )
    z = out.get_column("z").to_numpy().astype(np.float64)
    return out.with_columns(p=pl.Series(two_sided_p(z)))


@dataclass(frozen=True)
class AccountIndex:
    """Deals' accounts as integer codes, for resampling whole accounts."""

    codes: np.ndarray  # one per deal, 0 .. accounts - 1
    accounts: int


def account_index(account_ids: pl.Series) -> AccountIndex:
    """Code each deal's account by the sorted account ids, so codes never depend on order."""
    codes = account_ids.cast(pl.String).rank("dense").to_numpy().astype(np.int64) - 1
    return AccountIndex(codes, int(codes.max()) + 1 if len(codes) else 0)


def account_weights(
    index: AccountIndex, replicates: int, seed: int, chunk: int = 100
) -> list[np.ndarray]:
    """Bootstrap weights over accounts: per replicate, how often each account is drawn.

    Each replicate draws as many accounts as there are, with replacement, keeping every
    deal of an account drawn (the cluster bootstrap). Returned in chunks of at most
    ``chunk`` replicates (accounts along the columns) to bound memory.
    """
    rng = np.random.default_rng(seed)
    a = index.accounts
    out = []
    for start in range(0, replicates, chunk):
        size = min(chunk, replicates - start)
        # Draw a account numbers per replicate and count them: the multinomial counts of
        # a draws with replacement, without a per-replicate Python loop.
        drawn = rng.integers(0, a, size=(size, a)) + (np.arange(size) * a)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * a).reshape(size, a)
        out.append(counts.astype(np.float64))
    return out


def bootstrap_rates(
    long: pl.DataFrame,
    deals: pl.DataFrame,
    keys: pl.DataFrame,
    replicates: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Percentile 95% intervals of each value's win rate and lift, resampling accounts.

    Args:
        long: ``_row``, ``attribute``, ``value``.
        deals: ``_row``, ``account_id``, ``is_won``: every deal once.
        keys: ``attribute``, ``value``: the values wanted, in the order returned.

    Returns ``rate_low``, ``rate_high``, ``lift_low`` and ``lift_high``, one entry per
    key. A replicate's lift is the value's win rate divided by the overall win rate, both
    computed on the same resampled accounts. Replicates in which no drawn account has
    the value are left out of that value's interval.
    """
    index = account_index(deals.get_column("account_id"))
    won = deals.get_column("is_won").cast(pl.Float64).to_numpy()
    codes = index.codes
    keyed = keys.with_columns(_k=pl.int_range(pl.len(), dtype=pl.Int64))
    cells = (
        long.join(keyed, on=["attribute", "value"])
        .select("_row", "_k")
        .join(
            pl.DataFrame({"_row": deals.get_column("_row"), "_a": codes, "_w": won}),
            on="_row",
        )
        .group_by("_a", "_k")
        .agg(n=pl.len().cast(pl.Float64), w=pl.col("_w").sum())
    )
    shape = (index.accounts, keys.height)
    a_idx = cells.get_column("_a").to_numpy()
    k_idx = cells.get_column("_k").to_numpy()
    n_mat = sparse.csc_matrix((cells.get_column("n").to_numpy(), (a_idx, k_idx)), shape=shape)
    w_mat = sparse.csc_matrix((cells.get_column("w").to_numpy(), (a_idx, k_idx)), shape=shape)
    n_acc = np.bincount(codes, minlength=index.accounts).astype(np.float64)
    w_acc = np.bincount(codes, weights=won, minlength=index.accounts)
    rates, lifts = [], []
    for weights in account_weights(index, replicates, seed):
        n_rep = np.asarray(n_mat.T @ weights.T).T
        w_rep = np.asarray(w_mat.T @ weights.T).T
        overall = (weights @ w_acc) / (weights @ n_acc)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = w_rep / n_rep
            lifts.append(rate / overall[:, None])
        rates.append(rate)
    out = {}
    for name, parts in (("rate", rates), ("lift", lifts)):
        stacked = np.vstack(parts)
        low = np.full(keys.height, np.nan)
        high = np.full(keys.height, np.nan)
        seen = ~np.isnan(stacked).all(axis=0)
        if seen.any():
            low[seen], high[seen] = np.nanquantile(stacked[:, seen], [0.025, 0.975], axis=0)
        out[f"{name}_low"], out[f"{name}_high"] = low, high
    return out


@dataclass(frozen=True)
class Split:
    """The temporal split: deals created before ``cutoff`` train, the rest validate."""

    cutoff: dt.date | None
    train: int
    holdout: int
    share: float


def temporal_split(created: pl.Series, holdout: float) -> tuple[np.ndarray, Split]:
    """Mark the newest ``holdout`` share of deals, by created date, as the holdout.

    Deals are sorted by created date; the cutoff is the created date of the first deal
    in the newest ``ceil(holdout * n)``, and every deal created on or after it is held
    out, so deals of one day never straddle the split (the holdout can be a little
    larger than asked). ``holdout = 0`` holds nothing out. Returns a boolean mask (True:
    holdout) in the input order and the split's description.
    """
    n = created.len()
    if holdout <= 0 or n == 0:
        return np.zeros(n, dtype=bool), Split(None, n, 0, 0.0)
    want = math.ceil(holdout * n)
    ordered = created.sort()
    cutoff = ordered[n - want]
    mask = (created >= cutoff).fill_null(False).to_numpy()
    held = int(mask.sum())
    return mask, Split(cutoff, n - held, held, held / n)


def scorecard_points(coefficients: np.ndarray) -> np.ndarray:
    """Integer points for log-odds coefficients: ``round(coef * POINTS_PER_LOG_ODDS)``.

    The usual scorecard scaling: points are proportional to the log-odds, so a driver
    twice as strong gets twice the points, and ``POINTS_PER_DOUBLING`` points double the
    odds of a win. Rounding is half away from zero, so the scale is symmetric in sign.
    """
    scaled = np.asarray(coefficients, dtype=np.float64) * POINTS_PER_LOG_ODDS
    return (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64)
