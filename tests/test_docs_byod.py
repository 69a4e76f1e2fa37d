"""docs/bring-your-own-data.md: its commands run, in order, and print what the page shows."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import invoke

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "bring-your-own-data.md"
EXAMPLES = ROOT / "docs" / "examples"


def commands_and_outputs(text: str) -> list[tuple[str, str]]:
    """Each ```sh block with the ```text block right after it (its output)."""
    pairs = re.findall(r"```sh\n(.*?)```\s*```text\n(.*?)```", text, flags=re.S)
    assert len(pairs) == len(re.findall(r"```sh\n", text)), "a command without its output"
    return [(cmd.strip(), out) for cmd, out in pairs]


@pytest.fixture
def in_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the page's example files where the page says."""
    shutil.copytree(EXAMPLES, tmp_path / "docs" / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_pages_commands_print_what_it_shows(in_copy: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    pairs = commands_and_outputs(text)
    assert len(pairs) == 4
    for command, shown in pairs:
        args = shlex.split(command)
        assert args[0] == "listbuilder"
        result = invoke(args[1:])
        assert result.stdout + result.stderr == shown, command
        assert result.exit_code == (1 if shown.startswith("Error: ") else 0), command


def test_the_pages_list_table_and_counts_are_the_runs(in_copy: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    first, _output = commands_and_outputs(text)[0]
    assert invoke(shlex.split(first)[1:]).exit_code == 0
    listed = pl.read_csv(in_copy / "out" / "byod" / "na_software.csv", infer_schema=False)
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if re.match(r"^\| \d+ \| Tier", line)
    ]
    expected = listed.select(
        "rank", "tier", "company_id", "name", "domain", "employees", "country"
    ).fill_null("")
    assert rows == [list(r) for r in expected.iter_rows()]
    summary = json.loads((in_copy / "out" / "byod" / "summary.json").read_text())
    entry = summary["inputs"]["companies"]
    shown = re.search(r'"bad_values": (\{.*?\}),\n"bad_value_examples": (\{.*?\})\n', text)
    assert shown is not None
    assert json.loads(shown.group(1)) == entry["bad_values"]
    assert json.loads(shown.group(2)) == entry["bad_value_examples"]


def test_the_example_hubspot_mapping_is_the_shipped_one_but_for_its_path() -> None:
    shipped = (ROOT / "sources" / "hubspot_companies.toml").read_text(encoding="utf-8")
    example = (EXAMPLES / "hubspot_companies.toml").read_text(encoding="utf-8")
    assert example == shipped.replace(
        'path = "../data/hubspot/companies.csv"', 'path = "hubspot_companies.csv"'
    )
    assert example != shipped
