"""Vigil's one error hierarchy.

    VigilError
    ├── InputError        a line, row or field of user input is malformed (carries where)
    ├── PolicyError       a policy file is invalid (carries every problem: file, key, why)
    └── StoreError        the store cannot do what was asked

A log that does not verify is not an exception: ``Store.verify_log`` returns what it found.
"""

from __future__ import annotations

from dataclasses import dataclass


class VigilError(Exception):
    """Base of every error Vigil raises on purpose."""


class InputError(VigilError):
    """Malformed input. ``where`` names the line, row or field at fault."""

    def __init__(self, reason: str, *, where: str = "", line: int | None = None) -> None:
        self.reason = reason
        self.where = where
        self.line = line
        loc = f"line {line}" if line is not None else ""
        if where:
            loc = f"{loc}, {where}" if loc else where
        super().__init__(f"{loc}: {reason}" if loc else reason)


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy file."""

    file: str
    key: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.why}"


class PolicyError(VigilError):
    """A policy does not validate; ``problems`` lists every reason."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StoreError(VigilError):
    """The store cannot do what was asked."""

