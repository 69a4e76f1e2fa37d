"""Hostile invocations of every command: no traceback, a clean error, no file harmed.

Hypothesis draws command lines from every command's options, each value either a valid
one from a small copy of the sample data or a hostile one: ``.``, ``..``, existing files
and folders of a user's files, paths under a file, unicode, a name too long for the
filesystem, empty and malformed TOML, CSV and parquet files, bad dates and numbers. Each
runs in a fresh folder holding those files, and afterwards:

- nothing printed a traceback, and the exit status is 0, or 1 or 2 with an ``Error:`` line;
- every file that was there before is byte for byte the same, except inside the output
  that a successful command legitimately replaced (a run over an earlier run);
- no temporary file or folder is left behind.

The test keeps to its own time budget: once ``BUDGET_SECONDS`` have passed, the remaining
examples return at once (the CI machine may be slower than a laptop; the number of
examples is tuned so the budget is rarely reached).
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listbuilder.cli import cli
from listbuilder.files import MARKER
from tests.conftest import REPO, snapshot

BUDGET_SECONDS = float(os.environ.get("ROBUSTNESS_BUDGET", "40"))
EXAMPLES = int(os.environ.get("ROBUSTNESS_EXAMPLES", "100"))

HOSTILE_PATHS = [
    ".",
    "..",
    "",
    "existing.csv",
    "existing.csv/x",
    "userdir",
    "userdir/important.txt",
    "empty",
    "missing/new",
    "ünï cödé/ôut",
    "x" * 300,
    "x" * 200 + "/" + "y" * 200,
    "run",
    "matched",
    "bad.toml",
    "empty.toml",
    "empty.csv",
    "bad.csv",
    "header_only.csv",
    "semicolon.csv",
    "bad.parquet",
    "/",
    "-",
]
DATES = ["2026-11-01", "", "2026-13-01", "yesterday", "0001-01-01", "9999-12-31", "2026-02-30"]
NUMBERS = ["100", "0", "-1", "abc", "1e309", "nan", ""]
SEGMENTS = ["core_saas", "nope", "", "ünï"]
TIERS = ["Tier 1", "Tier 1,Tier 2", "nope", ""]
DESTINATIONS = ["domains", "linkedin,domains", "nope", ""]

# Valid values: what each input option means in the small sample workspace.
VALID = {
    "--companies": "companies.parquet",
    "--jobs": "jobs.parquet",
    "--funding": "funding.parquet",
    "--crm": "crm.csv",
    "--opportunities": "opportunities.parquet",
    "--rules": "rules.toml",
    "--confirmed": "confirmed.csv",
    "--previous": "run",
    "--config": "project.toml",
    "--source": str(REPO / "sources" / "hubspot_api.toml"),
    "--state": "push_state/hubspot.json",
    "--out": "out",
}
COMMANDS: dict[str, dict[str, list[str]]] = {
    "build": {
        **{k: [VALID[k]] for k in ("--companies", "--rules", "--jobs", "--funding", "--crm")},
        "--confirmed": [VALID["--confirmed"]],
        "--as-of": DATES,
        "--out": [VALID["--out"]],
        "--previous": [VALID["--previous"]],
        "--config": [VALID["--config"]],
    },
    "export": {
        "RUN_DIR": ["run"],
        "--to": DESTINATIONS,
        "--segment": SEGMENTS,
        "--tiers": TIERS,
        "--out": [VALID["--out"]],
    },
    "report": {"RUN_DIR": ["run"]},
    "match": {
        "--companies": [VALID["--companies"]],
        "--crm": [VALID["--crm"]],
        "--out": [VALID["--out"]],
        "--threshold": ["0.9", *NUMBERS],
        "--review-threshold": ["0.5", *NUMBERS],
        "--confirmed": [VALID["--confirmed"]],
    },
    "profile": {
        **{k: [VALID[k]] for k in ("--companies", "--crm", "--opportunities", "--jobs")},
        "--out": [VALID["--out"]],
        "--min-deals": ["5", *NUMBERS],
    },
    "backtest": {
        **{
            k: [VALID[k]]
            for k in ("--rules", "--companies", "--crm", "--opportunities", "--jobs", "--funding")
        },
        "--out": [VALID["--out"]],
        "--bootstrap": ["100", *NUMBERS],
        "--seed": ["1", *NUMBERS],
    },
    "explain": {
        "COMPANY": ["C0000001", "", "nope", "ünï", "%"],
        **{k: [VALID[k]] for k in ("--rules", "--companies", "--jobs", "--funding", "--crm")},
        "--as-of": DATES,
    },
    "init": {"--dir": ["fresh", *HOSTILE_PATHS]},
    "pull": {"--source": [VALID["--source"]], "--out": ["snapshot.parquet"]},
    "push": {
        "RUN_DIR": ["run"],
        "--to": ["hubspot", "nope", ""],
        "--source": [VALID["--source"]],
        "--state": ["push_state/hubspot.json"],
    },
}
PATH_OPTIONS = set(VALID) | {"RUN_DIR"}
LEFT_OUT = "<left out>"


def hostile(options: list[str], option: str) -> st.SearchStrategy[str]:
    """A bad value for ``option``: its own bad values, hostile paths, or none at all."""
    choices = options[1:] + (HOSTILE_PATHS if option in PATH_OPTIONS else []) + [LEFT_OUT]
    return st.sampled_from(list(dict.fromkeys(choices)))


@st.composite
def invocations(draw: st.DrawFn) -> tuple[list[str], str]:
    """A command line, and which project file (if any) sits in the working folder.

    Every option has its valid value (the first of its list) except up to two, drawn
    hostile: so some runs succeed over the hostile files around them, and each failure
    has a cause one can read off the command line.
    """
    command = draw(st.sampled_from(sorted(COMMANDS)))
    bad = draw(st.sets(st.sampled_from(sorted(COMMANDS[command])), max_size=2))
    args: list[str] = []
    positional: list[str] = []
    for option, options in COMMANDS[command].items():
        chosen = draw(hostile(options, option)) if option in bad else options[0]
        if chosen == LEFT_OUT:
            continue
        if option.isupper():
            positional.append(chosen)
        else:
            args += [option, chosen]
    flags = draw(st.sampled_from([[], ["-q"], ["-v"]]))
    project = draw(st.sampled_from(["none"] * 5 + ["empty", "as_of only", "malformed"]))
    return [*flags, command, *positional, *args], project


def workspace(root: Path, sample: dict[str, Path], earlier: dict[str, Path]) -> None:
    """The small sample and a user's hostile files, in ``root``."""
    for path in sample.values():
        shutil.copy(path, root / path.name)
    for name, directory in earlier.items():
        shutil.copytree(directory, root / name)
    (root / "existing.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (root / "userdir").mkdir()
    (root / "userdir" / "important.txt").write_text("years of work", encoding="utf-8")
    (root / "empty").mkdir()
    (root / "bad.toml").write_text("[[segments]\nname = 1\n", encoding="utf-8")
    (root / "empty.toml").write_text("", encoding="utf-8")
    (root / "empty.csv").write_text("", encoding="utf-8")
    (root / "bad.csv").write_bytes(b'\xff\xfe"unclosed,\x00\n1,2,3,4\n')
    (root / "header_only.csv").write_text("company_id,name,domain\n", encoding="utf-8")
    (root / "semicolon.csv").write_text("company_id;name;domain\nc1;A;a.com\n", encoding="utf-8")
    (root / "bad.parquet").write_bytes(b"PAR1 not parquet at all PAR1")
    crm = (root / "crm.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    (root / "confirmed.csv").write_text(
        f"company_id,account_id,decision\nC0000001,{crm},no_match\n", encoding="utf-8"
    )
    (root / "project.toml").write_text(
        '[inputs]\ncompanies = "companies.parquet"\nrules = "rules.toml"\n', encoding="utf-8"
    )


PROJECT_FILES = {
    "empty": "",
    "as_of only": '[run]\nas_of = "2026-11-01"\n',
    "malformed": "[run\n",
}


def replaced_by(argv: list[str], root: Path) -> list[Path]:
    """What a successful run of ``argv`` may legitimately replace."""
    args = [a for a in argv if a not in ("-q", "-v")]
    command = args[0]
    out = args[args.index("--out") + 1] if "--out" in args else None
    if command == "report":
        return [root / args[1] / "report.html", root / args[1] / MARKER]
    if command == "build" and out is None:
        return [root / "out"]
    if command == "backtest" and out is None:
        return [root / "backtest"]
    if command == "push":
        state = args[args.index("--state") + 1] if "--state" in args else None
        return [root / "run", root / "push_state", *([root / state] if state else [])]
    if command == "pull" and out is not None:
        return [root / out, (root / out).with_name(Path(out).stem + ".pull.json")]
    return [root / out] if out is not None else []


def check(argv: list[str], root: Path, before: dict[str, bytes], result: object) -> None:
    from click.testing import Result

    assert isinstance(result, Result)
    shown = f"listbuilder {' '.join(argv)!r}\n{result.output}"
    assert "Traceback" not in result.output, shown
    assert result.exception is None or isinstance(result.exception, SystemExit), shown + repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 2), shown
    if result.exit_code:
        assert any(line.startswith("Error: ") for line in result.stderr.splitlines()), shown
    allowed = [p.resolve() for p in replaced_by(argv, root)] if result.exit_code == 0 else []
    after = snapshot(root.parent)
    for name, data in before.items():
        path = (root.parent / name).resolve()
        if any(path == a or a in path.parents for a in allowed):
            continue
        assert after.get(name) == data, f"{name} changed or vanished: {shown}"
    leftovers = [p for p in root.parent.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name]
    assert leftovers == [], shown


@pytest.fixture(scope="module")
def earlier(
    small_sample: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """An earlier run and an earlier match of the small sample, to be copied per example."""
    root = tmp_path_factory.mktemp("earlier")
    runner = CliRunner()
    s = small_sample
    build = ["build", "--companies", str(s["companies"]), "--rules", str(s["rules"])]
    build += ["--jobs", str(s["jobs"]), "--funding", str(s["funding"]), "--crm", str(s["crm"])]
    done = runner.invoke(cli, [*build, "--as-of", "2026-10-01", "--out", str(root / "run")])
    assert done.exit_code == 0, done.output
    match = ["match", "--companies", str(s["companies"]), "--crm", str(s["crm"])]
    done = runner.invoke(cli, [*match, "--out", str(root / "matched")])
    assert done.exit_code == 0, done.output
    return {"run": root / "run", "matched": root / "matched"}


def test_no_invocation_prints_a_traceback_or_harms_a_file(
    small_sample: dict[str, Path],
    earlier: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No token anywhere: nothing may reach the network.
    tokens = ("HUBSPOT_TOKEN", "SALESFORCE_TOKEN", "LINKEDIN_TOKEN", "SALESFORCE_REFRESH_TOKEN")
    for name in tokens:
        monkeypatch.delenv(name, raising=False)
    started = time.monotonic()
    counter = iter(range(10**6))
    ran: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(invocations())
    def one(drawn: tuple[list[str], str]) -> None:
        if time.monotonic() - started > BUDGET_SECONDS:
            return
        argv, project = drawn
        root = tmp_path / f"w{next(counter)}" / "work"
        root.mkdir(parents=True)
        workspace(root, small_sample, earlier)
        if project in PROJECT_FILES:
            (root / "listbuilder.toml").write_text(PROJECT_FILES[project], encoding="utf-8")
        before = snapshot(root.parent)
        home = Path.cwd()
        os.chdir(root)
        try:
            result = CliRunner().invoke(cli, argv)
        finally:
            os.chdir(home)
        check(argv, root, before, result)
        ran.append(f"{argv[0] if argv[0] not in ('-q', '-v') else argv[1]} {result.exit_code}")
        shutil.rmtree(root.parent)

    one()
    print(f"{len(ran)} invocations in {time.monotonic() - started:.1f}s")
    print(", ".join(f"{k}: {n}" for k, n in sorted(Counter(ran).items())))
    assert len(ran) >= 20, "the time budget ran out before 20 invocations"
