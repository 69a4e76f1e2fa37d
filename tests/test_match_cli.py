"""`listbuilder match` and `build --confirmed`: files written, decisions kept, bad input.

A bad input gives one ``Error:`` paragraph, a non-zero exit status, no traceback, and
leaves ``--out`` exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import Workspace, assert_cli_error, invoke, snapshot

COMPANIES = [
    {"company_id": "C1", "name": "ACME, Inc.", "domain": "https://www.acme.com/about"},
    {"company_id": "C2", "name": "Brightwave Analytics Inc.", "domain": "brightwave.io"},
    {"company_id": "C3", "name": "Tata Consultancy Services Limited", "domain": "tcs.com"},
    {"company_id": "C4", "name": "Delta Air Lines, Inc.", "domain": "delta.com"},
    {"company_id": "C5", "name": "Acme Incorporated", "domain": "shop.acme.com"},
]
CRM = """account_id,name,domain
A1,Acme Incorporated,acme.com
A2,Brigthwave Analytics,
A3,TCS,
A4,Delta Electronics,deltaww.com
A5,,gmail.com
"""


def write_inputs(root: Path, crm_text: str = CRM) -> tuple[Path, Path]:
    companies = root / "companies.csv"
    pl.DataFrame(COMPANIES).write_csv(companies)
    crm = root / "crm.csv"
    crm.write_text(crm_text, encoding="utf-8")
    return companies, crm


def match_args(root: Path, out: Path, *extra: str, crm: Path | None = None) -> list[str]:
    companies = root / "companies.csv"
    return ["match", "--companies", str(companies), "--crm", str(crm or root / "crm.csv"),
            "--out", str(out), *extra]  # fmt: skip


@pytest.fixture
def ready(tmp_path: Path) -> Path:
    """Valid inputs, and a run directory from an earlier run that must survive failures."""
    write_inputs(tmp_path)
    earlier = invoke(match_args(tmp_path, tmp_path / "out", "--threshold", "0.9999"))
    assert earlier.exit_code == 0, earlier.output
    return tmp_path


def test_match_writes_matches_review_duplicates_and_summary(ready: Path) -> None:
    out = ready / "out"
    result = invoke(match_args(ready, out))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "matched 2 of 5 CRM accounts (domain 1, fuzzy 1)",
        "unmatched: 3, of which 2 have candidates to review (2 pairs in review.csv)",
        "compared 4 candidate pairs of 20 possible",
        "companies sharing a domain with another: 1 (duplicates.csv)",
        "skipped: crm empty names 1, crm unusable domains 1",
        f"wrote {out}/",
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        ".listbuilder.json",
        "duplicates.csv",
        "matches.csv",
        "review.csv",
        "summary.json",
    ]
    matches = pl.read_csv(out / "matches.csv", infer_schema=False)
    assert matches.columns == [
        "company_id", "account_id", "method", "score", "weight", "evidence",
        "company_name", "crm_name", "company_domain", "crm_domain",
    ]  # fmt: skip
    assert matches.select("company_id", "account_id", "method").rows() == [
        ("C1", "A1", "domain"),
        ("C2", "A2", "fuzzy"),
    ]
    # The companies file's URL is read as its host name, as every plain file's domain is.
    row = matches.row(0, named=True)
    assert float(row["score"]) >= 0.99
    assert "domain same +" in row["evidence"] and "name exact +" in row["evidence"]
    assert (row["company_name"], row["crm_name"], row["company_domain"], row["crm_domain"]) == (
        "ACME, Inc.", "Acme Incorporated", "acme.com", "acme.com",
    )  # fmt: skip
    review = pl.read_csv(out / "review.csv", infer_schema=False)
    assert review.columns == [*matches.columns, "rank", "decision"]
    assert sorted(
        review.select("company_id", "account_id", "method", "rank", "decision").rows()
    ) == [("C3", "A3", "acronym", "1", None), ("C4", "A4", "fuzzy", "1", None)]
    acronym = review.filter(pl.col("account_id") == "A3").row(0, named=True)
    assert "veto: name alone too weak" in acronym["evidence"]
    duplicates = pl.read_csv(out / "duplicates.csv", infer_schema=False)
    assert duplicates.rows() == [("C5", "C1", "acme.com")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["crm"] == {
        "accounts": 5,
        "matched": 2,
        "in_review": 2,
        "unmatched": 3,
        "ambiguous": 0,
    }
    assert summary["matches"]["by_method"] == {"domain": 1, "fuzzy": 1}
    assert sum(summary["matches"]["by_score_band"].values()) == 2
    assert summary["settings"] == {"threshold": 0.85, "review_threshold": 0.001}
    assert summary["model"]["source"] == "prior"
    assert summary["blocking"]["all_pairs"] == 20
    assert set(summary["inputs"]) == {"companies", "crm"}


def test_the_same_inputs_give_byte_identical_outputs(ready: Path) -> None:
    first, second = ready / "first", ready / "second"
    assert invoke(match_args(ready, first)).exit_code == 0
    assert invoke(match_args(ready, second)).exit_code == 0
    assert snapshot(first) == snapshot(second)


def test_a_filled_in_review_file_is_kept_on_the_next_run(ready: Path) -> None:
    out = ready / "out"
    assert invoke(match_args(ready, out)).exit_code == 0
    # A person confirms the review pair and rejects a match the engine made.
    review = pl.read_csv(out / "review.csv", infer_schema=False)
    rejected = pl.DataFrame({"company_id": ["C2"], "account_id": ["A2"], "decision": ["no_match"]})
    review = review.filter(pl.col("account_id") == "A3")
    decided = pl.concat([review.with_columns(decision=pl.lit("match")), rejected], how="diagonal")
    confirmed = ready / "decisions.csv"
    decided.write_csv(confirmed)
    result = invoke(match_args(ready, ready / "next", "--confirmed", str(confirmed)))
    assert result.exit_code == 0, result.output
    matches = pl.read_csv(ready / "next" / "matches.csv", infer_schema=False)
    assert matches.select("company_id", "account_id", "method").rows() == [
        ("C1", "A1", "domain"),
        ("C3", "A3", "confirmed"),
    ]
    assert pl.read_csv(ready / "next" / "review.csv")["account_id"].to_list() == ["A4"]
    summary = json.loads((ready / "next" / "summary.json").read_text(encoding="utf-8"))
    assert summary["confirmed"] == {"match": 1, "no_match": 1}
    assert summary["inputs"]["confirmed"]["path"] == str(confirmed)


def test_empty_decisions_are_pairs_not_decided_yet(ready: Path) -> None:
    confirmed = ready / "decisions.csv"
    confirmed.write_text("company_id,account_id,decision\nC3,A3,\nC3,A3,MATCH \n", "utf-8")
    result = invoke(match_args(ready, ready / "next", "--confirmed", str(confirmed)))
    assert result.exit_code == 0, result.output
    matches = pl.read_csv(ready / "next" / "matches.csv", infer_schema=False)
    assert ("C3", "A3", "confirmed") in matches.select("company_id", "account_id", "method").rows()


def run_failing(ready: Path, *extra: str, crm: Path | None = None) -> object:
    before = snapshot(ready / "out")
    result = invoke(match_args(ready, ready / "out", *extra, crm=crm))
    assert snapshot(ready / "out") == before
    return result


def test_a_crm_file_without_names(ready: Path) -> None:
    crm = ready / "noname.csv"
    crm.write_text("account_id,domain\nA1,acme.com\n", encoding="utf-8")
    result = run_failing(ready, crm=crm)
    assert_cli_error(
        result, 1, f"crm file {crm} lacks required column(s) name; it has: account_id, domain"
    )


def test_a_crm_where_no_row_has_a_name_or_a_domain(ready: Path) -> None:
    crm = ready / "blank.csv"
    crm.write_text("account_id,name,domain\nA1,,\nA2,  ,\n", encoding="utf-8")
    result = run_failing(ready, crm=crm)
    assert_cli_error(
        result,
        1,
        f"crm file {crm}: none of its 2 rows has a `name` or a `domain`; matching needs at "
        "least one of them per account",
    )


def test_a_crm_file_with_duplicate_account_ids(ready: Path) -> None:
    crm = ready / "dups.csv"
    crm.write_text("account_id,name\nA1,Acme\nA2,Zentrix\nA1,Acme Inc\n", encoding="utf-8")
    result = run_failing(ready, crm=crm)
    assert_cli_error(
        result,
        1,
        f"crm file {crm} has duplicate `account_id` values: A1; each record must appear once",
    )


def test_a_crm_row_without_an_id(ready: Path) -> None:
    crm = ready / "noid.csv"
    crm.write_text("account_id,name\nA1,Acme\n,Zentrix\n", encoding="utf-8")
    assert_cli_error(
        run_failing(ready, crm=crm), 1, f"crm file {crm}: 1 row(s) have no `account_id`"
    )


def test_a_crm_file_that_is_not_utf8(ready: Path) -> None:
    crm = ready / "latin1.csv"
    crm.write_bytes("account_id,name\nA1,Acme\nA2,Société Générale\n".encode("latin-1"))
    result = run_failing(ready, crm=crm)
    assert_cli_error(
        result,
        1,
        f"crm file {crm} is not valid UTF-8: line 3 (byte 0xE9); save it as UTF-8 "
        "(in Excel: CSV UTF-8)",
    )


def test_a_missing_crm_file(ready: Path) -> None:
    crm = ready / "nowhere.csv"
    assert_cli_error(run_failing(ready, crm=crm), 1, f"input file not found: {crm}")


def test_confirmed_pairs_naming_unknown_ids(ready: Path) -> None:
    confirmed = ready / "decisions.csv"
    confirmed.write_text(
        "company_id,account_id,decision\nC1,A1,match\nC9,A1,match\nC1,A8,no_match\nC7,A9,match\n",
        encoding="utf-8",
    )
    result = run_failing(ready, "--confirmed", str(confirmed))
    assert_cli_error(
        result,
        1,
        f"confirmed-pairs file {confirmed} names unknown ids: company_id C7, C9 not in the "
        "companies data; account_id A8, A9 not in the CRM",
    )


def test_confirmed_pairs_with_an_invalid_decision(ready: Path) -> None:
    confirmed = ready / "decisions.csv"
    confirmed.write_text(
        "company_id,account_id,decision\nC1,A1,match\nC2,A2,yes\nC3,A3,maybe\n", encoding="utf-8"
    )
    result = run_failing(ready, "--confirmed", str(confirmed))
    assert_cli_error(
        result,
        1,
        f"confirmed-pairs file {confirmed}: line 3: invalid decision `yes`; valid values are "
        "['match', 'no_match'] (or empty for undecided); line 4: invalid decision `maybe`; "
        "valid values are ['match', 'no_match'] (or empty for undecided)",
    )


def test_confirmed_pairs_decided_both_ways(ready: Path) -> None:
    confirmed = ready / "decisions.csv"
    confirmed.write_text(
        "company_id,account_id,decision\nC1,A1,match\nC1,A1,no_match\n", encoding="utf-8"
    )
    result = run_failing(ready, "--confirmed", str(confirmed))
    assert_cli_error(
        result,
        1,
        f"confirmed-pairs file {confirmed} decides these pairs both as match and as no_match: "
        "(C1, A1); keep one decision per pair",
    )


def test_confirmed_pairs_without_the_decision_column(ready: Path) -> None:
    confirmed = ready / "decisions.csv"
    confirmed.write_text("company_id,account_id\nC1,A1\n", encoding="utf-8")
    result = run_failing(ready, "--confirmed", str(confirmed))
    assert_cli_error(
        result,
        1,
        f"confirmed-pairs file {confirmed} lacks column(s) decision; expected company_id, "
        "account_id, decision; it has: company_id, account_id",
    )


def test_a_review_threshold_above_the_threshold(ready: Path) -> None:
    result = run_failing(ready, "--threshold", "0.85", "--review-threshold", "0.9")
    assert_cli_error(
        result, 2, "the review threshold (0.9) must not be above the match threshold (0.85)"
    )


def test_a_threshold_out_of_range(ready: Path) -> None:
    result = run_failing(ready, "--threshold", "1.5")
    assert result.exit_code == 2
    assert "'--threshold': 1.5 is not in the range 0<=x<=1" in result.stderr


def test_a_lower_threshold_matches_more(ready: Path) -> None:
    assert invoke(match_args(ready, ready / "strict", "--threshold", "0.9999")).exit_code == 0
    assert invoke(match_args(ready, ready / "loose", "--threshold", "0.01")).exit_code == 0
    strict = pl.read_csv(ready / "strict" / "matches.csv", infer_schema=False)
    loose = pl.read_csv(ready / "loose" / "matches.csv", infer_schema=False)
    assert strict["account_id"].to_list() == ["A1"]
    assert len(loose) > len(strict)


# --- build --confirmed ----------------------------------------------------------------------

RULES = """
[[segments]]
name = "core"
[segments.include]
country = ["US"]
[[segments.score]]
label = "big"
when = { employees = { min = 100 } }
points = 1
[[segments.tiers]]
name = "Tier 1"
min_score = 1
"""
BUILD_COMPANIES = [
    {"company_id": "a", "name": "Acme", "domain": "acme.com", "country": "US", "employees": 500},
    {
        "company_id": "b",
        "name": "Zentrix",
        "domain": "zentrix.io",
        "country": "US",
        "employees": 900,
    },
]
BUILD_CRM = [
    {"account_id": "X1", "name": "Acme Inc", "domain": "www.acme.com", "status": "customer"},
    {"account_id": "X2", "name": "Zentrix Labs", "domain": None, "status": "customer"},
]


def build_args(ws: Workspace, *extra: str) -> list[str]:
    return ["build", "--companies", str(ws.root / "companies.parquet"), "--rules",
            str(ws.root / "rules.toml"), "--crm", str(ws.root / "crm.csv"), "--as-of",
            "2026-11-01", "--out", str(ws.out), *extra]  # fmt: skip


@pytest.fixture
def built(ws: Workspace) -> Workspace:
    ws.companies(BUILD_COMPANIES)
    ws.crm(BUILD_CRM)
    ws.rules(RULES)
    return ws


def test_build_suppresses_by_the_engine_and_records_method_and_score(built: Workspace) -> None:
    result = invoke(build_args(built))
    assert result.exit_code == 0, result.output
    suppressed = pl.read_csv(built.out / "suppressed.csv", infer_schema=False)
    assert suppressed.select("company_id", "crm_account_id", "crm_match_method").rows() == [
        ("a", "X1", "domain")
    ]
    # "Zentrix Labs" is "Zentrix" with a trade word more: close, but for a person to decide.
    assert built.listed("core")["company_id"].to_list() == ["b"]


def test_build_takes_a_persons_decisions(built: Workspace) -> None:
    confirmed = built.root / "decisions.csv"
    confirmed.write_text(
        "company_id,account_id,decision\na,X1,no_match\nb,X2,match\n", encoding="utf-8"
    )
    result = invoke(build_args(built, "--confirmed", str(confirmed)))
    assert result.exit_code == 0, result.output
    suppressed = pl.read_csv(built.out / "suppressed.csv", infer_schema=False)
    assert suppressed.select("company_id", "crm_account_id", "crm_match_method").rows() == [
        ("b", "X2", "confirmed")
    ]
    listed = built.listed("core")
    assert listed["company_id"].to_list() == ["a"]
    assert listed["crm_account_id"].to_list() == [None]
    assert built.summary()["inputs"]["confirmed"]["rows"] == 2


def test_build_refuses_decisions_about_unknown_ids(built: Workspace) -> None:
    confirmed = built.root / "decisions.csv"
    confirmed.write_text("company_id,account_id,decision\nzz,X1,match\n", encoding="utf-8")
    result = invoke(build_args(built, "--confirmed", str(confirmed)))
    assert_cli_error(
        result,
        1,
        f"confirmed-pairs file {confirmed} names unknown ids: company_id zz not in the "
        "companies data",
    )
    assert not built.out.exists()


def test_build_needs_the_crm_for_decisions(built: Workspace) -> None:
    confirmed = built.root / "decisions.csv"
    confirmed.write_text("company_id,account_id,decision\n", encoding="utf-8")
    args = build_args(built, "--confirmed", str(confirmed))
    i = args.index("--crm")
    del args[i : i + 2]
    assert_cli_error(
        invoke(args), 2, "confirmed pairs need the CRM they refer to; pass --crm as well"
    )
