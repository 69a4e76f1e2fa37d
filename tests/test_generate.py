"""The synthetic data generator: deterministic, canonical schema, consistent tables."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from listbuilder.inputs import domain_expr
from listbuilder.match import name_expr

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    "n_companies": 3_000,
    "n_jobs": 18_000,
    "n_funding": 1_000,
    "n_crm": 400,
    "n_opportunities": 1_500,
    "n_exec_hires": 200,
    "n_intent": 9_000,
    "n_layoffs": 80,
}
AS_OF = dt.date(2026, 11, 1)

EXPECTED_SCHEMAS = {
    "companies": {
        "company_id": pl.String,
        "name": pl.String,
        "domain": pl.String,
        "industry": pl.String,
        "employees": pl.Int64,
        "revenue_usd": pl.Float64,
        "country": pl.String,
        "founded_year": pl.Int64,
        "funding_stage": pl.String,
        "technologies": pl.List(pl.String),
    },
    "jobs": {
        "company_id": pl.String,
        "posted_date": pl.Date,
        "title": pl.String,
        "department": pl.String,
    },
    "funding": {
        "company_id": pl.String,
        "announced_date": pl.Date,
        "round_type": pl.String,
        "amount_usd": pl.Float64,
    },
    "crm": {"account_id": pl.String, "name": pl.String, "domain": pl.String, "status": pl.String},
    "crm_truth": {"account_id": pl.String, "company_id": pl.String, "variant": pl.String},
    "exec_hires": {"company_id": pl.String, "date": pl.Date, "title": pl.String},
    "intent": {"company_id": pl.String, "date": pl.Date, "topic": pl.String},
    "layoffs": {"company_id": pl.String, "date": pl.Date, "employees_affected": pl.Int64},
    "headcount": {"company_id": pl.String, "date": pl.Date, "employees": pl.Int64},
    "opportunities": {
        "opportunity_id": pl.String,
        "account_id": pl.String,
        "created_date": pl.Date,
        "close_date": pl.Date,
        "is_closed": pl.Boolean,
        "is_won": pl.Boolean,
        "amount": pl.Float64,
    },
}


def _load_generator() -> ModuleType:
    # data/generate is not part of listbuilder: load the package by path.
    package = ROOT / "data" / "generate"
    spec = importlib.util.spec_from_file_location(
        "data_generate", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first, so that the package's relative imports find it.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return gen.generate(**SIZES, as_of=AS_OF)


def test_same_seed_gives_equal_frames(frames: dict[str, pl.DataFrame]) -> None:
    again = gen.generate(**SIZES, as_of=AS_OF)
    assert again.keys() == frames.keys()
    for table, frame in frames.items():
        assert_frame_equal(again[table], frame)


def test_different_seed_gives_different_frames(frames: dict[str, pl.DataFrame]) -> None:
    other = gen.generate(**SIZES, as_of=AS_OF, seed=gen.SEED + 1)
    for table, frame in frames.items():
        assert not other[table].equals(frame), table


def test_a_table_does_not_depend_on_the_size_of_another(
    frames: dict[str, pl.DataFrame],
) -> None:
    more_events = gen.generate(**{**SIZES, "n_jobs": 50, "n_funding": 20}, as_of=AS_OF)
    assert_frame_equal(more_events["companies"], frames["companies"])
    assert_frame_equal(more_events["crm"], frames["crm"])


def test_exact_columns_dtypes_and_sizes(frames: dict[str, pl.DataFrame]) -> None:
    assert set(frames) == set(EXPECTED_SCHEMAS)
    for table, schema in EXPECTED_SCHEMAS.items():
        assert frames[table].schema == pl.Schema(schema), table
    assert frames["companies"].height == SIZES["n_companies"]
    assert frames["jobs"].height == SIZES["n_jobs"]
    assert frames["funding"].height == SIZES["n_funding"]
    assert frames["crm"].height == frames["crm_truth"].height == SIZES["n_crm"]
    assert frames["opportunities"].height == SIZES["n_opportunities"]
    for table in ("exec_hires", "intent", "layoffs"):
        assert frames[table].height == SIZES[f"n_{table}"], table


def test_keys_are_unique_and_well_formed(frames: dict[str, pl.DataFrame]) -> None:
    companies, crm = frames["companies"], frames["crm"]
    assert companies["company_id"].is_unique().all()
    assert companies["company_id"].str.contains(r"^C\d{7}$").all()
    domains = companies["domain"].drop_nulls()
    assert domains.is_unique().all()
    assert domains.str.contains(r"^[a-z0-9-]+(\.[a-z]+)+$").all()
    assert crm["account_id"].is_unique().all()
    assert crm["account_id"].str.contains(r"^001[0-9A-Za-z]{12}$").all()


def test_events_reference_companies(frames: dict[str, pl.DataFrame]) -> None:
    ids = frames["companies"]["company_id"].implode()
    for table in ("jobs", "funding", "exec_hires", "intent", "layoffs", "headcount"):
        assert frames[table]["company_id"].is_in(ids).all(), table


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2024, 2, 29)])
def test_event_dates_fall_in_the_two_years_to_as_of(as_of: dt.date) -> None:
    out = gen.generate(2_000, 20_000, 5_000, 100, as_of=as_of)
    for table, column in (("jobs", "posted_date"), ("funding", "announced_date")):
        dates = out[table][column]
        assert dates.min() >= as_of - dt.timedelta(days=730), table
        assert dates.max() <= as_of, table
    assert out["companies"]["founded_year"].max() < as_of.year


def test_values_come_from_the_documented_vocabularies(frames: dict[str, pl.DataFrame]) -> None:
    companies = frames["companies"]
    assert set(companies["industry"].drop_nulls()) <= set(gen.INDUSTRIES)
    assert companies["country"].drop_nulls().str.contains(r"^[A-Z]{2}$").all()
    assert set(companies["funding_stage"].drop_nulls()) <= set(gen.FUNDING_STAGES)
    assert companies["founded_year"].is_between(1950, 2025).all()
    assert (companies["employees"].drop_nulls() >= 1).all()
    techs = companies["technologies"].drop_nulls()
    assert (techs.list.len() <= 8).all()
    assert techs.list.eval(pl.element().str.contains(r"^[a-z][a-z0-9-]*$")).explode().all()
    jobs = frames["jobs"]
    assert set(jobs["department"]) <= set(gen.DEPARTMENTS)
    for department, titles in gen.TITLES.items():
        assert set(jobs.filter(pl.col("department") == department)["title"]) <= set(titles)
    assert set(frames["funding"]["round_type"]) <= {*gen.ROUND_TYPES, "Debt"}
    assert set(frames["crm"]["status"]) == set(gen.CRM_STATUSES)


def test_nulls_and_shapes_are_plausible(frames: dict[str, pl.DataFrame]) -> None:
    companies = frames["companies"]
    null_share = companies.null_count() / companies.height
    for column, low, high in (
        ("domain", 0.01, 0.06),
        ("industry", 0.005, 0.05),
        ("employees", 0.02, 0.09),
        ("revenue_usd", 0.06, 0.15),
        ("funding_stage", 0.10, 0.20),
        ("technologies", 0.08, 0.17),
    ):
        assert low <= null_share[column].item() <= high, column
    assert 20 <= companies["employees"].median() <= 80
    assert 0.35 <= (companies["country"] == "US").mean() <= 0.55


def test_hiring_and_funding_signals_are_a_minority(frames: dict[str, pl.DataFrame]) -> None:
    n = frames["companies"].height
    sellers = frames["jobs"].filter(
        pl.col("posted_date") >= AS_OF - dt.timedelta(days=60),
        pl.col("department").is_in(["sales", "revenue operations"]),
    )
    assert 0.05 <= sellers["company_id"].n_unique() / n <= 0.20
    funded = frames["funding"].filter(pl.col("announced_date") >= AS_OF - dt.timedelta(days=180))
    assert 0.01 <= funded["company_id"].n_unique() / n <= 0.15


def test_crm_truth_lines_up_with_crm_and_companies(frames: dict[str, pl.DataFrame]) -> None:
    crm, truth, companies = frames["crm"], frames["crm_truth"], frames["companies"]
    assert truth["account_id"].equals(crm["account_id"])
    known = truth.filter(pl.col("company_id").is_not_null())
    assert known["company_id"].is_in(companies["company_id"].implode()).all()
    assert known.height == round(SIZES["n_crm"] * gen.CRM_MATCHED_SHARE)
    assert truth["variant"].null_count() == 0
    outside = truth["company_id"].is_null()
    assert (outside == (truth["variant"] == "not_in_dataset")).all()


def test_crm_spellings_lead_back_to_the_true_company(frames: dict[str, pl.DataFrame]) -> None:
    pairs = (
        frames["crm_truth"]
        .drop_nulls("company_id")
        .join(frames["crm"], on="account_id")
        .join(frames["companies"], on="company_id", suffix="_company")
        .with_columns(
            d=domain_expr("domain"),
            d_company=domain_expr("domain_company"),
            n=name_expr("name"),
            n_company=name_expr("name_company"),
            kinds=pl.col("variant").str.split("+"),
        )
    )
    has_domain = pairs.filter(~pl.col("kinds").list.contains("no_domain"))
    assert has_domain.height > 0
    assert (has_domain["d"] == has_domain["d_company"]).all()
    assert pairs.filter(pl.col("kinds").list.contains("no_domain"))["domain"].is_null().all()
    same_name = pairs.filter(
        pl.col("kinds")
        .list.set_intersection(["case", "suffix", "punct", "short", "typo", "the"])
        .list.len()
        == 0
    )
    assert (same_name["name"] == same_name["name_company"]).all()
    cased = pairs.filter(pl.col("kinds").list.contains("case"))
    assert cased.height > 0
    assert (cased["n"] == cased["n_company"]).all()
    assert (cased["name"] != cased["name_company"]).all()


def test_outside_accounts_match_no_company_exactly(frames: dict[str, pl.DataFrame]) -> None:
    outside = (
        frames["crm_truth"]
        .filter(pl.col("company_id").is_null())
        .join(frames["crm"], on="account_id")
        .select(d=domain_expr("domain"), n=name_expr("name"))
    )
    companies = frames["companies"].select(d=domain_expr("domain"), n=name_expr("name"))
    assert outside.join(companies.drop_nulls("d"), on="d").height == 0
    assert outside.join(companies.drop_nulls("n"), on="n").height == 0


def test_crm_leans_towards_the_typical_icp(frames: dict[str, pl.DataFrame]) -> None:
    companies = frames["companies"].with_columns(
        icp=(
            pl.col("industry").is_in(["software", "fintech"])
            & pl.col("employees").is_between(50, 1000)
            & pl.col("country").is_in(["US", "CA"])
        ).fill_null(False)
    )
    known = frames["crm_truth"].drop_nulls("company_id").join(companies, on="company_id")
    assert known["icp"].mean() >= 2 * companies["icp"].mean()


def test_write_round_trips(frames: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    paths = gen.write(frames, tmp_path / "out")
    assert {p.name for p in paths.values()} == {
        "companies.parquet",
        "jobs.parquet",
        "funding.parquet",
        "crm.csv",
        "crm_truth.csv",
        "opportunities.parquet",
        "exec_hires.parquet",
        "intent.parquet",
        "layoffs.parquet",
        "headcount.parquet",
    }
    parquet = ("companies", "jobs", "funding", "opportunities")
    for table in (*parquet, "exec_hires", "intent", "layoffs", "headcount"):
        assert_frame_equal(pl.read_parquet(paths[table]), frames[table])
    for table in ("crm", "crm_truth"):
        back = pl.read_csv(paths[table], schema=EXPECTED_SCHEMAS[table])
        assert_frame_equal(back, frames[table])
    assert not list((tmp_path / "out").glob(".*"))


def test_command_line_writes_the_requested_sizes(tmp_path: Path) -> None:
    args = ["--out", str(tmp_path), "--companies", "400", "--jobs", "900"]
    assert gen.main([*args, "--funding", "50", "--crm", "40", "--seed", "7"]) == 0
    assert pl.read_parquet(tmp_path / "companies.parquet").height == 400
    assert pl.read_parquet(tmp_path / "jobs.parquet").height == 900
    assert pl.read_parquet(tmp_path / "funding.parquet").height == 50
    assert pl.read_csv(tmp_path / "crm.csv").height == 40


def test_committed_sample_has_the_canonical_schema() -> None:
    data = ROOT / "data"
    tables = ("companies", "jobs", "funding", "opportunities")
    for table in (*tables, "exec_hires", "intent", "layoffs", "headcount"):
        schema = pl.read_parquet_schema(data / f"{table}.parquet")
        assert schema == dict(EXPECTED_SCHEMAS[table]), table
    header = (data / "crm.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "account_id,name,domain,status"


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------


def test_opportunities_are_well_formed(frames: dict[str, pl.DataFrame]) -> None:
    opps = frames["opportunities"]
    assert opps["opportunity_id"].is_unique().all()
    assert opps["opportunity_id"].str.contains(r"^006A[0-9A-Za-z]{11}$").all()
    created = opps["created_date"].drop_nulls()
    assert created.min() >= AS_OF - dt.timedelta(days=730)
    assert created.max() <= AS_OF
    # A won deal is closed; an open deal's close date is the expected one, after as_of.
    assert not opps.filter(pl.col("is_won") & ~pl.col("is_closed")).height
    open_deals = opps.filter(~pl.col("is_closed"))
    assert open_deals.height > 0
    assert (open_deals["close_date"] > AS_OF).all()
    assert opps["amount"].drop_nulls().min() >= 500


def test_opportunities_have_the_documented_dirty_rows(frames: dict[str, pl.DataFrame]) -> None:
    opps = frames["opportunities"]
    crm_ids = frames["crm"]["account_id"].implode()
    unknown = opps.filter(~pl.col("account_id").is_in(crm_ids))
    # Deleted accounts: ids of the CRM's form that no CRM export holds.
    assert unknown["account_id"].str.starts_with("001B").all()
    n = opps.height
    for count, share in (
        (unknown.height, gen.OPP_DELETED_ACCOUNT_SHARE),
        (opps["created_date"].null_count(), gen.OPP_NO_CREATED_SHARE),
        (opps.filter(pl.col("close_date") < pl.col("created_date")).height,
         gen.OPP_CLOSE_BEFORE_CREATE_SHARE),
    ):  # fmt: skip
        assert 0 < count <= 3 * share * n + 3


def test_opportunity_outcomes_follow_the_generating_pattern() -> None:
    # Enough deals to see each effect through the noise, against the true companies.
    out = gen.generate(5_000, 30_000, 2_000, 1_500, n_opportunities=15_000)
    deals = (
        out["opportunities"]
        .filter(pl.col("is_closed"))
        .join(out["crm_truth"], on="account_id")
        .join(out["companies"], on="company_id")
    )

    def rate(expr: pl.Expr) -> float:
        return deals.filter(expr)["is_won"].mean()  # type: ignore[return-value]

    boosted = rate(pl.col("industry").is_in(["software", "fintech"]))
    plain = rate(pl.col("industry").is_in(["manufacturing", "retail", "logistics"]))
    penalised = rate(pl.col("industry").is_in(["government", "hospitality", "education"]))
    assert boosted > plain + 0.1
    assert plain > penalised + 0.05
    assert rate(pl.col("technologies").list.contains("legacy-crm")) < rate(
        ~pl.col("technologies").list.contains("legacy-crm")
    )


def test_opportunities_stream_leaves_the_other_files_unchanged() -> None:
    without = gen.generate(**{**SIZES, "n_opportunities": 0}, as_of=AS_OF)
    with_more = gen.generate(**{**SIZES, "n_opportunities": 3_000}, as_of=AS_OF)
    assert without["opportunities"].height == 0
    for table in ("companies", "jobs", "funding", "crm", "crm_truth"):
        assert_frame_equal(without[table], with_more[table])


# --------------------------------------------------------------------------------------
# Behavioural signals
# --------------------------------------------------------------------------------------


def test_behavioural_tables_have_plausible_rates(frames: dict[str, pl.DataFrame]) -> None:
    n = SIZES["n_companies"]
    # A few percent of companies hire an executive in a year; layoffs are rarer still.
    hired = frames["exec_hires"]["company_id"].n_unique() / n
    assert 0.02 < hired < 0.10
    laid_off = frames["layoffs"]["company_id"].n_unique() / n
    assert 0.005 < laid_off < 0.05
    # Intent feeds cover a minority of companies, each seen many times.
    intent = frames["intent"]
    assert 0.05 < intent["company_id"].n_unique() / n < 0.40
    assert set(intent["topic"].unique()) <= set(gen.INTENT_TOPICS)
    assert set(frames["exec_hires"]["title"].unique()) <= set(gen.EXEC_TITLES)
    # Headcount: monthly on the first, at most 24 months, and growth a year apart within
    # -15% .. +70% for nearly every company.
    hc = frames["headcount"]
    assert (hc["date"].dt.day() == 1).all()
    assert hc.group_by("company_id").len()["len"].max() == 24
    assert 0.01 < hc["employees"].null_count() / hc.height < 0.06
    year = (
        hc.drop_nulls()
        .sort("date")
        .group_by("company_id")
        .agg(
            now=pl.col("employees").last(),
            then=pl.col("employees").filter(pl.col("date") <= AS_OF.replace(year=2025)).last(),
        )
        .drop_nulls()
        .filter(pl.col("then") >= 50)
        .select(((pl.col("now") - pl.col("then")) / pl.col("then")).alias("g"))["g"]
    )
    assert ((year > -0.15) & (year < 0.70)).mean() > 0.95
    assert (year > 0.2).mean() > 0.02  # growing companies exist
