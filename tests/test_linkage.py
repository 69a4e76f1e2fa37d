"""The linkage model: comparison levels, vetoes, evidence, blocking keys and estimation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from listbuilder.match import (
    FIELDS,
    MatchSettings,
    Model,
    candidate_pairs,
    compare,
    estimate,
    match_frames,
    prepare,
    prior_model,
    score,
)
from listbuilder.match.linkage import level


def frame(
    id_column: str, rows: list[tuple[str, str | None, str | None, str | None]]
) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={id_column: pl.String, "name": pl.String, "domain": pl.String, "country": pl.String},
        orient="row",
    )


def levels_of(
    left: tuple[str | None, str | None, str | None],
    right: tuple[str | None, str | None, str | None],
) -> dict[str, object]:
    """The comparison levels (by name) of one company and one account."""
    lp = prepare(frame("company_id", [("C1", *left)]), "company_id").collect()
    rp = prepare(frame("account_id", [("A1", *right)]), "account_id").collect()
    pairs = pl.DataFrame({"ci": [0], "ai": [0]}, schema={"ci": pl.UInt32, "ai": pl.UInt32})
    row = compare(pairs, lp, rp).row(0, named=True)
    return {f: FIELDS[f][row[f]] for f in FIELDS} | {"sim": row["sim"]}


def decide(
    left: tuple[str | None, str | None, str | None],
    right: tuple[str | None, str | None, str | None],
) -> tuple[set[str], set[str], str]:
    """Where one pair ends up: (matched?, in review?, its evidence)."""
    result = match_frames(
        frame("company_id", [("C1", *left)]), frame("account_id", [("A1", *right)])
    )
    rows = pl.concat([result.matches.select("evidence"), result.review.select("evidence")])
    evidence = rows["evidence"].item() if rows.height else ""
    return set(result.matches["account_id"]), set(result.review["account_id"]), evidence


# --- comparison levels ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "field", "expected"),
    [
        # domain
        (("Acme", "acme.com", None), ("Acme", "www.acme.com", None), "domain", "same"),
        (("Acme", "acme.com", "DE"), ("Acme", "acme.de", "DE"), "domain", "label"),
        (("Acme", "acme.com", None), ("Acme", "acme.de", None), "domain", "related"),
        (("Acme", "acme.com", "US"), ("Acme", "acme.de", "DE"), "domain", "differs"),
        (("Acme", "acme.com", None), ("Acme", "zenith.io", None), "domain", "differs"),
        (("Acme", "acme.com", None), ("Acme", None, None), "domain", "missing"),
        # a host under a suffix no list knows is a host, not a missing domain
        (("Acme Co 1", "acme1.corp", None), ("Acme Co 2", "acme2.corp", None), "domain", "differs"),
        (("Acme", "www.acme.corp", None), ("Acme", "acme.corp", None), "domain", "same"),
        # a brand's own top-level domain: the brand is the label
        (("Sony", "global.sony", "JP"), ("Sony", "sony.co.jp", "JP"), "domain", "label"),
        # "one label contains the other" needs five letters
        (("Acme", "acme.com", None), ("Acme", "acmegroup.com", None), "domain", "differs"),
        (("Zenith", "zenith.com", None), ("Zenith", "zenithgroup.com", None), "domain", "related"),
        # name
        (("ACME, Inc.", None, None), ("Acme Incorporated", None, None), "name", "exact"),
        (("Sea-World", None, None), ("Seaworld", None, None), "name", "exact"),
        (("Brightwave", None, None), ("Brightwave Analytics", None, None), "name", "inside"),
        (("IBM", None, None), ("International Business Machines", None, None), "name", "acronym"),
        (("BofA", None, None), ("Bank of America", None, None), "name", "differs"),
        (
            ("Big Blue", "ibm.com", None),
            ("Intl Business Machines", None, None),
            "name",
            "acronym_domain",
        ),
        (("Global Solutions", None, None), ("Global Solutions", None, None), "name", "missing"),
        # numbers
        (("Fund XII", None, None), ("Fund XIII", None, None), "numbers", "differ"),
        (("Fund XII", None, None), ("Fund 12", None, None), "numbers", "same"),
        (("Local 123", None, None), ("Local 132", None, None), "numbers", "differ"),
        (("Fund Three", None, None), ("Fund Four", None, None), "numbers", "differ"),
        (("Acme", None, None), ("Acme 2", None, None), "numbers", "one_side"),
        (("Acme", None, None), ("Acme", None, None), "numbers", "none"),
        # country
        (("Acme", None, "GB"), ("Acme", None, "United Kingdom"), "country", "same"),
        (("Acme", None, "GB"), ("Acme", None, "US"), "country", "differs"),
        (("Acme", None, "GB"), ("Acme", None, None), "country", "missing"),
    ],
)
def test_comparison_levels(
    left: tuple[str, str | None, str | None],
    right: tuple[str, str | None, str | None],
    field: str,
    expected: str,
) -> None:
    assert levels_of(left, right)[field] == expected


# --- vetoes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "veto"),
    [
        # numbered entities: digits, a final Roman numeral, numbered words
        (("Granite Fund XII LP", None, "US"), ("Granite Fund XIII LP", None, "US"), "numbers"),
        (("2551234 Ontario Inc", None, "CA"), ("2551243 Ontario Inc", None, "CA"), "numbers"),
        (("Teamsters Local 727", None, "US"), ("Teamsters Local 722", None, "US"), "numbers"),
        (("Pinecrest Fund Two", None, "US"), ("Pinecrest Fund Three", None, "US"), "numbers"),
        # the same brand in another country
        (("Brightwave GmbH", None, "DE"), ("Brightwave Inc", None, "US"), "countries"),
        # franchise and branch offices: the brand's words inside, same country
        (("Remax", None, "US"), ("Remax Springfield", None, "US"), "name alone"),
        # an acronym is a candidate, not a match
        (("TCS", None, "IN"), ("Tata Consultancy Services", None, "IN"), "name alone"),
    ],
)
def test_vetoes_stop_an_automatic_match_but_keep_review(
    left: tuple[str, str | None, str | None], right: tuple[str, str | None, str | None], veto: str
) -> None:
    matched, review, evidence = decide(left, right)
    assert matched == set()
    assert review == {"A1"}
    assert "veto: " in evidence and veto in evidence.split("veto: ")[1]


def test_a_holding_and_a_bank_sharing_a_word_do_not_match() -> None:
    matched, _, _ = decide(("Zenith Holdings", None, "US"), ("Zenith Bank", None, "US"))
    assert matched == set()


def test_the_same_pairs_without_the_conflict_match() -> None:
    # The veto cases above, each with the conflict removed: these must match.
    for left, right in [
        (("Granite Fund XII LP", None, "US"), ("Granite Fund XII", None, "US")),
        (("Brightwave GmbH", None, "DE"), ("Brightwave Inc", None, "DE")),
        (("Remax", "remax.com", "US"), ("Remax Springfield", "remax.com", "US")),
    ]:
        matched, _, evidence = decide(left, right)
        assert matched == {"A1"}, evidence
        assert "veto" not in evidence


def test_a_shared_country_never_lifts_words_inside() -> None:
    _, _, with_country = decide(("Remax", None, "US"), ("Remax Springfield", None, "US"))
    _, _, without = decide(("Remax", None, None), ("Remax Springfield", None, None))
    assert "country same +0.0" in with_country

    def total(evidence: str) -> float:
        return sum(
            float(part.rsplit(" ", 1)[1]) for part in evidence.split("; veto")[0].split("; ")
        )

    assert total(with_country) == pytest.approx(total(without), abs=0.11)


def test_differing_domains_weigh_strongly_against() -> None:
    # The 5-million-company failure: one digit apart, two hosts outside the PSL.
    matched, _, evidence = decide(
        ("Acme Co 1003732", "acme1003732.example", None),
        ("Acme Co 1003723", "acme1003723.example", None),
    )
    assert matched == set()
    assert "domain differs -" in evidence and "numbers differ" in evidence


# --- evidence and probability ------------------------------------------------------------


def test_evidence_adds_up_to_the_weight_and_the_probability() -> None:
    result = match_frames(
        frame("company_id", [("C1", "Brightwave Analytics", "brightwave.io", "US")]),
        frame("account_id", [("A1", "Brigthwave Analytics Inc", None, "United States")]),
        MatchSettings(threshold=0.0, review_threshold=0.0),
    )
    row = result.matches.row(0, named=True)
    parts = row["evidence"].split("; ")
    assert parts[0].startswith("prior ")
    assert any(p.startswith("name 0.9") for p in parts)
    assert any(p.startswith("country same +") for p in parts)
    total = sum(float(p.rsplit(" ", 1)[1]) for p in parts)
    assert total == pytest.approx(row["weight"], abs=0.05 * len(parts))
    assert row["score"] == pytest.approx(1 / (1 + 2 ** -row["weight"]), rel=1e-3)


def test_the_model_used_is_in_the_summary() -> None:
    result = match_frames(
        frame("company_id", [("C1", "Acme", "acme.com", None)]),
        frame("account_id", [("A1", "Acme", "acme.com", None)]),
    )
    model = result.counts["model"]
    assert model["source"] == "prior"
    assert set(model["weights"]) == set(FIELDS)
    assert model["weights"]["domain"]["same"] > 10 > 0 > model["weights"]["domain"]["differs"]


# --- blocking keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("Seaworld", None), ("Sea-World", None)),  # glued and hyphenated words
        (("Zentrix", None), ("Zetnrix", None)),  # two letters swapped in a one-word name
        (("GE", None), ("G.E.", None)),  # a name of two letters
        (("M&T Bank", None), ("MT Bank", None)),
        (("Big Blue", "ibm.com"), ("International Business Machines", None)),  # initials/label
        (("Bayerische Motoren Werke", "global.bmw"), ("BMW AG", "bmw.com")),  # brand TLD
    ],
)
def test_blocking_keys_put_hard_pairs_forward(
    left: tuple[str, str | None], right: tuple[str, str | None]
) -> None:
    lp = prepare(frame("company_id", [("C1", *left, None)]), "company_id").collect()
    rp = prepare(frame("account_id", [("A1", *right, None)]), "account_id").collect()
    blocks = candidate_pairs(lp.lazy(), rp.lazy(), max_block_pairs=2000)
    assert blocks.pairs.rows() == [(0, 0)]


def test_blocking_keys_keep_unrelated_names_apart() -> None:
    lp = prepare(frame("company_id", [("C1", "Zentrix", None, None)]), "company_id").collect()
    rp = prepare(frame("account_id", [("A1", "Moongrid", None, None)]), "account_id").collect()
    assert candidate_pairs(lp.lazy(), rp.lazy(), max_block_pairs=2000).pairs.height == 0


# --- estimation ---------------------------------------------------------------------------

TRUE_M = {
    "domain": (0.7, 0.15, 0.08, 0.07, 0.0),
    "name": (0.4, 0.2, 0.05, 0.02, 0.01, 0.15, 0.1, 0.04, 0.03, 0.0),
    "numbers": (0.9, 0.02, 0.08, 0.0),
    "country": (0.9, 0.1, 0.0),
    "city": (0.8, 0.2, 0.0),
}
TRUE_U = {
    "domain": (0.001, 0.002, 0.01, 0.987, 0.0),
    "name": (0.002, 0.003, 0.01, 0.005, 0.002, 0.02, 0.05, 0.1, 0.808, 0.0),
    "numbers": (0.05, 0.5, 0.45, 0.0),
    "country": (0.3, 0.7, 0.0),
    "city": (0.1, 0.9, 0.0),
}


def draw(probabilities: dict[str, tuple[float, ...]], n: int, rng: np.random.Generator) -> dict:
    return {
        f: rng.choice(len(p), size=n, p=np.array(p) / sum(p)).astype(np.int8)
        for f, p in probabilities.items()
    }


def test_m_u_and_lambda_are_recovered_from_data_generated_with_them() -> None:
    rng = np.random.default_rng(7)
    n_true, n_false = 20_000, 80_000
    matches, non = draw(TRUE_M, n_true, rng), draw(TRUE_U, n_false, rng)
    blocked = pl.DataFrame({f: np.concatenate([matches[f], non[f]]) for f in FIELDS})
    # Random pairs are non-matches, with one in ten thousand a true pair.
    random = pl.DataFrame(draw(TRUE_U, 200_000, rng))
    total_pairs = 100_000_000
    uniform = {f: tuple([1.0] * len(v)) for f, v in FIELDS.items()}
    vague = Model(uniform, uniform, 1e-6)
    model = estimate(blocked, random, total_pairs, vague, iterations=60, prior_pairs=(1.0, 1.0))
    assert model.source == "estimated"
    for f in FIELDS:
        k = len(FIELDS[f]) - 1  # the "no evidence" level is not estimated
        for i in range(k):
            assert model.m[f][i] == pytest.approx(TRUE_M[f][i], abs=0.02), (f, i)
            assert model.u[f][i] == pytest.approx(TRUE_U[f][i], abs=0.01), (f, i)
    assert model.lam == pytest.approx(n_true / total_pairs, rel=0.05)


def test_true_pairs_drawn_among_the_random_pairs_do_not_count_towards_u() -> None:
    # A small input: 3,000 true pairs among 1,000,000, so three random pairs in a thousand
    # are true pairs, with the name levels true pairs show. Counted as random, they would
    # make "name exact" look half as common again among random pairs as it is.
    rng = np.random.default_rng(11)
    total_pairs, n_true = 1_000_000, 3_000
    matches, non = draw(TRUE_M, n_true, rng), draw(TRUE_U, 12_000, rng)
    blocked = pl.DataFrame({f: np.concatenate([matches[f], non[f]]) for f in FIELDS})
    hits, rest = draw(TRUE_M, 600, rng), draw(TRUE_U, 199_400, rng)
    random = pl.DataFrame({f: np.concatenate([hits[f], rest[f]]) for f in FIELDS})
    uniform = {f: tuple([1.0] * len(v)) for f, v in FIELDS.items()}
    model = estimate(
        blocked, random, total_pairs, Model(uniform, uniform, 1e-6), prior_pairs=(1.0, 1.0)
    )
    naive = np.bincount(random["name"].to_numpy(), minlength=10)[0] / random.height
    assert naive > 1.3 * TRUE_U["name"][0]
    assert model.u["name"][0] == pytest.approx(TRUE_U["name"][0], rel=0.15)
    assert model.u["name"][1] == pytest.approx(TRUE_U["name"][1], rel=0.15)
    assert model.lam == pytest.approx(n_true / total_pairs, rel=0.1)


def test_a_small_input_keeps_the_shipped_prior() -> None:
    prior = prior_model()
    tiny = pl.DataFrame({f: [len(FIELDS[f]) - 1] * 10 for f in FIELDS}).cast(pl.Int8)
    model = estimate(tiny, tiny, 100, prior, larger_side=10)
    assert model.m == prior.m and model.u == prior.u
    assert model.lam == pytest.approx(0.05)


def test_weights_and_probability_follow_the_formula() -> None:
    model = prior_model()
    w = model.weights()
    codes = {
        "domain": "same",
        "name": "exact",
        "numbers": "none",
        "country": "same",
        "city": "missing",
    }
    levels = pl.DataFrame({f: [level(f, name)] for f, name in codes.items()} | {"sim": [1.0]}).cast(
        {f: pl.Int8 for f in FIELDS}
    )
    out = score(levels, model).row(0, named=True)
    expected = model.prior_weight() + sum(w[f][level(f, codes[f])] for f in FIELDS)
    assert out["weight"] == pytest.approx(expected)
    assert out["score"] == pytest.approx(1 / (1 + math.pow(2, -expected)))
    assert out["veto"] is None
    for f in FIELDS:
        assert w[f][-1] == 0.0
