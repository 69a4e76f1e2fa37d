"""`listbuilder profile` on named event tables: every table becomes point-in-time signals.

The synthetic deals below are won by a planted pattern: a company with an executive hire
in the 90 days before its deal was created wins 75% of the time, the others 20%. Each
company has exactly one deal, so an event can only ever count for that deal, and what
each deal should see is known from how the events were placed. Two leak traps: every won
deal is followed (after its created date) by an ``intent`` event and by a headcount
measurement three times the size, both of which would look perfect if the future leaked in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from listbuilder.evidence.values import probe_keys, signal_probes
from listbuilder.rules import GrowthCriterion, SignalCriterion, load_rules
from tests.conftest import invoke, write_frame

START = dt.date(2025, 1, 1)
DEALS = 1_200
EXEC_90 = "exec_hires: any event, 90 days"
GROWTH = "headcount: employees up 20%+ in 180 days"


def day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


def write_deals(root: Path, seed: int = 7) -> dict[str, object]:
    """Write companies, CRM, opportunities and three event tables; return what is planted."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:05d}" for i in range(DEALS)]
    created = rng.integers(0, 540, DEALS)
    # Executive hires: inside the 90 days before creation, long before it, or none.
    kind = rng.choice(3, DEALS, p=[0.4, 0.3, 0.3])
    recent = kind == 0
    won = rng.random(DEALS) < np.where(recent, 0.75, 0.2)
    hires = [
        (ids[i], day(int(created[i]) - int(rng.integers(1, 90))))
        if kind[i] == 0
        else (ids[i], day(int(created[i]) - int(rng.integers(120, 300))))
        for i in range(DEALS)
        if kind[i] != 2
    ]
    grew = rng.random(DEALS) < 0.5  # no effect on winning
    heads = [(ids[i], day(-200), 100) for i in range(DEALS)]
    heads += [(ids[i], day(int(created[i]) - 30), 130 if grew[i] else 100) for i in range(DEALS)]
    heads += [(ids[i], day(int(created[i]) + 5), 300) for i in range(DEALS) if won[i]]
    intent = [(ids[i], day(int(created[i]) + 1), "abm") for i in range(DEALS) if won[i]]
    paths = {
        "companies": write_frame(
            pl.DataFrame(
                {
                    "company_id": ids,
                    "name": [f"Company {i}" for i in range(DEALS)],
                    "domain": [f"c{i}.example" for i in range(DEALS)],
                    "industry": rng.choice(["software", "retail", "media"], DEALS),
                    "employees": [100] * DEALS,
                    "country": ["US"] * DEALS,
                }
            ),
            root / "companies.parquet",
        ),
        "crm": write_frame(
            pl.DataFrame(
                {
                    "account_id": [f"A{i:05d}" for i in range(DEALS)],
                    "name": [f"Company {i}" for i in range(DEALS)],
                    "domain": [f"c{i}.example" for i in range(DEALS)],
                    "status": ["prospect"] * DEALS,
                }
            ),
            root / "crm.csv",
        ),
        "opportunities": write_frame(
            pl.DataFrame(
                {
                    "opportunity_id": [f"O{i:05d}" for i in range(DEALS)],
                    "account_id": [f"A{i:05d}" for i in range(DEALS)],
                    "created_date": [day(int(c)) for c in created],
                    "close_date": [day(int(c) + 30) for c in created],
                    "is_closed": [True] * DEALS,
                    "is_won": won,
                    "amount": [1000.0] * DEALS,
                }
            ),
            root / "opps.parquet",
        ),
        "exec_hires": write_frame(
            pl.DataFrame(hires, schema=["company_id", "date"], orient="row"),
            root / "exec_hires.parquet",
        ),
        "headcount": write_frame(
            pl.DataFrame(heads, schema=["company_id", "date", "employees"], orient="row"),
            root / "headcount.parquet",
        ),
        "intent": write_frame(
            pl.DataFrame(intent, schema=["company_id", "date", "topic"], orient="row"),
            root / "intent.parquet",
        ),
    }
    return {"paths": paths, "recent": recent, "won": won, "grew": grew}


def base_args(paths: dict[str, Path]) -> list[str]:
    return [
        "--companies",
        str(paths["companies"]),
        "--crm",
        str(paths["crm"]),
        "--opportunities",
        str(paths["opportunities"]),
    ]


def events_args(paths: dict[str, Path]) -> list[str]:
    args = []
    for name in ("exec_hires", "headcount", "intent"):
        args += ["--events", f"{name}={paths[name]}"]
    return args


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("profile_events")
    found = write_deals(root)
    paths = found["paths"]
    assert isinstance(paths, dict)
    out = root / "icp"
    result = invoke(["profile", *base_args(paths), *events_args(paths), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {**found, "out": out, "root": root}


def signal_row(out: Path, label: str) -> dict[str, object] | None:
    table = pl.read_csv(out / "profile.csv")
    found = table.filter(pl.col("attribute") == "signal", pl.col("value") == label)
    return found.row(0, named=True) if found.height else None


def test_exec_hires_before_creation_counted_exactly(planted: dict[str, object]) -> None:
    recent, won = planted["recent"], planted["won"]
    assert isinstance(recent, np.ndarray) and isinstance(won, np.ndarray)
    got = signal_row(planted["out"], EXEC_90)  # type: ignore[arg-type]
    assert got is not None
    # Only the hires placed 1-89 days before creation count; those 120+ days before never.
    assert (got["deals"], got["won"]) == (int(recent.sum()), int((recent & won).sum()))
    assert float(got["lift"]) > 1.5  # type: ignore[arg-type]


def test_events_after_the_created_date_never_count(planted: dict[str, object]) -> None:
    # Every intent event comes a day after its deal was created: no deal may see one.
    assert signal_row(planted["out"], "intent: any event, 90 days") is None
    assert signal_row(planted["out"], "intent: any event, 30 days") is None
    # The winners' later 300-employee measurement must not count as growth either.
    grew = planted["grew"]
    assert isinstance(grew, np.ndarray)
    got = signal_row(planted["out"], GROWTH)  # type: ignore[arg-type]
    assert got is not None
    assert got["deals"] == int(grew.sum())


def test_proposed_rules_use_the_event_table_and_build(
    planted: dict[str, object], tmp_path: Path
) -> None:
    out, paths = planted["out"], planted["paths"]
    assert isinstance(out, Path) and isinstance(paths, dict)
    text = (out / "proposed_rules.toml").read_text(encoding="utf-8")
    assert 'signal = "exec_hires"' in text
    rules = load_rules(out / "proposed_rules.toml")
    score = rules.segments[0].score
    hires = [c for c in score if isinstance(c, SignalCriterion) and c.signal == "exec_hires"]
    assert hires and all(c.points > 0 for c in hires)
    # The planted driver outweighs everything that has no effect.
    others = [c.points for c in score if c not in hires and not isinstance(c, GrowthCriterion)]
    assert max(c.points for c in hires) > max(others, default=0)
    assert not any(getattr(c, "signal", None) == "intent" for c in score)
    result = invoke(
        [
            "build",
            "--companies",
            str(paths["companies"]),
            "--crm",
            str(paths["crm"]),
            *events_args(paths),
            "--rules",
            str(out / "proposed_rules.toml"),
            "--as-of",
            "2026-07-01",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "summary.json").is_file()


def test_growth_probe_writes_generalised_growth_keys() -> None:
    events = {
        "headcount": pl.LazyFrame(
            {"company_id": ["C1"], "date": [START], "employees": [10]},
        ),
        "layoffs": pl.LazyFrame(
            {"company_id": ["C1"], "date": [START], "employees_affected": [3]},
        ),
    }
    probes = signal_probes(events)
    assert [p.label for p in probes] == [
        GROWTH,
        "layoffs: any event, 30 days",
        "layoffs: any event, 90 days",
    ]
    assert probe_keys(probes[0]) == [
        'growth = "headcount"',
        'column = "employees"',
        "within_days = 180",
        "min_percent = 20.0",
    ]
    assert probe_keys(probes[2]) == ['signal = "layoffs"', "within_days = 90"]


def test_project_file_event_tables_are_profiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = write_deals(tmp_path, seed=3)
    paths = found["paths"]
    assert isinstance(paths, dict)
    (tmp_path / "rules.toml").write_bytes(
        (Path(__file__).parent.parent / "rules" / "example.toml").read_bytes()
    )
    (tmp_path / "listbuilder.toml").write_text(
        '[inputs]\ncompanies = "companies.parquet"\nrules = "rules.toml"\n\n'
        '[inputs.events]\nexec_hires = "exec_hires.parquet"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    args = ["profile", *base_args(paths), "--out", str(tmp_path / "icp")]
    assert invoke(args).exit_code == 0
    assert signal_row(tmp_path / "icp", EXEC_90) is not None
    # Another companies file: the project's tables describe other companies, so not used.
    other = write_frame(pl.read_parquet(paths["companies"]), tmp_path / "other.parquet")
    args = ["profile", *base_args({**paths, "companies": other}), "--out", str(tmp_path / "b")]
    assert invoke(args).exit_code == 0
    assert signal_row(tmp_path / "b", EXEC_90) is None
