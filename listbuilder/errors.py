"""Exceptions raised by the library; the CLI turns them into one-paragraph errors."""

from __future__ import annotations


class ListbuilderError(Exception):
    """Base class for every error caused by a user's input rather than a bug."""

    exit_code = 1


class RulesError(ListbuilderError):
    """A rules file is malformed or does not fit the data; lists every problem found."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid rules file {path}:\n{lines}")


class DataError(ListbuilderError):
    """An input file is missing, unreadable, or lacks what the run needs."""


class ConfigError(ListbuilderError):
    """A command-line option or project setting is invalid."""

    exit_code = 2


class PushError(DataError):
    """A destination refused a push or kept failing; what it accepted so far is journalled."""
