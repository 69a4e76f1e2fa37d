"""The matching engine: accuracy on labelled data, decisions, blocking, thresholds, overrides."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from listbuilder.errors import ConfigError
from listbuilder.match import (
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_THRESHOLD,
    MatchResult,
    MatchSettings,
    candidate_pairs,
    match_crm,
    match_frames,
    prepare,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def companies(*rows: tuple[str, str, str | None, str | None]) -> pl.DataFrame:
    """Companies from (company_id, name, domain, country) tuples."""
    return pl.DataFrame(
        rows,
        schema={
            "company_id": pl.String,
            "name": pl.String,
            "domain": pl.String,
            "country": pl.String,
        },
        orient="row",
    )


def crm(*rows: tuple[str, str | None, str | None, str | None]) -> pl.DataFrame:
    """CRM accounts from (account_id, name, domain, country) tuples."""
    return pl.DataFrame(
        rows,
        schema={
            "account_id": pl.String,
            "name": pl.String,
            "domain": pl.String,
            "country": pl.String,
        },
        orient="row",
    )


def pairs(result: MatchResult | pl.DataFrame, frame: str = "matches") -> set[tuple[str, str]]:
    df = result if isinstance(result, pl.DataFrame) else getattr(result, frame)
    return {(c, a) for c, a in df.select("company_id", "account_id").iter_rows()}


def accuracy(matches: pl.DataFrame, truth: pl.DataFrame) -> tuple[float, float]:
    """Precision and recall of matched (company, account) pairs against the truth."""
    positives = truth.drop_nulls("company_id")
    right = matches.join(positives, on=["account_id", "company_id"], how="semi").height
    return right / matches.height, right / positives.height


# --- accuracy on the labelled benchmark ---------------------------------------------------


def _benchmark_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_match_benchmark", DATA / "make_match_benchmark.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_files_are_what_the_script_writes(tmp_path: Path) -> None:
    script = _benchmark_script()
    tables = script.build()
    for rows, name in zip(tables, ("match_companies", "match_crm", "match_truth"), strict=True):
        script.write(rows, tmp_path / f"{name}.csv")
        assert (tmp_path / f"{name}.csv").read_bytes() == (DATA / f"{name}.csv").read_bytes()


def test_precision_and_recall_on_the_labelled_benchmark() -> None:
    read = {"infer_schema": False}
    companies_df = pl.read_csv(DATA / "match_companies.csv", **read)
    crm_df = pl.read_csv(DATA / "match_crm.csv", **read)
    truth = pl.read_csv(DATA / "match_truth.csv", **read)
    result = match_frames(companies_df, crm_df, collapse_duplicates=True)
    precision, recall = accuracy(result.matches, truth)
    positives = truth.drop_nulls("company_id")
    negatives = truth.filter(pl.col("company_id").is_null())
    print(
        f"\nlabelled benchmark: {companies_df.height} companies, {crm_df.height} CRM accounts "
        f"({positives.height} in the dataset, {negatives.height} not); threshold "
        f"{DEFAULT_THRESHOLD:g}: precision {precision:.4f}, recall {recall:.4f}"
    )
    found = positives.join(result.matches, on=["account_id", "company_id"], how="semi")
    kinds = positives.select(pl.col("kind").str.split("+")).explode("kind")["kind"].unique().sort()
    for kind in kinds:
        with_kind = positives.filter(pl.col("kind").str.split("+").list.contains(kind))
        hit = with_kind.join(found, on="account_id", how="semi").height
        print(f"  {kind:24s} {hit:4d} / {with_kind.height:4d}")
    assert precision >= 0.99
    # Kinds the model sends to review by design: two countries, an acronym or words
    # inside without a domain that agrees, a translated name. Recall counts the others;
    # the review file must hold most of what is not matched.
    by_review = ["country_differs", "acronym", "short", "order", "translation"]
    automatic = positives.filter(
        ~pl.col("kind").str.split("+").list.eval(pl.element().is_in(by_review)).list.any()
    )
    found_auto = automatic.join(result.matches, on=["account_id", "company_id"], how="semi")
    assert found_auto.height / automatic.height >= 0.95
    missed = positives.join(result.matches, on=["account_id", "company_id"], how="anti")
    in_review = missed.join(result.review, on=["account_id", "company_id"], how="semi")
    assert in_review.height / missed.height >= 0.8
    # Hard negatives share words, or a letter, with a company in the dataset; none may match.
    assert result.matches.join(negatives, on="account_id", how="semi").height == 0


def test_precision_and_recall_on_the_sample_crm() -> None:
    companies_df = pl.read_parquet(ROOT / "data" / "companies.parquet")
    crm_df = pl.read_csv(ROOT / "data" / "crm.csv", infer_schema=False)
    truth = pl.read_csv(ROOT / "data" / "crm_truth.csv", infer_schema=False)
    result = match_frames(companies_df, crm_df, collapse_duplicates=True)
    precision, recall = accuracy(result.matches, truth)
    print(f"\nsample CRM (data/crm_truth.csv): precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= 0.99
    # Pairs in two countries, or only words inside without a domain, go to review.
    assert recall >= 0.94


# --- decisions ----------------------------------------------------------------------------


def test_the_issues_examples() -> None:
    left = companies(
        ("C1", "ACME, Inc.", "https://www.acme.com/about", "US"),
        ("C2", "Société Générale S.A.", "societegenerale.com", "FR"),
        ("C3", "The Home Depot", "homedepot.com", "US"),
        ("C4", "Acme Holdings Limited", None, "GB"),
        ("C5", "Acme Holdings Inc", "acmeholdingsinc.com", "US"),
        ("C6", "Delta Air Lines, Inc.", "delta.com", "US"),
        ("C7", "American Express Company", "americanexpress.com", "US"),
    )
    right = crm(
        ("A1", "Acme Incorporated", "acme.com", None),
        ("A2", "Societe Generale", None, None),
        ("A3", "Home Depot, Inc.", None, None),
        ("A4", "Acme Holdings Ltd", None, "United Kingdom"),
        ("A5", "Delta Electronics", None, None),
        ("A6", "American Airlines", None, None),
    )
    result = match_frames(left, right)
    assert pairs(result) == {("C1", "A1"), ("C2", "A2"), ("C3", "A3"), ("C4", "A4")}
    methods = dict(zip(result.matches["account_id"], result.matches["method"], strict=True))
    assert methods == {"A1": "domain", "A2": "name", "A3": "name", "A4": "name"}


def test_an_exact_domain_is_a_match_whatever_the_names() -> None:
    result = match_frames(
        companies(("C1", "Zentrix Labs", "zentrix.io", None)),
        crm(("A1", "Totally Different Corp", "https://app.zentrix.io/login", None)),
    )
    assert result.matches["method"].to_list() == ["domain"]
    assert result.matches["score"].item() >= DEFAULT_THRESHOLD
    assert result.matches["evidence"].item().startswith("prior ")
    assert "domain same +" in result.matches["evidence"].item()


def test_an_account_matched_by_domain_takes_no_match_by_name() -> None:
    # Two companies share a name; the account's domain says which one it is.
    result = match_frames(
        companies(
            ("C1", "Brightwave", "brightwave.com", None),
            ("C2", "Brightwave", "brightwave.io", None),
        ),
        crm(("A1", "Brightwave", "www.brightwave.io", None)),
    )
    assert pairs(result) == {("C2", "A1")}
    assert result.review.height == 0


def test_generic_words_alone_never_make_a_match() -> None:
    result = match_frames(
        companies(
            ("C1", "Global Solutions Inc", "globalsolutions.net", None),
            ("C2", "Acme Global Solutions", "acmeglobal.com", None),
        ),
        crm(
            ("A1", "Global Solutions Group", None, None),
            ("A2", "Zenith Global Solutions", None, None),
            ("A3", "Global Solutions Ltd", None, None),
        ),
        MatchSettings(threshold=0.9, review_threshold=0.5),
    )
    assert result.matches.height == 0
    assert result.review.height == 0


def test_fuzzy_matches_tolerate_typos_and_word_order_costs() -> None:
    result = match_frames(
        companies(
            ("C1", "Brightwave Analytics Inc.", "brightwave.io", None),
            ("C2", "Oxford University", "ox.ac.uk", None),
        ),
        crm(("A1", "Brigthwave Analytics", None, None), ("A2", "University of Oxford", None, None)),
    )
    assert pairs(result) == {("C1", "A1")}
    assert result.matches["method"].to_list() == ["fuzzy"]
    # The words in another order are likely the same but not certain: a person decides.
    assert pairs(result, "review") == {("C2", "A2")}


def score_of(left: pl.DataFrame, right: pl.DataFrame) -> float:
    """The model's match weight (bits) for the single pair of ``left`` and ``right``."""
    result = match_frames(left, right, MatchSettings(threshold=0, review_threshold=0))
    both = pl.concat([result.matches.select("weight"), result.review.select("weight")])
    assert both.height == 1, both
    return float(both["weight"].item())


def test_country_agreement_and_disagreement_move_the_score() -> None:
    def one(company_country: str | None, crm_country: str | None) -> float:
        return score_of(
            companies(("C1", "Brightwave Analitics", None, company_country)),
            crm(("A1", "Brightwave Analytics", None, crm_country)),
        )

    unknown = one(None, "GB")
    assert one("GB", None) == unknown
    assert one("GB", "United Kingdom") > unknown  # the country's name and code agree
    assert one("GB", "US") < unknown - 3


def test_a_different_domain_counts_against_a_name_match() -> None:
    same_name = companies(("C1", "Brightwave", "brightwave.com", None))
    no_domain = score_of(same_name, crm(("A1", "Brightwave", None, None)))
    # Another brand's domain: likely another organisation of the same name.
    other = score_of(same_name, crm(("A1", "Brightwave", "bw-systems.io", None)))
    assert other < no_domain - 5
    # The same label under another suffix is the same brand.
    assert score_of(same_name, crm(("A1", "Brightwave", "brightwave.de", None))) > no_domain


def test_trade_words_that_differ_count_against_a_match() -> None:
    left = companies(("C1", "Okafor & Thornton Associates", None, None))
    other_trade = score_of(left, crm(("A1", "Okafor & Thornton Systems", None, None)))
    no_trade = score_of(left, crm(("A1", "Okafor & Thornton", None, None)))
    assert other_trade < no_trade


def test_short_names_and_acronyms_go_to_review() -> None:
    result = match_frames(
        companies(
            ("C1", "Tata Consultancy Services Limited", "tcs.com", "IN"),
            ("C2", "Banco Santander, S.A.", "santander.com", "ES"),
        ),
        crm(("A1", "TCS", None, None), ("A2", "Santander", None, None)),
    )
    assert result.matches.height == 0
    assert pairs(result, "review") == {("C1", "A1"), ("C2", "A2")}
    assert dict(zip(result.review["account_id"], result.review["method"], strict=True)) == {
        "A1": "acronym",
        "A2": "fuzzy",
    }


def test_an_account_tied_between_companies_goes_to_review() -> None:
    left = companies(("C1", "Timberflow", "timberflow.com", None), ("C2", "Timberflow", None, None))
    right = crm(("A1", "TIMBERFLOW", None, None))
    result = match_frames(left, right)
    assert result.matches.height == 0
    assert result.review.select("company_id", "rank").rows() == [("C1", 1), ("C2", 2)]
    assert result.counts["crm"]["ambiguous"] == 1
    # For suppression, either could be the customer: match_crm keeps both.
    assert pairs(match_crm(left, right)) == {("C1", "A1"), ("C2", "A1")}


def test_each_account_keeps_its_best_company() -> None:
    result = match_frames(
        companies(
            ("C1", "Brightwave Analytics", None, None),
            ("C2", "Brightwave Analytic", None, None),
        ),
        crm(("A1", "Brightwave Analytics Inc", None, None)),
    )
    assert pairs(result) == {("C1", "A1")}


def test_an_organisation_held_twice_in_the_crm_matches_twice() -> None:
    result = match_frames(
        companies(("C1", "Brightwave Analytics", "brightwave.io", None)),
        crm(
            ("A1", "Brightwave Analytics", None, None), ("A2", "BRIGHTWAVE", "brightwave.io", None)
        ),
    )
    assert pairs(result) == {("C1", "A1"), ("C1", "A2")}
    assert result.counts["companies"]["with_several_accounts"] == 1


def test_dataset_duplicates_are_reported_and_listed_once() -> None:
    left = companies(
        ("C2", "Contoso Limited", "https://shop.contoso.co.uk/", "GB"),
        ("C1", "Contoso Ltd", "contoso.co.uk", "GB"),
        ("C3", "Fabrikam", "fabrikam.com", None),
    )
    right = crm(("A1", "Contoso", "contoso.co.uk", None))
    result = match_frames(left, right, collapse_duplicates=True)
    assert result.duplicates.rows() == [("C2", "C1", "contoso.co.uk")]
    assert pairs(result) == {("C1", "A1")}
    assert result.counts["companies"]["duplicate_domains"] == 1
    # In a build both records of the company are suppressed.
    assert pairs(match_crm(left, right)) == {("C1", "A1"), ("C2", "A1")}


def test_empty_names_and_unusable_domains_are_skipped_and_counted() -> None:
    result = match_frames(
        companies(("C1", "Acme", "acme.com", None), ("C2", None, "n/a", None)),
        crm(
            ("A1", "", "gmail.com", None),
            ("A2", None, "acme.com", None),
            ("A3", "  ", None, None),
            ("A4", "Acme", "not a domain", None),
        ),
    )
    assert pairs(result) == {("C1", "A2"), ("C1", "A4")}
    assert result.counts["warnings"] == {
        "company_empty_names": 1,
        "company_unusable_domains": 1,
        "crm_empty_names": 3,
        "crm_unusable_domains": 2,
    }


# --- thresholds ---------------------------------------------------------------------------


def typo_data() -> tuple[pl.DataFrame, pl.DataFrame]:
    return (
        companies(("C1", "Northrop Grumman Corporation", None, None)),
        crm(("A1", "Northrup Grumman Corp", None, None)),
    )


def test_thresholds_split_matches_from_review() -> None:
    left, right = typo_data()
    result = match_frames(left, right, MatchSettings(threshold=0, review_threshold=0))
    score = float(result.matches["score"].item())
    assert 0.5 < score < 1
    at = match_frames(left, right, MatchSettings(threshold=score, review_threshold=0.01))
    assert pairs(at) == {("C1", "A1")} and at.review.height == 0
    above = match_frames(
        left, right, MatchSettings(threshold=min(1, score + 1e-6), review_threshold=0.01)
    )
    assert above.matches.height == 0
    assert pairs(above, "review") == {("C1", "A1")}
    below_review = MatchSettings(threshold=1, review_threshold=min(1, score + 1e-6))
    nothing = match_frames(left, right, below_review)
    assert nothing.matches.height == 0 and nothing.review.height == 0


def test_review_lists_the_best_candidates_first() -> None:
    result = match_frames(
        companies(
            ("C1", "Brightwave Analytics", None, None),
            ("C2", "Brightwave Logistics", None, None),
            ("C3", "Brightwave Health", None, None),
            ("C4", "Brightwave Foods", None, None),
        ),
        crm(("A1", "Brightwave", None, None)),
        MatchSettings(review_candidates=2),
    )
    assert result.review["rank"].to_list() == [1, 2]
    assert result.review["score"].is_sorted(descending=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, "`threshold` must be a probability between 0 and 1, got 1.5"),
        (
            {"review_threshold": -1},
            "`review_threshold` must be a probability between 0 and 1, got -1",
        ),
        (
            {"threshold": 0.8, "review_threshold": 0.85},
            "the review threshold (0.85) must not be above the match threshold (0.8)",
        ),
    ],
)
def test_invalid_thresholds_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        MatchSettings(**kwargs)
    assert str(info.value) == message


def test_the_defaults_keep_review_below_the_threshold() -> None:
    assert 0 < DEFAULT_REVIEW_THRESHOLD < DEFAULT_THRESHOLD <= 1


# --- overrides ----------------------------------------------------------------------------


def decisions(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["company_id", "account_id", "decision"], orient="row")


def test_a_confirmed_match_overrides_the_engine() -> None:
    left = companies(("C1", "International Business Machines", "ibm.com", None))
    right = crm(("A1", "IBM", None, None))
    engine = match_frames(left, right)
    assert pairs(engine) == set()
    assert pairs(engine, "review") == {("C1", "A1")}
    result = match_frames(left, right, confirmed=decisions(("C1", "A1", "match")))
    assert result.matches.select("company_id", "account_id", "method", "score").rows() == [
        ("C1", "A1", "confirmed", 1.0)
    ]
    assert result.review.height == 0
    assert result.counts["confirmed"] == {"match": 1, "no_match": 0}


def test_a_rejected_pair_never_matches_and_the_next_best_is_considered() -> None:
    left = companies(
        ("C1", "Acme", "acme.com", None), ("C2", "Acme Widgets", "acmewidgets.com", None)
    )
    right = crm(("A1", "Acme Widgets", "acme.com", None))
    assert pairs(match_frames(left, right)) == {("C1", "A1")}
    result = match_frames(left, right, confirmed=decisions(("C1", "A1", "no_match")))
    # The same name under another domain: put forward, matched or for review.
    assert ("C2", "A1") in pairs(result) | pairs(result, "review")
    assert ("C1", "A1") not in pairs(result, "review")


def test_decisions_about_records_not_given_are_ignored() -> None:
    result = match_frames(
        companies(("C1", "Acme", "acme.com", None)),
        crm(("A1", "Acme", "acme.com", None)),
        confirmed=decisions(("C9", "A1", "match"), ("C1", "A9", "no_match")),
    )
    assert pairs(result) == {("C1", "A1")}


def test_match_crm_keeps_its_columns_and_takes_decisions() -> None:
    left = companies(("C1", "Acme", "acme.com", None))
    right = crm(("A1", "Acme", "acme.com", None))
    out = match_crm(left, right)
    assert out.schema == pl.Schema(
        {
            "company_id": pl.String,
            "account_id": pl.String,
            "method": pl.String,
            "score": pl.Float64,
            "weight": pl.Float64,
            "evidence": pl.String,
        }
    )
    assert out.select("company_id", "account_id", "method").rows() == [("C1", "A1", "domain")]
    assert out["score"].item() >= DEFAULT_THRESHOLD
    assert match_crm(left, right, confirmed=decisions(("C1", "A1", "no_match"))).height == 0
    # Without country or domain columns the engine still matches by name.
    bare = match_crm(
        pl.DataFrame({"company_id": ["C1"], "name": ["Acme Inc"], "domain": [None]}),
        pl.DataFrame({"account_id": ["A1"], "name": ["ACME"]}),
    )
    assert bare.select("company_id", "account_id", "method").rows() == [("C1", "A1", "name")]


# --- blocking -----------------------------------------------------------------------------


def blocked(
    left: pl.DataFrame, right: pl.DataFrame, max_block_pairs: int = 2000
) -> set[tuple[str, str]]:
    lp, rp = prepare(left, "company_id").collect(), prepare(right, "account_id").collect()
    blocks = candidate_pairs(lp.lazy(), rp.lazy(), max_block_pairs=max_block_pairs)
    ids_c, ids_a = lp["id"], rp["id"]
    return {(ids_c[ci], ids_a[ai]) for ci, ai in blocks.pairs.iter_rows()}


def test_blocking_pairs_records_that_share_a_key_and_no_others() -> None:
    left = companies(
        ("C1", "Brightwave Analytics", None, None),
        ("C2", "Zentrix Labs", "zentrix.io", None),
        ("C3", "Harbor Blue Logistics", None, None),
        ("C4", "Quillbridge", None, None),
    )
    right = crm(
        ("A1", "Brigthwave Analytics", None, None),  # a typo: met through the last word
        ("A2", "Zentrix", "zentrix.de", None),  # the domain's label
        ("A3", "Blue Harbor Logistics", None, None),  # words in another order
        ("A4", "Quilbridge", None, None),  # a typo in the only word: its first four letters
    )
    assert blocked(left, right) == {("C1", "A1"), ("C2", "A2"), ("C3", "A3"), ("C4", "A4")}


def test_a_key_too_common_to_identify_anything_is_dropped() -> None:
    left = companies(*[(f"C{i}", f"Analytics Firm {i}", None, None) for i in range(30)])
    right = crm(*[(f"A{i}", f"Analytics Shop {i}", None, None) for i in range(30)])
    # "analytics" and "firm"/"shop" pair everyone with everyone unless dropped.
    assert len(blocked(left, right, max_block_pairs=100_000)) == 900
    assert len(blocked(left, right, max_block_pairs=100)) == 0


def test_blocking_cost_grows_with_the_data_not_its_square() -> None:
    words = ["Zen", "Quor", "Bali", "Tor", "Vex", "Mira", "Lun", "Oda", "Pex", "Rho"]
    names = [f"{a}{b.lower()}{c.lower()}" for a in words for b in words for c in words]
    left = companies(*[(f"C{i}", f"{n} Analytics", None, None) for i, n in enumerate(names)])
    right = crm(*[(f"A{i}", f"{n} Analytics Inc", None, None) for i, n in enumerate(names[::4])])
    found = blocked(left, right)
    truth = {(f"C{i * 4}", f"A{i}") for i in range(len(names[::4]))}
    assert truth <= found
    assert len(found) < 0.02 * left.height * right.height
