"""docs/bring-your-own-data.md: the files it has the reader write are the ones shipped in
docs/examples/, and its list table and counts are the run's.

tests/test_docs.py runs the page's commands and compares their outputs; this adds what
that cannot see.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import invoke
from tests.test_docs import PATH_MARKER, read_blocks

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "bring-your-own-data.md"
EXAMPLES = ROOT / "docs" / "examples"
SHIPPED = {
    "docs/examples/messy_companies.csv": EXAMPLES / "messy_companies.csv",
    "docs/examples/icp.toml": EXAMPLES / "icp.toml",
    "data/hubspot/companies.csv": EXAMPLES / "hubspot_companies.csv",
}


def written() -> dict[str, str]:
    """Each file the page has written, by path, with its text."""
    found = {}
    for block in read_blocks(PAGE):
        marker = PATH_MARKER.match(block.marker or "")
        if marker and marker["kind"] == "write":
            found[marker["path"]] = block.text
    return found


def test_the_files_the_page_writes_are_the_shipped_ones() -> None:
    files = written()
    assert set(files) == set(SHIPPED)
    for path, text in files.items():
        assert text == SHIPPED[path].read_text(encoding="utf-8"), path


@pytest.fixture
def in_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the page's files where the page puts them."""
    for path, source in SHIPPED.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, tmp_path / path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_pages_list_table_and_counts_are_the_runs(in_copy: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    first = re.search(r"```sh\n(listbuilder build [^\n]*)\n```", text)
    assert first is not None
    assert invoke(shlex.split(first.group(1))[1:]).exit_code == 0
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
