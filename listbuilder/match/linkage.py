"""The Fellegi-Sunter model that decides whether two records are one organisation.

Each compared pair gets one *level* per field (``FIELDS``): the domain is the same, the
same label under another suffix, different or missing; the name is exact, close, one
inside the other, an acronym...; and so on. For each level the model holds two
probabilities: ``m``, how often a true pair shows it, and ``u``, how often two records
picked at random do. A level's weight is ``log2(m / u)`` (its Bayes factor in bits); the
weights of a pair's levels plus the prior ``log2(lambda / (1 - lambda))``, with ``lambda``
the chance that two random records are one organisation, give the match weight, and
``2**w / (1 + 2**w)`` the match probability. A missing field weighs nothing.

Estimation (``estimate``): ``u`` from random pairs of the run's own records, ``m`` and
``lambda`` by expectation-maximisation over the blocked pairs, both pulled towards the
prior shipped with the package (``prior.json``, trained on a labelled set by
``benchmarks/train_prior.py``) by a fixed number of pseudo-pairs, so a small input keeps
the prior and a large one speaks for itself.

Vetoes (``VETOES``) stop an automatic match whatever the weights say: numbers in the
names that differ ("Fund XII" and "Fund XIII"), two countries, and a name that is only
"words inside" the other or an acronym without a domain that agrees. Such a pair can still
go to review.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import polars as pl

# Each field's levels, in the order comparisons test them; the last is "no evidence".
FIELDS: dict[str, tuple[str, ...]] = {
    "domain": ("same", "label", "related", "differs", "missing"),
    "name": (
        "exact",
        "0.95",
        "inside",
        "acronym",
        "acronym_domain",
        "0.88",
        "0.80",
        "0.70",
        "differs",
        "missing",
    ),
    "numbers": ("same", "differ", "one_side", "none"),
    "country": ("same", "differs", "missing"),
    "city": ("same", "differs", "missing"),
}
# How each level reads in the evidence; ``{sim}`` is the name similarity (0-1).
WORDS: dict[str, tuple[str, ...]] = {
    "domain": (
        "domain same",
        "domain label same",
        "domain label related",
        "domain differs",
        "",
    ),
    "name": (
        "name exact",
        "name {sim}",
        "name words inside",
        "name acronym",
        "name acronym of domain",
        "name {sim}",
        "name {sim}",
        "name {sim}",
        "name {sim}",
        "",
    ),
    "numbers": ("numbers same", "numbers differ", "number on one side", ""),
    "country": ("country same", "country differs", ""),
    "city": ("city same", "city differs", ""),
}
# Name levels too weak to decide alone: they need the domain to agree.
WEAK_NAME = ("inside", "acronym", "acronym_domain", "0.80", "0.70", "differs", "missing")
STRONG_DOMAIN = ("same", "label")
VETOES = ("numbers differ", "countries differ", "name alone too weak")
# Levels that say the two records disagree: they never count for a match, whatever a
# small or odd sample makes of them (two numbers that differ are rare among random pairs
# too, which alone would make "numbers differ" look like evidence of a match).
DISAGREEMENT = {
    "domain": "differs",
    "name": "differs",
    "numbers": "differ",
    "country": "differs",
    "city": "differs",
}

# Pseudo-pairs the shipped prior counts for in estimation.
PRIOR_PAIRS_M = 1_000.0
PRIOR_PAIRS_U = 200_000.0
# Random pairs drawn to estimate u, and EM iterations.
U_SAMPLE = 200_000
EM_ITERATIONS = 30
# Below this many blocked pairs the run's own data says too little; the prior is used.
MIN_PAIRS_TO_ESTIMATE = 1_000
# For such an input, the share of the larger side's records taken to have a match: lambda
# becomes this over the larger side's size, so a prior trained on thousands of records
# does not make three records against three look like a needle in a haystack.
SMALL_INPUT_MATCH_SHARE = 0.5


def level(field: str, name: str) -> int:
    """The code of one level of one field."""
    return FIELDS[field].index(name)


def null_level(field: str) -> int:
    """The code of a field's "no evidence" level (always the last)."""
    return len(FIELDS[field]) - 1


@dataclass(frozen=True)
class Model:
    """Fellegi-Sunter parameters: ``m`` and ``u`` per field and level, and ``lam``.

    ``lam`` is the probability that two records drawn at random are one organisation.
    """

    m: dict[str, tuple[float, ...]]
    u: dict[str, tuple[float, ...]]
    lam: float
    source: str = "prior"

    def weights(self) -> dict[str, tuple[float, ...]]:
        """Each level's weight in bits, ``log2(m / u)``; 0 for the "no evidence" level."""
        out = {}
        for f, levels in FIELDS.items():
            w = [
                math.log2(max(self.m[f][i], 1e-12) / max(self.u[f][i], 1e-12))
                for i in range(len(levels))
            ]
            w[-1] = 0.0
            bad = FIELDS[f].index(DISAGREEMENT[f])
            w[bad] = min(w[bad], 0.0)
            out[f] = tuple(w)
        return out

    def prior_weight(self) -> float:
        """``log2(lam / (1 - lam))``: the weight of a pair before any field is compared."""
        return math.log2(self.lam / (1.0 - self.lam))

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain data, levels named (what ``summary.json`` records)."""
        return {
            "lambda": self.lam,
            "source": self.source,
            "m": {f: dict(zip(FIELDS[f], self.m[f], strict=True)) for f in FIELDS},
            "u": {f: dict(zip(FIELDS[f], self.u[f], strict=True)) for f in FIELDS},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "prior") -> Model:
        """Parameters from ``to_dict`` output."""
        m = {f: tuple(float(data["m"][f][lv]) for lv in FIELDS[f]) for f in FIELDS}
        u = {f: tuple(float(data["u"][f][lv]) for lv in FIELDS[f]) for f in FIELDS}
        return cls(m, u, float(data["lambda"]), source)


def prior_model() -> Model:
    """The model shipped with the package, trained on a labelled set."""
    text = resources.files("listbuilder.match").joinpath("prior.json").read_text("utf-8")
    return Model.from_dict(json.loads(text), "prior")


# --- estimation ----------------------------------------------------------------------


def _frequencies(
    levels: pl.DataFrame,
    weights: np.ndarray | None,
    prior: dict[str, tuple[float, ...]],
    pseudo: float,
) -> dict[str, tuple[float, ...]]:
    """Per field, the (weighted) share of each level, pulled towards ``prior``.

    The "no evidence" level is left out of the shares: it says nothing about the pair.
    """
    out = {}
    for f, names in FIELDS.items():
        k = len(names)
        codes = levels[f].to_numpy()
        counts = np.bincount(codes, weights=weights, minlength=k)[:k].astype(np.float64)
        counts[-1] = 0.0
        base = np.array(prior[f], dtype=np.float64)
        base[-1] = 0.0
        base = base / base.sum() if base.sum() > 0 else np.full(k, 1.0 / (k - 1))
        shares = (counts + pseudo * base) / (counts.sum() + pseudo)
        shares[-1] = 1.0  # the "no evidence" level weighs log2(1/1) = 0
        out[f] = tuple(float(x) for x in shares)
    return out


def estimate_u(
    random_levels: pl.DataFrame,
    prior: Model,
    m: dict[str, tuple[float, ...]] | None = None,
    lam: float = 0.0,
    exact_share: float | None = None,
    pseudo: float = PRIOR_PAIRS_U,
    keep: np.ndarray | None = None,
) -> dict[str, tuple[float, ...]]:
    """``u`` per field and level from the levels of random pairs.

    A random sample of a small input holds true pairs too (two records in a thousand
    are one organisation when each account has its company among a thousand): their
    expected count, ``lam * m`` per level, is taken out, so that "same name" is not
    mistaken for something random pairs often show. ``exact_share``, when given, is the
    share of all pairs whose names are equal, counted exactly rather than sampled: equal
    names are too rare for a sample to measure. ``keep``, when given, is each random
    pair's chance of *not* being a true pair under the current model: each pair then
    counts for that much, so a typo of a name drawn at random ("Amreican Water Works")
    is taken out as the true pair it is, rather than by level averages.
    """
    n = random_levels.height
    out = {}
    for f, names in FIELDS.items():
        k = len(names)
        codes = random_levels[f].to_numpy()
        if keep is not None:
            counts = np.bincount(codes, weights=keep, minlength=k)[:k].astype(np.float64)
        else:
            counts = np.bincount(codes, minlength=k)[:k].astype(np.float64)
            if m is not None and lam > 0:
                counts = np.maximum(counts - lam * n * np.array(m[f]), 0.0)
        counts[-1] = 0.0
        base = np.array(prior.u[f], dtype=np.float64)
        base[-1] = 0.0
        base = base / base.sum()
        shares = (counts + pseudo * base) / (counts.sum() + pseudo)
        if f == "name" and exact_share is not None and m is not None:
            exact = max(exact_share - lam * m[f][0], 0.5 / max(n, 1) ** 2)
            shares[0] = min(exact, shares[0])
        shares[-1] = 1.0
        out[f] = tuple(float(x) for x in shares)
    return out


def estimate(
    blocked_levels: pl.DataFrame,
    random_levels: pl.DataFrame,
    total_pairs: int,
    prior: Model,
    *,
    exact_name_pairs: int | None = None,
    larger_side: int = 0,
    iterations: int = EM_ITERATIONS,
    prior_pairs: tuple[float, float] = (PRIOR_PAIRS_M, PRIOR_PAIRS_U),
) -> Model:
    """The model for one run: ``u`` from random pairs, ``m`` and ``lam`` by EM.

    Args:
        blocked_levels: One row per blocked pair, a level code per field (``FIELDS``).
        random_levels: The same for random pairs.
        total_pairs: How many pairs all records make (companies times accounts), to turn
            the share of matches among blocked pairs into ``lam``.
        prior: The shipped model, which the estimates are pulled towards.
        exact_name_pairs: How many of all pairs have equal names, counted exactly.
        larger_side: Records on the larger side, for lambda when the prior is used.
        iterations: EM iterations over the distinct level patterns.
        prior_pairs: How many pseudo-pairs the prior counts for, for ``m`` and ``u``.

    With fewer than ``MIN_PAIRS_TO_ESTIMATE`` blocked pairs the prior's ``m`` and ``u``
    are used, with lambda ``SMALL_INPUT_MATCH_SHARE / larger_side``.
    Each iteration also takes the expected true pairs out of the random sample's counts
    (``estimate_u``), as the share of matches it finds grows.
    """
    if blocked_levels.height < MIN_PAIRS_TO_ESTIMATE or total_pairs <= 0:
        lam = min(0.5, SMALL_INPUT_MATCH_SHARE / max(larger_side, 1))
        return Model(prior.m, prior.u, lam, "prior")
    fields = list(FIELDS)
    patterns = blocked_levels.group_by(fields).len().sort(fields)
    count = patterns["len"].to_numpy().astype(np.float64)
    codes = {f: patterns[f].to_numpy() for f in fields}
    m = prior.m
    # Share of matches among the blocked pairs, started from the prior's lambda.
    share = min(0.5, prior.lam * total_pairs / blocked_levels.height)
    lam = prior.lam
    exact = exact_name_pairs / total_pairs if exact_name_pairs is not None else None
    random_codes = {f: random_levels[f].to_numpy() for f in fields}
    keep = None
    for _ in range(iterations):
        u = estimate_u(random_levels, prior, m, lam, exact, prior_pairs[1], keep)
        w = _log_ratio(m, u, codes) + math.log2(share / (1 - share))
        post = 1.0 / (1.0 + np.exp2(-np.clip(w, -60, 60)))
        m = _frequencies(patterns, post * count, prior.m, prior_pairs[0])
        share = float(np.clip((post * count).sum() / count.sum(), 1e-9, 0.5))
        lam = float(np.clip(share * blocked_levels.height / total_pairs, 1e-12, 0.5))
        # A random pair is a true pair with the odds lam gives any pair, times its evidence.
        w_random = _log_ratio(m, u, random_codes) + math.log2(lam / (1 - lam))
        keep = 1.0 - 1.0 / (1.0 + np.exp2(-np.clip(w_random, -60, 60)))
    u = estimate_u(random_levels, prior, m, lam, exact, prior_pairs[1], keep)
    return Model(_no_weaker_disagreement(m, u, prior), u, lam, "estimated")


def _log_ratio(
    m: dict[str, tuple[float, ...]], u: dict[str, tuple[float, ...]], codes: dict[str, np.ndarray]
) -> np.ndarray:
    """Each pattern's summed ``log2(m / u)`` over the fields, without the prior."""
    return sum(
        np.log2(np.maximum(np.array(m[f]), 1e-12))[codes[f]] - np.log2(np.array(u[f]))[codes[f]]
        for f in codes
    )


def _no_weaker_disagreement(
    m: dict[str, tuple[float, ...]], u: dict[str, tuple[float, ...]], prior: Model
) -> dict[str, tuple[float, ...]]:
    """``m`` with "domain differs" weighing at least as much against as the prior's.

    EM on blocked pairs counts near-twins ("Altely", "Altelyn") partly as matches, and
    with them their differing domains: "domain differs" would end up weighing little.
    Two present, different domains are strong evidence on the labelled set, and stay so.
    (A name that differs is left to the estimate: with the same domain, a CRM row typed
    as "ARX legacy import" is still the company.)
    """
    floor = prior.weights()
    out = {}
    for f, shares in m.items():
        values = list(shares)
        i = FIELDS[f].index(DISAGREEMENT[f])
        if f == "domain" and floor[f][i] < 0:
            values[i] = min(values[i], u[f][i] * 2.0 ** floor[f][i])
        out[f] = tuple(values)
    return out


# --- scoring ---------------------------------------------------------------------------


def _fmt(value: pl.Expr) -> pl.Expr:
    """A weight as ``+6.2`` / ``-9.1``."""
    rounded = value.round(1)
    return pl.when(rounded >= 0).then(pl.format("+{}", rounded)).otherwise(rounded.cast(pl.String))


def score(levels: pl.DataFrame, model: Model) -> pl.DataFrame:
    """Weights, probability, vetoes and evidence in words for pairs of level codes.

    ``levels`` has a code per field (``FIELDS``) and ``sim`` (the name similarity, 0-1).
    Adds ``weight`` (the match weight in bits), ``score`` (the match probability),
    ``veto`` (why the pair may not match automatically; null if nothing stops it) and
    ``evidence`` (``domain differs -9.1; name 0.97 +6.2; numbers differ -12.0``).
    """
    weights = model.weights()
    cols = {
        f"w_{f}": pl.col(f).replace_strict(
            list(range(len(FIELDS[f]))), list(weights[f]), return_dtype=pl.Float64
        )
        for f in FIELDS
    }
    name_level = pl.col("name")
    weak_name = name_level.is_in([level("name", n) for n in WEAK_NAME])
    weak_domain = ~pl.col("domain").is_in([level("domain", n) for n in STRONG_DOMAIN])
    # Sharing a country never lifts a weak name: its weight counts only against.
    w_country = pl.when(weak_name & weak_domain).then(pl.col("w_country").clip(upper_bound=0.0))
    cols_after = {"w_country": w_country.otherwise(pl.col("w_country"))}
    total = pl.lit(model.prior_weight()) + pl.sum_horizontal(f"w_{f}" for f in FIELDS)
    vetoes = pl.concat_str(
        [
            pl.when(pl.col("numbers") == level("numbers", "differ")).then(pl.lit(VETOES[0])),
            pl.when(pl.col("country") == level("country", "differs")).then(pl.lit(VETOES[1])),
            pl.when(weak_name & weak_domain).then(pl.lit(VETOES[2])),
        ],
        separator=", ",
        ignore_nulls=True,
    )
    parts = []
    for f, words in WORDS.items():
        text = pl.col(f).replace_strict(
            list(range(len(words))), list(words), return_dtype=pl.String
        )
        if f == "name":
            text = text.str.replace("{sim}", pl.col("sim").round(2).cast(pl.String), literal=True)
        parts.append(
            pl.when(pl.col(f) != null_level(f)).then(
                pl.format("{} {}", text, _fmt(pl.col(f"w_{f}")))
            )
        )
    evidence = pl.concat_str(
        [pl.format("prior {}", _fmt(pl.lit(model.prior_weight()))), *parts],
        separator="; ",
        ignore_nulls=True,
    )
    return (
        levels.with_columns(**cols)
        .with_columns(**cols_after)
        .with_columns(weight=total)
        .with_columns(
            score=1.0 / (1.0 + pl.lit(2.0).pow(-pl.col("weight").clip(-60, 60))),
            veto=pl.when(vetoes != "").then(vetoes),
            evidence=pl.when(vetoes != "")
            .then(pl.format("{}; veto: {}", evidence, vetoes))
            .otherwise(evidence),
        )
        .drop([f"w_{f}" for f in FIELDS])
    )
