"""The package stays easy to find one's way in: short functions and distinct module names.

What is checked, over every ``.py`` file under ``listbuilder/``:

- Function length: no function or method is longer than ``MAX_LINES`` (80) lines, counted
  from its first decorator (or ``def``) to its last line, docstring and comments included,
  unless its docstring has a sentence starting "Long because" that says why.
- Module names: no two modules (a package counts by its own name) have names a newcomer
  could take for one another. Two names are confusable when they are
  1. the same name in two places (``match/command.py`` and ``outputs/run.py``);
  2. one is a prefix of the other (``normalise`` and ``normalisers``, ``parse`` and
     ``parsers``);
  3. within edit distance 2 of each other when the shorter has at least
     ``CLOSE_MIN_LENGTH`` (6) characters (``exports``/``imports``), or within 1 when it is
     shorter (``names``/``games``); two letters apart, short names still read differently
     (``files``/``rules``).

``PENDING_LONG`` and ``PENDING_NAMES`` hold exemptions while a module is being rewritten;
both are empty.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "listbuilder"
MAX_LINES = 80
CLOSE_MIN_LENGTH = 6

# Modules exempt from the length check while they are rewritten (none now).
PENDING_LONG: set[str] = set()
# Module-name pairs exempt from the name check while they are renamed (none now).
PENDING_NAMES: set[frozenset[str]] = set()

_REASON = re.compile(r"(?:^|[.!?:]\s+)Long because\s+\S+\s+\S+\s+\S+")


@dataclass(frozen=True)
class LongFunction:
    module: str
    path: Path
    line: int
    name: str
    lines: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.name} ({self.lines} lines)"


def module_name(path: Path, root: Path) -> str:
    """The dotted name of ``path`` in the package at ``root`` (a package by its own name)."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root``, by dotted name."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def long_functions(source: str, module: str, path: Path) -> list[LongFunction]:
    """Functions in ``source`` over ``MAX_LINES`` lines that do not say why they are long."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        assert node.end_lineno is not None
        lines = node.end_lineno - start + 1
        doc = " ".join((ast.get_docstring(node) or "").split())
        if lines > MAX_LINES and not _REASON.search(doc):
            found.append(LongFunction(module, path, node.lineno, node.name, lines))
    return found


def package_long_functions(root: Path) -> list[LongFunction]:
    """``long_functions`` over every module of the package at ``root``."""
    return [
        f
        for name, path in modules(root).items()
        for f in long_functions(
            path.read_text(encoding="utf-8"), name, path.relative_to(root.parent)
        )
    ]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions of one character."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def confusable(a: str, b: str) -> bool:
    """Whether module names ``a`` and ``b`` (last components) could be taken for each other."""
    if a.startswith(b) or b.startswith(a):
        return True
    limit = 2 if min(len(a), len(b)) >= CLOSE_MIN_LENGTH else 1
    return edit_distance(a, b) <= limit


def confusable_pairs(names: Iterable[str]) -> set[frozenset[str]]:
    """Pairs of dotted module names whose last components are confusable."""
    return {
        frozenset({a, b})
        for a, b in itertools.combinations(sorted(set(names)), 2)
        if confusable(a.rsplit(".", 1)[-1], b.rsplit(".", 1)[-1])
    }


def _listing(items: Iterable[object]) -> str:
    return "\n".join(f"  {item}" for item in items)


def _pair(pair: frozenset[str]) -> str:
    return " and ".join(sorted(pair))


# --- the package -------------------------------------------------------------------------


def test_no_function_is_long_without_a_reason() -> None:
    offenders = [f for f in package_long_functions(PACKAGE) if f.module not in PENDING_LONG]
    assert not offenders, (
        f"functions over {MAX_LINES} lines; split them into named steps, or say why in the "
        f'docstring with a sentence starting "Long because":\n{_listing(offenders)}'
    )


def test_module_names_are_not_confusable() -> None:
    pairs = confusable_pairs(modules(PACKAGE)) - PENDING_NAMES
    assert not pairs, "module names a newcomer could confuse; rename one of each pair:\n" + (
        _listing(sorted(_pair(p) for p in pairs))
    )


# --- the checks themselves ---------------------------------------------------------------


def _function(lines: int, docstring: str = "A function.", decorated: bool = False) -> str:
    """Source of a function exactly ``lines`` long, counting decorator and docstring."""
    head = ["@staticmethod"] if decorated else []
    head += ["def f() -> int:", f'    """{docstring}"""']
    body = [f"    x{i} = {i}" for i in range(lines - len(head) - 1)]
    return "\n".join([*head, *body, "    return 0", ""])


@pytest.mark.parametrize("decorated", [False, True])
def test_length_counts_every_line_from_the_first_decorator(decorated: bool) -> None:
    path = Path("m.py")
    assert long_functions(_function(MAX_LINES, decorated=decorated), "m", path) == []
    [found] = long_functions(_function(MAX_LINES + 1, decorated=decorated), "m", path)
    assert (found.name, found.lines, found.line) == ("f", MAX_LINES + 1, 1 + decorated)


def test_a_long_function_passes_only_with_a_sentence_saying_why() -> None:
    path = Path("m.py")
    reasons = {
        "Build the table. Long because each column is one step of a single query.": True,
        "Long because the steps share twenty local names.": True,
        "Build the table; it is Long because of the query.": False,
        "Build the table. Long because.": False,
        "Build the table. long because the steps share names.": False,
    }
    for docstring, excused in reasons.items():
        found = long_functions(_function(MAX_LINES + 5, docstring), "m", path)
        assert (found == []) is excused, docstring


def test_methods_and_nested_functions_are_checked() -> None:
    inner = _function(MAX_LINES + 1).replace("\n", "\n        ").rstrip()
    source = f"class C:\n    def outer(self) -> None:\n        {inner}\n        pass\n"
    names = [f.name for f in long_functions(source, "m", Path("m.py"))]
    assert names == ["outer", "f"]


def test_package_modules_are_named_by_their_import_path(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    for rel in ("__init__.py", "a.py", "sub/__init__.py", "sub/b.py"):
        (root / rel).write_text("")
    assert set(modules(root)) == {"pkg", "pkg.a", "pkg.sub", "pkg.sub.b"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("normalise", "normalisers", True),  # prefix
        ("parse", "parsers", True),  # prefix
        ("run", "run", True),  # the same name in two places
        ("scoring", "scorings", True),  # prefix
        ("blocking", "blacking", True),  # one apart
        ("exports", "imports", True),  # two apart, both long
        ("names", "games", True),  # one apart, short
        ("tiers", "tires", False),  # a swap is two edits, and the names are short
        ("files", "rules", False),  # two apart, short
        ("report", "charts", False),
        ("sizes", "sections", False),
    ],
)
def test_confusable_names(a: str, b: str, expected: bool) -> None:
    assert confusable(a, b) is expected
    assert confusable(b, a) is expected


def test_confusable_pairs_compare_last_components() -> None:
    names = ["pkg", "p.match.run", "p.outputs.run", "p.rules.parse", "p.inputs.parsers", "p.cli"]
    assert confusable_pairs(names) == {
        frozenset({"p.match.run", "p.outputs.run"}),
        frozenset({"p.rules.parse", "p.inputs.parsers"}),
    }


def test_edit_distance() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("same", "same") == 0
