"""The public API is exactly ``vigil.__all__``: sorted, importable, complete."""

from __future__ import annotations

import inspect
import types

import vigil


def test_all_is_sorted_and_importable() -> None:
    assert list(vigil.__all__) == sorted(vigil.__all__)
    assert len(set(vigil.__all__)) == len(vigil.__all__)
    for name in vigil.__all__:
        assert hasattr(vigil, name), name


def test_every_public_name_is_listed() -> None:
    public = {
        name for name, obj in vars(vigil).items()
        if not name.startswith("_") and not isinstance(obj, types.ModuleType)
    }
    assert public - {"__version__"} <= set(vigil.__all__), public - set(vigil.__all__)


def test_listed_callables_are_documented() -> None:
    for name in vigil.__all__:
        obj = getattr(vigil, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"
