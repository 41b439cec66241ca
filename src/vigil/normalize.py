"""Text normalisation that survives evasion, with offsets back into the original text.

(Interface; implementation in progress.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised view of ``original``.

    ``starts[i]`` and ``ends[i]`` give the span of ``original`` that produced character ``i``
    of ``text``; :meth:`to_original` maps a span of ``text`` back to ``original``.
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if start >= end:
            return (self.starts[start] if start < len(self.starts) else len(self.original),) * 2
        return self.starts[start], self.ends[end - 1]


def normalize(text: str, *, lang: str | None = None, aggressive: bool = True) -> Normalized:
    raise NotImplementedError
