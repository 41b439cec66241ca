"""The inline SVG charts: valid XML, escaped labels, values placed in order, empty input."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest

from vigil.charts import PALETTE, bar_chart, line_chart, stacked_bar_chart

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \'quote\' ]]> \x00\x07'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root[0].tag == f"{NS}title"
    return root


def marks(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("class") == cls]


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{NS}text")]


def test_bar_chart_is_valid_and_complete() -> None:
    svg = bar_chart([("spam", 10), ("hate", 3), ("violence", 7)], title="Removals",
                    y_label="items")
    root = parse(svg)
    assert root[0].text == "Removals"
    assert len(marks(root, "bar")) == 3
    assert marks(root, "y-ticks") and marks(root, "x-ticks") and marks(root, "legend")
    labels = texts(root)
    assert "0" in " ".join(labels) and "10" in labels
    assert any(t.startswith("spam") for t in labels)
    assert root.find(f"{NS}g[@class='legend']/{NS}text") is not None


def test_bar_heights_follow_values() -> None:
    values = [0.0, 1.0, 2.5, 7.0, 120.0, 3.0]
    root = parse(bar_chart([(f"b{i}", v) for i, v in enumerate(values)], title="t"))
    bars = marks(root, "bar")
    heights = [float(b.get("height", "nan")) for b in bars]
    tops = [float(b.get("y", "nan")) for b in bars]
    order = sorted(range(len(values)), key=values.__getitem__)
    assert [heights[i] for i in order] == sorted(heights)
    assert [tops[i] for i in order] == sorted(tops, reverse=True)  # taller: higher up
    assert heights[0] == 0.0
    bottoms = {round(t + h, 1) for t, h in zip(tops, heights, strict=True)}
    assert len(bottoms) == 1  # every bar stands on the same zero line
    xs = [float(b.get("x", "nan")) for b in bars]
    assert xs == sorted(xs)


def test_negative_bars_hang_below_zero() -> None:
    root = parse(bar_chart([("up", 4.0), ("down", -2.0)], title="t"))
    up, down = marks(root, "bar")
    assert float(up.get("y", "0")) + float(up.get("height", "0")) == pytest.approx(
        float(down.get("y", "0")), abs=0.11)


def test_line_points_follow_values_and_periods() -> None:
    series = {"remove": [("2026-01", 3.0), ("2026-02", 9.0), ("2026-03", 1.0)],
              "label": [("2026-02", 4.0), ("2026-04", 6.0)]}
    root = parse(line_chart(series, title="By month", y_label="decisions"))
    points = marks(root, "point")
    assert len(points) == 5
    assert len(list(root.iter(f"{NS}polyline"))) == 2
    by = {(p.get("data-x"), float(p.get("data-value", "nan"))): p for p in points}
    ys = sorted(by, key=lambda k: k[1])
    cy = [float(by[k].get("cy", "nan")) for k in ys]
    assert cy == sorted(cy, reverse=True)
    # the x positions are the sorted union of the periods, shared by the series
    x_of = {k[0]: float(p.get("cx", "nan")) for k, p in by.items()}
    assert x_of["2026-01"] < x_of["2026-02"] < x_of["2026-03"] < x_of["2026-04"]
    assert by[("2026-02", 9.0)].get("cx") == by[("2026-02", 4.0)].get("cx")
    legend = root.find(f"{NS}g[@class='legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{NS}text")] == ["remove", "label"]


def test_line_keeps_order_of_unsorted_labels() -> None:
    root = parse(line_chart({"a": [("Jun", 1), ("Jul", 2), ("Aug", 3)]}, title="t"))
    x_of = {p.get("data-x"): float(p.get("cx", "nan")) for p in marks(root, "point")}
    assert x_of["Jun"] < x_of["Jul"] < x_of["Aug"]


def test_stacked_segments_add_up() -> None:
    rows = ["spam", "hate", "misinformation"]
    series = {"automated": [5.0, 0.0, 2.0], "partly": [1.0, 3.0, 0.0], "human": [0.0, 1.0, 6.0]}
    root = parse(stacked_bar_chart(rows, series, title="By detection"))
    segs = marks(root, "segment")
    assert len(segs) == 9
    per_row: dict[str, list[tuple[float, float]]] = {}
    for s in segs:
        per_row.setdefault(s.get("data-label", ""), []).append(
            (float(s.get("y", "nan")), float(s.get("height", "nan"))))
    unit = None
    for i, row in enumerate(rows):
        total = sum(vs[i] for vs in series.values())
        parts = sorted(per_row[row])
        # the segments touch: each one's top is the next one's bottom
        for (y0, h0), (y1, _) in itertools.pairwise(parts):
            assert y0 + h0 == pytest.approx(y1, abs=0.2)
        height = sum(h for _, h in parts)
        unit = unit or height / total
        assert height == pytest.approx(total * unit, abs=0.3)
    legend = root.find(f"{NS}g[@class='legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{NS}text")] == list(series)
    fills = [g.get("fill") for g in marks(root, "series")]
    assert fills == list(PALETTE[:3])


def test_stacked_rejects_misaligned_series() -> None:
    with pytest.raises(ValueError, match="2 values for 3 rows"):
        stacked_bar_chart(["a", "b", "c"], {"x": [1.0, 2.0]}, title="t")


@pytest.mark.parametrize("make", [
    lambda: bar_chart([(HOSTILE, 1.0), ("ok", 2.0)], title=HOSTILE, y_label=HOSTILE),
    lambda: line_chart({HOSTILE: [(HOSTILE, 1.0), ("b", 2.0)]}, title=HOSTILE,
                       y_label=HOSTILE),
    lambda: stacked_bar_chart([HOSTILE, "b"], {HOSTILE: [1.0, 2.0]}, title=HOSTILE),
])
def test_hostile_labels_are_escaped(make: object) -> None:
    assert callable(make)
    svg = make()
    assert "<script" not in svg and "]]>" not in svg and "\x00" not in svg
    root = parse(svg)
    assert not list(root.iter("script")) and not list(root.iter(f"{NS}script"))
    assert root[0].text is not None and root[0].text.startswith('<script>alert("x")')
    assert root.get("aria-label", "").startswith("<script>")


@pytest.mark.parametrize("svg", [
    bar_chart([], title="Nothing"),
    line_chart({}, title="Nothing"),
    line_chart({"a": [], "b": []}, title="Nothing"),
    stacked_bar_chart([], {}, title="Nothing"),
    stacked_bar_chart(["a"], {}, title="Nothing"),
])
def test_empty_input_says_no_data(svg: str) -> None:
    root = parse(svg)
    assert root[0].text == "Nothing"
    assert "no data" in texts(root)
    assert not marks(root, "bar") and not marks(root, "point")


def test_all_zero_and_non_finite_values_draw() -> None:
    root = parse(bar_chart([("a", 0), ("b", math.nan), ("c", math.inf)], title="t"))
    assert [float(b.get("height", "nan")) for b in marks(root, "bar")] == [0.0, 0.0, 0.0]
    root = parse(line_chart({"a": [("x", 0.0)]}, title="one point"))
    assert len(marks(root, "point")) == 1


def test_many_labels_are_thinned_and_rotated() -> None:
    bars = [(f"2026-day-{d:03d}", float(d)) for d in range(1, 92)]
    root = parse(bar_chart(bars, title="Days"))
    ticks = root.find(f"{NS}g[@class='x-ticks']")
    assert ticks is not None
    shown = list(ticks.iter(f"{NS}text"))
    assert 0 < len(shown) < 91
    assert all("rotate" in t.get("transform", "") for t in shown)
    assert len(marks(root, "bar")) == 91


def test_small_values_get_decimal_ticks() -> None:
    root = parse(bar_chart([("a", 0.12), ("b", 0.4)], title="Shares"))
    ticks = root.find(f"{NS}g[@class='y-ticks']")
    assert ticks is not None
    labels = [t.text for t in ticks.iter(f"{NS}text")]
    assert labels[0] == "0.0" and "0.4" in labels
