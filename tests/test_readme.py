"""The README's commands are the ones CI runs, and its code blocks stay true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def ci_commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [ln for ln in lines if ln.startswith("python3 -m venv")]


def test_ci_runs_the_readme_commands_verbatim() -> None:
    commands = ci_commands()
    assert len(commands) == 2, commands
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    readme_lines = {ln.strip() for block in blocks for ln in block.splitlines()}
    for command in commands:
        assert command in readme_lines, f"README lacks the CI command: {command}"


def test_readme_has_no_placeholders_left() -> None:
    assert not re.search(r"\b(WORKED_EXAMPLE|BENCHMARK|TODO)\b", README)
