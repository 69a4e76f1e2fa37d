"""The fitted scorecard: a penalised logistic regression on the deals' attribute values.

Every attribute value (an industry, an employee band, a technology, a signal in a window
as of the deal's created date) is a 0/1 column. An L1 (lasso) penalty shrinks every
coefficient towards zero and sets most of them to exactly zero; its strength is chosen by
cross-validation with folds that keep each account's deals together (a model must not be
judged on the deals of accounts it has already seen), and then, by the one-standard-error
rule, the strongest penalty whose held-out log loss is within one standard error of the
best. That prefers the simpler model where the data cannot tell them apart, which is what
keeps chance values out.

Coefficients are log-odds: ``exp(coef)`` is the factor on a deal's odds of a win when
the value is present, all else equal. Their intervals come from refitting on accounts
resampled with replacement.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from listbuilder.evidence.inference import AccountIndex, account_weights

FOLDS = 4
PENALTIES = 11  # values of the penalty tried, log-spaced
STALE = 2  # stop the search after this many penalties without a better held-out loss
PENALTY_SPAN = 3.0  # from the penalty that zeroes every coefficient down 10**3 times
COEF_REPLICATES = 30
INTERCEPT_SCALING = 100.0  # liblinear penalises the intercept too; this makes it negligible


@dataclass(frozen=True)
class Fit:
    """A fitted scorecard.

    Attributes:
        keys: ``attribute``, ``value`` of each column, in column order.
        intercept: Log-odds of a win with no value present.
        coef: One log-odds coefficient per column (zero: not used).
        low, high: 95% percentile intervals of ``coef`` over account bootstrap refits.
        selected: Share of the refits in which the coefficient was not zero.
        c: The chosen inverse penalty; ``cv`` the mean held-out log loss per C tried.
    """

    keys: pl.DataFrame
    intercept: float
    coef: np.ndarray
    low: np.ndarray
    high: np.ndarray
    selected: np.ndarray
    c: float
    cv: pl.DataFrame


def design(long: pl.DataFrame, rows: int, keys: pl.DataFrame) -> sparse.csr_matrix:
    """The 0/1 matrix: one row per deal (``_row`` 0 .. rows - 1), one column per key."""
    keyed = keys.with_columns(_k=pl.int_range(pl.len(), dtype=pl.Int64))
    cells = long.join(keyed, on=["attribute", "value"]).select("_row", "_k")
    r = cells.get_column("_row").to_numpy()
    k = cells.get_column("_k").to_numpy()
    return sparse.csr_matrix((np.ones(len(r)), (r, k)), shape=(rows, keys.height))


def _model(c: float) -> LogisticRegression:
    return LogisticRegression(
        l1_ratio=1.0,
        solver="liblinear",
        C=c,
        intercept_scaling=INTERCEPT_SCALING,
        max_iter=1000,
        tol=1e-4,
        # liblinear shuffles the data; a fixed seed keeps profile byte-identical.
        random_state=0,
    )


def fit_at(
    x: sparse.csr_matrix, y: np.ndarray, c: float, weight: np.ndarray | None = None
) -> LogisticRegression:
    """The L1 logistic regression at inverse penalty ``c``, fitted (weights: per deal)."""
    with warnings.catch_warnings():
        # A weak penalty on separable data may stop at max_iter; the coefficients are
        # then large but the ranking stands, and the 1-SE rule rarely picks such a C.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _model(c).fit(x, y, sample_weight=weight)


def _log_loss(model: LogisticRegression, x: sparse.csr_matrix, y: np.ndarray) -> float:
    p = np.clip(model.predict_proba(x)[:, 1], 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose_penalty(
    x: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray, folds: int = FOLDS
) -> tuple[float, pl.DataFrame]:
    """The inverse penalty C by grouped cross-validation and the one-standard-error rule.

    The grid starts at the C below which every coefficient is zero,
    ``1 / max |X'(y - mean y)|``, and rises ``10**PENALTY_SPAN`` times.
    """
    centred = np.asarray(x.T @ (y - y.mean())).ravel()
    top = float(np.abs(centred).max()) if centred.size else 0.0
    c_min = 1.0 / top if top > 0 else 1.0
    grid = c_min * np.logspace(0.0, PENALTY_SPAN, PENALTIES)
    k = min(folds, len(np.unique(groups)))
    splits = [
        (train, test)
        for train, test in GroupKFold(n_splits=k).split(x, y, groups)
        if len(np.unique(y[train])) == 2
    ]
    losses = np.full((len(splits), len(grid)), np.nan)
    best, since = math.inf, 0
    for j, c in enumerate(grid):
        for f, (train, test) in enumerate(splits):
            losses[f, j] = _log_loss(fit_at(x[train], y[train], c), x[test], y[test])
        # Weak penalties are slow to fit and, past the best, only overfit more: stop
        # once the held-out loss has not improved for STALE steps.
        mean_j = float(np.mean(losses[:, j]))
        best, since = (mean_j, 0) if mean_j < best else (best, since + 1)
        if since >= STALE:
            break
    done = ~np.isnan(losses).all(axis=0)
    grid, losses = grid[done], losses[:, done]
    mean = np.nanmean(losses, axis=0)
    se = np.nanstd(losses, axis=0, ddof=1) / np.sqrt(np.sum(~np.isnan(losses), axis=0))
    best = int(np.nanargmin(mean))
    chosen = next(j for j in range(len(grid)) if mean[j] <= mean[best] + se[best])
    cv = pl.DataFrame({"c": grid, "log_loss": mean, "se": se, "chosen": np.arange(len(grid))})
    cv = cv.with_columns(chosen=pl.col("chosen") == chosen)
    return float(grid[chosen]), cv


def fit_scorecard(
    x: sparse.csr_matrix,
    y: np.ndarray,
    index: AccountIndex,
    keys: pl.DataFrame,
    *,
    replicates: int = COEF_REPLICATES,
    seed: int = 0,
    c: float | None = None,
) -> Fit:
    """Choose the penalty (unless ``c`` is given), fit, and refit on ``replicates``
    account bootstrap samples at the same penalty."""
    cv = pl.DataFrame()
    if c is None:
        c, cv = choose_penalty(x, y, index.codes)
    model = fit_at(x, y, c)
    coef = model.coef_.ravel().copy()
    draws = []
    for chunk in account_weights(index, replicates, seed):
        for weights in chunk:
            per_deal = weights[index.codes]
            keep = per_deal > 0
            if len(np.unique(y[keep])) < 2:
                continue
            draws.append(fit_at(x[keep], y[keep], c, per_deal[keep]).coef_.ravel())
    if draws:
        stacked = np.vstack(draws)
        low, high = np.quantile(stacked, [0.025, 0.975], axis=0)
        selected = (stacked != 0).mean(axis=0)
    else:
        low = high = np.full(len(coef), np.nan)
        selected = np.zeros(len(coef))
    return Fit(keys, float(model.intercept_[0]), coef, low, high, selected, c, cv)


def predict_log_odds(fit: Fit, x: sparse.csr_matrix) -> np.ndarray:
    """The fitted log-odds of a win for each row of ``x`` (columns as ``fit.keys``)."""
    return np.asarray(x @ fit.coef).ravel() + fit.intercept
