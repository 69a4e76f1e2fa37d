"""Output paths never destroy what the tool did not write.

Every command that writes replaces its output only when it is missing, empty, or an
earlier output of the same command that nobody has changed since; anything else is
refused with an error naming what is there, and left byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from listbuilder.errors import ConfigError
from listbuilder.files import MARKER, atomic_directory, check_output_dir, record_file
from tests.conftest import REPO, assert_cli_error, invoke, snapshot

ADVICE = "choose another output path (--out) or remove it yourself"


def inputs(sample: dict[str, Path], *roles: str) -> list[str]:
    return [x for role in roles for x in (f"--{role}", str(sample[role]))]


def build(sample: dict[str, Path], out: Path | str, *extra: str) -> list[str]:
    return [
        "build",
        *inputs(sample, "companies", "jobs", "funding", "crm", "rules"),
        "--as-of",
        "2026-11-01",
        "--out",
        str(out),
        *extra,
    ]


def commands(sample: dict[str, Path], run: Path, out: Path) -> dict[str, list[str]]:
    """One valid invocation of every command that writes a directory, into ``out``."""
    evidence = inputs(sample, "companies", "crm", "opportunities")
    return {
        "build": build(sample, out),
        "match": ["match", *inputs(sample, "companies", "crm"), "--out", str(out)],
        "export": ["export", str(run), "--to", "domains", "--out", str(out)],
        "profile": ["profile", *evidence, "--out", str(out)],
        "backtest": [
            "backtest",
            *inputs(sample, "rules", "jobs", "funding"),
            *evidence,
            "--bootstrap",
            "100",
            "--out",
            str(out),
        ],
    }


KINDS = {
    "build": "run directory",
    "match": "match directory",
    "export": "export directory",
    "profile": "profile directory",
    "backtest": "backtest directory",
}


@pytest.fixture(scope="module")
def earlier_run(small_sample: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("earlier") / "run"
    result = invoke(build(small_sample, run))
    assert result.exit_code == 0, result.output
    return run


def users_directory(root: Path) -> Path:
    """A copy of the repository's data/ folder: what `--out data` would have destroyed."""
    data = root / "data"
    data.mkdir()
    for name in ("README.md", "crm.csv", "crm_truth.csv"):
        shutil.copy(REPO / "data" / name, data / name)
    shutil.copytree(REPO / "data" / "generate", data / "generate")
    for name in ("companies", "jobs", "funding"):
        (data / f"{name}.parquet").write_bytes(b"PAR1 stands in for the sample")
    return data


# --- item: --out deletes whatever it points at ---------------------------------------------


def test_build_out_on_the_data_folder_is_refused(
    small_sample: dict[str, Path], tmp_path: Path
) -> None:
    data = users_directory(tmp_path)
    before = snapshot(tmp_path)
    result = invoke(build(small_sample, data))
    assert_cli_error(
        result,
        2,
        f"{data} is not a listbuilder run directory: it holds README.md, companies.parquet "
        f"and 5 more; {ADVICE}",
    )
    assert snapshot(tmp_path) == before


def test_build_out_on_a_folder_with_one_file_is_refused(
    small_sample: dict[str, Path], tmp_path: Path
) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "important.txt").write_text("years of work", encoding="utf-8")
    result = invoke(build(small_sample, precious))
    message = f"{precious} is not a listbuilder run directory: it holds important.txt; {ADVICE}"
    assert_cli_error(result, 2, message)
    assert (precious / "important.txt").read_text(encoding="utf-8") == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious"]


def test_build_out_on_a_file_is_refused(small_sample: dict[str, Path], tmp_path: Path) -> None:
    victim = tmp_path / "victim.csv"
    victim.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke(build(small_sample, victim))
    assert_cli_error(result, 2, f"{victim} is a file, not a listbuilder run directory; {ADVICE}")
    assert victim.read_text(encoding="utf-8") == "a,b\n1,2\n"


@pytest.mark.parametrize("command", sorted(KINDS))
def test_every_command_refuses_a_users_folder(
    command: str, small_sample: dict[str, Path], earlier_run: Path, tmp_path: Path
) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "important.txt").write_text("years of work", encoding="utf-8")
    (precious / "notes").mkdir()
    before = snapshot(tmp_path)
    result = invoke(commands(small_sample, earlier_run, precious)[command])
    assert_cli_error(
        result,
        2,
        f"{precious} is not a listbuilder {KINDS[command]}: it holds important.txt and notes; "
        f"{ADVICE}",
    )
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious"]


@pytest.mark.parametrize("command", sorted(KINDS))
def test_every_command_replaces_its_own_earlier_output_and_nothing_else(
    command: str, small_sample: dict[str, Path], earlier_run: Path, tmp_path: Path
) -> None:
    argv = {name: commands(small_sample, earlier_run, tmp_path / name)[name] for name in KINDS}
    for name, args in argv.items():
        if name != "build":  # the earlier run is the export's input; a second build is enough
            assert invoke(args).exit_code == 0
    assert invoke(argv["build"]).exit_code == 0
    again = invoke(argv[command])
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / command / MARKER).read_text())["format"] == (
        f"listbuilder-{command if command != 'build' else 'run'}/1"
    )
    for other in sorted(set(KINDS) - {command}):
        before = snapshot(tmp_path / other)
        wrong = commands(small_sample, earlier_run, tmp_path / other)[command]
        result = invoke(wrong)
        assert_cli_error(
            result,
            2,
            f"{tmp_path / other} is a listbuilder {KINDS[other]}, not "
            f"{'an' if command == 'export' else 'a'} {KINDS[command]}; "
            f"{ADVICE}",
        )
        assert snapshot(tmp_path / other) == before


def test_an_empty_or_missing_directory_is_written(
    small_sample: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "deeper"):
        result = invoke(build(small_sample, out))
        assert result.exit_code == 0, result.output
        assert (out / "summary.json").is_file()


def test_a_file_added_to_a_run_or_changed_in_it_is_never_lost(
    small_sample: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert invoke(build(small_sample, out)).exit_code == 0
    (out / "notes.txt").write_text("call Anna first", encoding="utf-8")
    before = snapshot(out)
    assert_cli_error(
        invoke(build(small_sample, out)),
        2,
        f"{out} is a listbuilder run directory, but holds files the run did not write or "
        "that were changed since: notes.txt; move them elsewhere, or choose another output "
        "path (--out)",
    )
    assert snapshot(out) == before
    (out / "notes.txt").unlink()
    with (out / "core_saas.csv").open("a", encoding="utf-8") as handle:
        handle.write("my own row\n")
    before = snapshot(out)
    result = invoke(build(small_sample, out))
    assert_cli_error(
        result,
        2,
        f"{out} is a listbuilder run directory, but holds files the run did not write or "
        "that were changed since: core_saas.csv; move them elsewhere, or choose another "
        "output path (--out)",
    )
    assert snapshot(out) == before


def test_a_filled_in_review_file_survives_a_second_match(
    small_sample: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "matched"
    args = ["match", *inputs(small_sample, "companies", "crm"), "--out", str(out)]
    assert invoke(args).exit_code == 0
    review = out / "review.csv"
    review.write_text(review.read_text(encoding="utf-8") + "decided,by,hand\n", encoding="utf-8")
    before = snapshot(out)
    result = invoke(args)
    assert result.exit_code == 2
    assert "changed since: review.csv" in result.stderr
    assert snapshot(out) == before


def test_a_run_written_before_the_marker_is_recognised_by_its_layout(
    small_sample: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert invoke(build(small_sample, out)).exit_code == 0
    assert invoke(build(small_sample, out, "--previous", str(out))).exit_code == 0
    assert (out / "core_saas.changes.csv").is_file()
    (out / MARKER).unlink()
    result = invoke(build(small_sample, out))
    assert result.exit_code == 0, result.output
    assert (out / MARKER).is_file()
    # ...but only the layout a run writes: a stranger's file makes it not a run
    (out / MARKER).unlink()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = invoke(build(small_sample, out))
    assert result.exit_code == 2
    assert "is not a listbuilder run directory: it holds " in result.stderr
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_output_directories_follow_the_umask(small_sample: dict[str, Path], tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        result = invoke(build(small_sample, tmp_path / "out"))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "report.html").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_the_earlier_output_and_no_temporaries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_directory(out, "run") as tmp:
        (tmp / "summary.json").write_text("{}", encoding="utf-8")
    before = snapshot(out)
    with pytest.raises(RuntimeError), atomic_directory(out, "run") as tmp:
        (tmp / "summary.json").write_text('{"new": 1}', encoding="utf-8")
        raise RuntimeError("disk full")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_directory_of_another_kind_is_refused_by_the_writer(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_directory(out, "match") as tmp:
        (tmp / "matches.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is a listbuilder match directory, not a run"):
        atomic_directory(out, "run").__enter__()


# --- item: tracebacks ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", '[run]\nas_of = "2026-11-01"\n'])
def test_a_project_file_without_inputs_is_a_clear_error(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "listbuilder.toml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert_cli_error(
        invoke(["build"]),
        2,
        "listbuilder.toml names no companies data and no rules file: set [inputs] "
        "companies and rules there (listbuilder init writes a commented example), or "
        "pass --companies and --rules",
    )


def test_a_project_file_without_rules_is_a_clear_error(
    small_sample: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "listbuilder.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert_cli_error(
        invoke(["build", "--companies", str(small_sample["companies"])]),
        2,
        "listbuilder.toml names no rules file: set [inputs] rules there, or pass --rules",
    )


def test_out_dot_and_dot_dot_are_refused(
    small_sample: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for out in (".", ".."):
        result = invoke(build(small_sample, out))
        assert_cli_error(
            result,
            2,
            f"{out} is the current directory or holds it; an output directory is replaced "
            f"whole, so give it one of its own, e.g. out/",
        )
    assert list(work.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_out_under_a_file_is_refused(small_sample: dict[str, Path], tmp_path: Path) -> None:
    existing = tmp_path / "existing.csv"
    existing.write_text("a\n", encoding="utf-8")
    for command in ("build", "match", "profile"):
        out = existing / "x"
        args = commands(small_sample, tmp_path, out)[command]
        assert_cli_error(
            invoke(args), 2, f"cannot write {out}: {existing} is a file, not a directory"
        )
    assert existing.read_text(encoding="utf-8") == "a\n"


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_an_as_of_at_the_ends_of_the_calendar_is_refused(
    as_of: str, small_sample: dict[str, Path], tmp_path: Path
) -> None:
    args = build(small_sample, tmp_path / "out")
    args[args.index("--as-of") + 1] = as_of
    assert_cli_error(
        invoke(args),
        2,
        f"Invalid value for '--as-of': {as_of} is outside the dates a run can be as of "
        "(1900-01-01 to 9000-12-31)",
        usage=True,
    )
    project = tmp_path / "listbuilder.toml"
    project.write_text(f'[run]\nas_of = "{as_of}"\n', encoding="utf-8")
    assert_cli_error(
        invoke(["build", "--config", str(project)]),
        2,
        f"invalid project file {project}:\n  - run.as_of: {as_of} is outside the dates a run "
        "can be as of (1900-01-01 to 9000-12-31)",
    )


def test_a_negative_bootstrap_seed_is_a_usage_error(
    small_sample: dict[str, Path], earlier_run: Path, tmp_path: Path
) -> None:
    args = commands(small_sample, earlier_run, tmp_path / "bt")["backtest"]
    assert_cli_error(
        invoke([*args, "--seed", "-1"]),
        2,
        "Invalid value for '--seed': -1 is not in the range x>=0.",
        usage=True,
    )


def test_a_name_too_long_for_the_filesystem_leaves_nothing_behind(
    small_sample: dict[str, Path], earlier_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / ("x" * 300)
    for command in ("build", "export"):
        result = invoke(commands(small_sample, earlier_run, out)[command])
        assert_cli_error(result, 1, f"cannot write {out}: File name too long")
        assert list(tmp_path.iterdir()) == []


def test_a_file_listbuilder_adds_to_a_run_later_is_recorded(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_directory(out, "run") as tmp:
        (tmp / "summary.json").write_text("{}", encoding="utf-8")
    (out / "push_errors.csv").write_text("key\nA1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="did not write or that were changed since"):
        check_output_dir(out, "run")
    record_file(out, out / "push_errors.csv")
    check_output_dir(out, "run")
