"""Segments: groups of deals whose wins have clearly different drivers.

A depth-limited tree on the training deals. Each candidate split is a firmographic value
(an industry, a country, a funding stage) or a size threshold (at least an employee or
revenue band); each side must keep ``MIN_LEAF`` training deals. For each candidate a
scorecard is fitted on each side (the pooled model's penalty) and the split with the
largest gain in penalised fit (BIC: twice the log-likelihood gained less ``log n`` per
extra coefficient) is tried. It is kept only if it also predicts the held-out deals
better: the 95% interval of the fall in their log loss per deal (resampling accounts)
lies wholly above ``MIN_GAIN``. Otherwise one segment. At most ``MAX_LEAVES``
segments, in priority order by training win rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from listbuilder.evidence.icp import Scope
from listbuilder.evidence.inference import account_index, account_weights
from listbuilder.evidence.proposal import Filter
from listbuilder.evidence.scorecard import choose_penalty, design, fit_at
from listbuilder.evidence.values import BANDS, MISSING

MAX_LEAVES = 3
MIN_LEAF_SHARE = 0.15
MIN_LEAF = 400
MIN_GAIN = 0.005  # nats per held-out deal
SPLIT_ON = ("industry", "country", "funding_stage", "employees", "revenue_usd")


@dataclass(frozen=True)
class _Split:
    attribute: str
    values: tuple[str, ...]  # the "in" side: these values (bands: this band and above)
    gain: float

    def filter(self, why: str) -> Filter:
        return Filter(self.attribute, self.values, (why,))

    def words(self) -> str:
        return self.filter("").condition().describe()


def _candidates(long: pl.DataFrame, rows: np.ndarray, minimum: int) -> list[tuple[str, tuple]]:
    """Splits with at least ``minimum`` training deals on each side."""
    present = long.filter(pl.col("_row").is_in(pl.Series(np.flatnonzero(rows)).implode()))
    total = int(rows.sum())
    counts = present.group_by("attribute", "value").agg(n=pl.len())
    out: list[tuple[str, tuple]] = []
    for attribute, value, n in counts.sort("attribute", "value").iter_rows():
        categorical = attribute in ("industry", "country", "funding_stage")
        if categorical and value != MISSING and minimum <= n <= total - minimum:
            out.append((attribute, (value,)))
    for attribute, bands in BANDS.items():
        labels = [label for _, _, label in bands]
        by = dict(counts.filter(pl.col("attribute") == attribute).select("value", "n").iter_rows())
        for k in range(1, len(labels)):
            upper = labels[k:]
            n = sum(by.get(v, 0) for v in upper)
            if minimum <= n <= total - minimum:
                out.append((attribute, tuple(upper)))
    return out


def _side(long: pl.DataFrame, n: int, attribute: str, values: tuple) -> np.ndarray:
    hit = long.filter((pl.col("attribute") == attribute) & pl.col("value").is_in(list(values)))
    mask = np.zeros(n, dtype=bool)
    mask[hit.get_column("_row").to_numpy()] = True
    return mask


def _loglik(model, x: sparse.csr_matrix, y: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    p = np.clip(model.predict_proba(x)[:, 1], 1e-12, 1 - 1e-12)
    return y * np.log(p) + (1 - y) * np.log(1 - p)


def _fit_side(x, y, rows, c):  # type: ignore[no-untyped-def]
    if rows.sum() == 0 or len(np.unique(y[rows])) < 2:
        return None
    return fit_at(x[rows], y[rows], c)


def find_segments(
    units: pl.DataFrame,
    long: pl.DataFrame,
    train: np.ndarray,
    held: np.ndarray,
    min_deals: int,
    *,
    seed: int,
    base_name: str,
) -> tuple[list[Scope], str, float | None]:
    """The segments the deals support, in priority order, a sentence saying why, and
    the inverse penalty chosen on every training deal (for reuse).

    ``units`` holds every deal (``_row`` 0 .. n - 1); ``train`` and ``held`` mark the
    training and held-out deals. Returns no scope when one segment is what the deals
    support.
    """
    n = units.height
    if held.sum() == 0:
        return [], "one segment: with nothing held out, a split could not be checked", None
    counts = long.group_by("attribute", "value").agg(k=pl.len())
    keys = (
        counts.filter(pl.col("k") >= min_deals)
        .sort("attribute", "value")
        .select("attribute", "value")
    )
    x = design(long.select("_row", "attribute", "value"), n, keys)
    y = units.get_column("is_won").cast(pl.Int8).to_numpy()
    accounts = account_index(units.get_column("account_id"))
    c, _ = choose_penalty(x[train], y[train], accounts.codes[train])
    leaves: list[tuple[np.ndarray, list[Filter], list[Filter]]] = [(np.ones(n, bool), [], [])]
    tried: list[str] = []
    while len(leaves) < MAX_LEAVES:
        best = None
        for i, (inside, _, _) in enumerate(leaves):
            found = _best_split(x, y, long, inside, train, c, n)
            if found and (best is None or found[0].gain > best[1].gain):
                best = (i, found[0], found[1])
        if best is None:
            if not tried:
                tried.append("no split of groups large enough fits the training deals better")
            break
        i, split, side = best
        inside, inc, exc = leaves[i]
        ok, words = _validated(x, y, accounts, inside, side, train, held, c, seed)
        tried.append(f"{split.words()}: {words}")
        if not ok:
            break
        why = f"a split of the deals: {words}"
        leaves[i : i + 1] = [
            (inside & side, [*inc, split.filter(why)], exc),
            (inside & ~side, inc, [*exc, split.filter(why)]),
        ]
    if len(leaves) == 1:
        note = f"one segment: no split predicts the held-out deals clearly better ({tried[0]})"
        return [], note, c

    rate = [float(y[inside & train].mean()) for inside, _, _ in leaves]
    order = sorted(range(len(leaves)), key=lambda j: -rate[j])
    scopes = []
    for rank, j in enumerate(order, start=1):
        _, inc, exc = leaves[j]
        words = [f.condition().describe() for f in inc] + [
            f"not {f.condition().describe()}" for f in exc
        ]
        scopes.append(Scope(f"{base_name}_{rank}", "; ".join(words), tuple(inc), tuple(exc)))
    note = (
        f"{len(scopes)} segments, in priority order: the deals split where the drivers of a "
        "win differ, and the split predicts the held-out deals better"
    )
    return scopes, note, c


def _with_side(x: sparse.csr_matrix, side: np.ndarray) -> sparse.csr_matrix:
    """``x`` with the split's side as one more column: the pooled model may then shift
    its level on either side, so only a difference in drivers counts as a gain."""
    return sparse.hstack([x, sparse.csr_matrix(side.astype(float)[:, None])], format="csr")


def _best_split(x, y, long, inside, train, c, n):  # type: ignore[no-untyped-def]
    """The candidate with the largest BIC gain on the training deals in ``inside``."""
    rows = inside & train
    total = int(rows.sum())
    minimum = max(MIN_LEAF, math.ceil(MIN_LEAF_SHARE * total))
    if total < 2 * minimum or len(np.unique(y[rows])) < 2:
        return None
    best = None
    for attribute, values in _candidates(long, rows, minimum):
        side = _side(long, n, attribute, values)
        a, b = rows & side, rows & ~side
        fa, fb = _fit_side(x, y, a, c), _fit_side(x, y, b, c)
        if fa is None or fb is None:
            continue
        xs = _with_side(x, side)
        pooled = _fit_side(xs, y, rows, c)
        ll_pool = _loglik(pooled, xs[rows], y[rows]).sum()
        k_pool = int(np.count_nonzero(pooled.coef_))
        ll = _loglik(fa, x[a], y[a]).sum() + _loglik(fb, x[b], y[b]).sum()
        k = int(np.count_nonzero(fa.coef_) + np.count_nonzero(fb.coef_))
        gain = 2 * (ll - ll_pool) - (k - k_pool) * math.log(total)
        if gain > 0 and (best is None or gain > best[0].gain):
            best = (_Split(attribute, values, float(gain)), side)
    return best


def _validated(x, y, accounts, inside, side, train, held, c, seed):  # type: ignore[no-untyped-def]
    """Whether the split predicts the held-out deals in ``inside`` better, and in words."""
    rows = inside & train
    xs = _with_side(x, side)
    pooled = _fit_side(xs, y, rows, c)
    fa, fb = _fit_side(x, y, rows & side, c), _fit_side(x, y, rows & ~side, c)
    test = inside & held
    if test.sum() == 0:
        return False, "no held-out deals to check it on"
    t_idx = np.flatnonzero(test)
    pool_ll = _loglik(pooled, xs[t_idx], y[t_idx])
    split_ll = np.where(
        side[t_idx],
        _loglik(fa, x[t_idx], y[t_idx]),
        _loglik(fb, x[t_idx], y[t_idx]),
    )
    gain = split_ll - pool_ll
    index = account_index(pl.Series(accounts.codes[t_idx]).cast(pl.String))
    per_account = np.bincount(index.codes, weights=gain, minlength=index.accounts)
    per_n = np.bincount(index.codes, minlength=index.accounts).astype(float)
    draws = np.concatenate(
        [(w @ per_account) / (w @ per_n) for w in account_weights(index, 500, seed)]
    )
    low = float(np.quantile(draws, 0.025))
    mean = float(gain.mean())
    words = (
        f"held-out log loss {mean:+.4f} per deal better (95% CI {low:+.4f} and up) "
        f"on {len(t_idx):,} deals"
    )
    return low >= MIN_GAIN, words
