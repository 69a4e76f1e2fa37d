"""The front page and the manual stay true: their commands run and their outputs are real.

Each page runs top to bottom in its own copy of the sample project: every ``listbuilder``
command in a ``sh`` block through the CLI, every ``python`` block in a fresh interpreter,
and the blocks marked ``<!-- output -->`` or ``<!-- file: PATH -->`` are compared with what
the run printed or wrote. The conventions are in docs/development.md, "Documentation that
stays true".
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from listbuilder.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SAMPLE_PROJECT = ("data", "rules", "sources")

FENCE = re.compile(r"^(?P<indent>\s*)(?P<ticks>`{3,})(?P<lang>[\w-]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")
# <!-- output -->, <!-- output: PREFIX -->, <!-- output, exit N -->, <!-- output: PREFIX, exit N -->
OUTPUT = re.compile(r"^output(?::\s*(?P<prefix>.*?))?(?:,?\s*exit\s+(?P<exit>\d+))?$")
NOT_RUN = re.compile(r"^not run:\s*\S")
PATH_MARKER = re.compile(r"^(?P<kind>file|write):\s*(?P<path>\S+)$")


@dataclass(frozen=True)
class Block:
    """A fenced block of a page, with the marker comment right before it (if any)."""

    page: Path
    line: int
    lang: str
    text: str
    marker: str | None

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def read_blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` in order; indented fences (in list items) included."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, ticks = len(opening["indent"]), opening["ticks"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^\s*{ticks}\s*$", lines[j]):
            # A fence indented in a list item: its lines carry the same indent.
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            j += 1
        before = next((ln for ln in reversed(lines[:i]) if ln.strip()), "")
        marker = MARKER.match(before)
        text = "\n".join(body) + "\n" if body else ""
        blocks.append(Block(page, i + 1, opening["lang"], text, marker["body"] if marker else None))
        i = j + 1
    return blocks


def shell_commands(script: str) -> list[list[str]]:
    """The ``listbuilder`` commands of a shell block, as argument lists.

    A trailing backslash continues a line, ``&&`` separates commands on one line and a
    ``#`` starts a comment; commands other than ``listbuilder`` (``python3 -m venv``,
    ``pytest``, ``export``) are left out.
    """
    joined = re.sub(r"\\\n\s*", " ", script)
    commands: list[list[str]] = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        command: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if command and command[0] == "listbuilder":
                    commands.append(command)
                command = []
            else:
                command.append(word)
    return commands


def lines_pattern(expected: str) -> str:
    """A regex for ``expected``'s lines, where a line ``...`` stands for any lines."""
    parts = []
    for line in expected.splitlines():
        parts.append(r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n")
    return "".join(parts)


def as_lines(text: str) -> str:
    text = text.replace("\r\n", "\n")
    return text if text.endswith("\n") or not text else text + "\n"


@dataclass
class Ran:
    """One command or snippet run for a page."""

    shown: str
    exit_code: int
    output: str
    where: str
    expected_exit: int = 0


@dataclass
class PageRun:
    """A page run top to bottom in ``project``; problems are collected, not raised."""

    project: Path
    ran: list[Ran] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def run_cli(self, args: list[str], block: Block) -> None:
        result = CliRunner().invoke(cli, args[1:], prog_name="listbuilder")
        output = result.stdout + result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            output += "".join(traceback.format_exception(result.exception))
        self.ran.append(Ran(shlex.join(args), result.exit_code, output, block.where()))

    def run_python(self, block: Block) -> None:
        done = subprocess.run(
            [sys.executable, "-c", block.text],
            cwd=self.project,
            capture_output=True,
            text=True,
            check=False,
        )
        self.ran.append(
            Ran(
                f"python block at {block.where()}",
                done.returncode,
                done.stdout + done.stderr,
                block.where(),
            )
        )

    def compare_output(self, block: Block, prefix: str | None, exit_code: int) -> None:
        candidates = [r for r in self.ran if prefix is None or r.shown.startswith(prefix)]
        if not candidates:
            self.problems.append(f"{block.where()}: no command before it starts with {prefix!r}")
            return
        ran = candidates[-1]
        ran.expected_exit = exit_code
        if not re.fullmatch(lines_pattern(block.text), as_lines(ran.output)):
            self.problems.append(
                f"{block.where()}: output of `{ran.shown}` differs from the page\n"
                f"--- page:\n{block.text}--- actual:\n{ran.output}"
            )

    def compare_file(self, block: Block, path: str) -> None:
        target = self.project / path
        if not target.is_file():
            self.problems.append(f"{block.where()}: {path} was not written")
            return
        actual = as_lines(target.read_text(encoding="utf-8"))
        if not re.search(r"(?m)^" + lines_pattern(block.text), actual):
            self.problems.append(
                f"{block.where()}: these lines are not in {path}\n{block.text}--- {path} begins:\n"
                + "".join(actual.splitlines(keepends=True)[:10])
            )

    def step(self, block: Block) -> None:
        marker = block.marker or ""
        if block.lang == "sh" and not NOT_RUN.match(marker):
            for args in shell_commands(block.text):
                self.run_cli(args, block)
        elif block.lang == "python":
            self.run_python(block)
        elif output := OUTPUT.match(marker):
            self.compare_output(block, output["prefix"], int(output["exit"] or 0))
        elif (path := PATH_MARKER.match(marker)) and path["kind"] == "file":
            self.compare_file(block, path["path"])
        elif path and path["kind"] == "write":
            (self.project / path["path"]).parent.mkdir(parents=True, exist_ok=True)
            (self.project / path["path"]).write_text(block.text, encoding="utf-8")

    def failures(self) -> list[str]:
        unexpected = [
            f"{r.where}: `{r.shown}` exited {r.exit_code} (expected {r.expected_exit})\n{r.output}"
            for r in self.ran
            if r.exit_code != r.expected_exit
        ]
        return unexpected + self.problems


def runs_something(page: Path) -> bool:
    return any(
        (b.lang == "sh" and not NOT_RUN.match(b.marker or "") and shell_commands(b.text))
        or b.lang == "python"
        for b in read_blocks(page)
    )


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the sample project's inputs; each page copies it again to run in."""
    root = tmp_path_factory.mktemp("sample")
    for name in SAMPLE_PROJECT:
        shutil.copytree(ROOT / name, root / name)
    return root


@pytest.mark.parametrize(
    "page", [p for p in PAGES if runs_something(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_page_commands_run_and_outputs_match(
    page: Path, sample_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(sample_project, project)
    monkeypatch.chdir(project)
    run = PageRun(project)
    for block in read_blocks(page):
        run.step(block)
    failures = run.failures()
    assert not failures, "\n\n".join(failures)


def test_every_marker_is_one_the_test_understands() -> None:
    known = (OUTPUT, NOT_RUN, PATH_MARKER)
    for page in PAGES:
        for block in read_blocks(page):
            if block.marker is None:
                continue
            assert any(p.match(block.marker) for p in known), (
                f"{block.where()}: unknown marker <!-- {block.marker} -->"
            )
            if NOT_RUN.match(block.marker):
                assert block.lang == "sh", f"{block.where()}: `not run` marks only sh blocks"


def test_marked_outputs_are_compared() -> None:
    """A marked block the runner would silently skip (a run block marked as output) is a
    mistake in the page, not a check."""
    for page in PAGES:
        for block in read_blocks(page):
            if block.marker and (OUTPUT.match(block.marker) or PATH_MARKER.match(block.marker)):
                assert block.lang not in ("sh", "python"), (
                    f"{block.where()}: a {block.lang} block is run, not compared"
                )


def test_shell_commands_are_split_as_a_shell_would() -> None:
    script = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
        "listbuilder build --as-of 2026-11-01\n"
        'listbuilder export out --tiers "Tier 1,Tier 2" \\\n    --out x   # a comment\n'
        "export TOKEN=...\n"
    )
    assert shell_commands(script) == [
        ["listbuilder", "build", "--as-of", "2026-11-01"],
        ["listbuilder", "export", "out", "--tiers", "Tier 1,Tier 2", "--out", "x"],
    ]


def test_ellipsis_stands_for_any_lines_and_nothing_else() -> None:
    pattern = lines_pattern("a\n...\nd\n")
    assert re.fullmatch(pattern, "a\nb\nc\nd\n")
    assert re.fullmatch(pattern, "a\nd\n")
    assert not re.fullmatch(pattern, "a\nb\nc\ne\n")
    assert not re.fullmatch(lines_pattern("a\nd\n"), "a\nb\nd\n")


def test_readme_is_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; the manual belongs in docs/"


def test_every_page_is_in_the_nav() -> None:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    in_nav = set(re.findall(r":\s*([\w./-]+\.md)\s*$", text, flags=re.M))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages == in_nav, (
        f"not in mkdocs.yml nav: {sorted(pages - in_nav)}; missing: {sorted(in_nav - pages)}"
    )


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
