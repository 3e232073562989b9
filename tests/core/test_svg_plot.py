"""The one SVG plotter: well-formed output whatever the labels hold, one circle a point,
and the CLI's Pareto scatter drawn through it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from catalytic.client.commands.evolve import svg_scatter
from catalytic.client.svg_plot import Panel, Series, render

NS = "{http://www.w3.org/2000/svg}"


def test_labels_are_escaped_and_points_drawn() -> None:
    panel = Panel('a <b> & "c"', "x < 1", "y & z", log_x=True, series=[
        Series("points & such", [1.0, 10.0, 100.0], [0.5, 0.7, 0.9]),
        Series("fit", [1.0, 100.0], [0.5, 0.9], style="dashed", colour=1),
    ])
    root = ET.fromstring(render([panel, panel], columns=2, title="two <panels>"))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert 'a <b> & "c"' in texts and "two <panels>" in texts and "x < 1" in texts
    assert len(list(root.iter(f"{NS}circle"))) == 6
    assert len(list(root.iter(f"{NS}polyline"))) == 2
    assert root.get("width") == str(2 * 460)


def test_pareto_scatter_has_a_circle_per_point() -> None:
    front = [[0.0, 1.0], [0.25, 0.5], [1.0, 0.0]]
    root = ET.fromstring(svg_scatter(front, ["f1 <min>", "f2"]))
    assert len(list(root.iter(f"{NS}circle"))) == len(front)
    assert "f1 <min>" in [t.text for t in root.iter(f"{NS}text")]
    single = ET.fromstring(svg_scatter([[3.0], [1.0]], ["cost"]))
    assert len(list(single.iter(f"{NS}circle"))) == 2


def test_nothing_to_draw_is_still_an_svg() -> None:
    root = ET.fromstring(svg_scatter([], ["f1", "f2"]))
    assert root.tag == f"{NS}svg" and not list(root.iter(f"{NS}circle"))
