"""Every shipped detector keeps the Detector contract and passes its own examples."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import pytest

from vigil.detectors import Detector, Prepared, check_detector
from vigil.detectors.lexicon import LexiconDetector
from vigil.detectors.spam_patterns import SpamPatternDetector
from vigil.items import Item

FACTORIES: dict[str, Callable[[], Detector]] = {
    "lexicon": LexiconDetector,
    "spam_patterns": SpamPatternDetector,
}


@pytest.mark.parametrize("make", FACTORIES.values(), ids=list(FACTORIES))
def test_detector_passes_its_examples(make: Callable[[], Detector]) -> None:
    detector = make()
    assert isinstance(detector, Detector)
    report = check_detector(detector)
    assert report.ok, "\n".join(report.failures)
    assert report.checked == len(detector.examples()) >= 10


@pytest.mark.parametrize("make", FACTORIES.values(), ids=list(FACTORIES))
def test_examples_cover_both_sides(make: Callable[[], Detector]) -> None:
    examples = make().examples()
    assert any(ex.fires for ex in examples)
    assert any(ex.quiet for ex in examples)
    assert any(ex.lang == "zh" for ex in examples)


@pytest.mark.parametrize("make", FACTORIES.values(), ids=list(FACTORIES))
def test_detector_survives_pickling(make: Callable[[], Detector]) -> None:
    """Sweeps ship detectors to Dask workers by pickling them."""
    detector = make()
    copy = pickle.loads(pickle.dumps(detector))
    items = [Item(f"ex{i}", "a", ex.text, lang=ex.lang) for i, ex in enumerate(detector.examples())]
    assert copy.detect([Prepared(it) for it in items]) == detector.detect(
        [Prepared(it) for it in items]
    )
    assert (copy.name, copy.version) == (detector.name, detector.version)
