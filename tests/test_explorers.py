"""Precomputed explorers (wiloc_core.explorers): slider steps, channel changes, static html."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("plotly", reason="plotly is in the book extra")

from wiloc_core import explorers  # noqa: E402
from wiloc_core.sim import presets  # noqa: E402
from wiloc_core.sim.scene import Person  # noqa: E402

N_STEPS = 8


@pytest.fixture(scope="module")
def lab():
    return presets.preset("laboratory", seed=0)


@pytest.fixture(scope="module")
def sweep(lab):
    room = lab.scene.room
    xs = np.linspace(0.5, room.width - 0.5, N_STEPS)
    return explorers.person_sweep(lab.scene, Person(0.0, 0.0, loss_db=8.0),
                                  {"centre": lab.receivers[105][:2], "corner": lab.receivers[0][:2]},
                                  np.column_stack([xs, np.full(N_STEPS, 3.2)]), lab.freqs_hz,
                                  max_order=1)


@pytest.fixture(scope="module")
def figure(lab, sweep):
    room = lab.scene.room
    return explorers.person_sweep_figure(sweep, (room.width, room.depth), lab.scene.tx[:2],
                                         lab.scene.scatterers.positions[:, :2], 0.2)


def test_sweep_matches_one_position_at_a_time(lab, sweep):
    """The batched trace equals the explorer's one-position computation."""
    body = Person(0.0, 0.0, loss_db=8.0)
    k = 3
    scene = lab.scene.with_people([body.moved(*sweep.person_xy[k])])
    H, h, t = explorers.channel_view(scene, lab.receivers[0][:2], lab.freqs_hz, max_order=1)
    np.testing.assert_allclose(sweep.ctf_db[1, k], 20 * np.log10(np.abs(H[0])), atol=1e-9)
    np.testing.assert_allclose(sweep.ir_abs[1, k], np.abs(h[0, t < 200e-9]), atol=1e-12)
    assert sweep.ctf_db.shape == (2, N_STEPS, len(lab.freqs_hz))


def test_one_slider_step_per_grid_value(figure, sweep):
    (slider,) = figure.layout.sliders
    assert len(slider.steps) == N_STEPS
    assert [s.label for s in slider.steps] == [f"{x:.2f}" for x in sweep.person_xy[:, 0]]
    for step in slider.steps:
        assert step.method == "update"
        traces = step.args[2]
        assert len(step.args[0]["y"]) == len(traces) == 4  # |H| and |h| of two receivers
        assert all(figure.data[i].mode == "lines" for i in traces)


def test_the_channel_changes_when_the_person_moves(figure):
    steps = figure.layout.sliders[0].steps
    first, last = steps[0].args, steps[-1].args
    for y0, y1 in zip(first[0]["y"], last[0]["y"], strict=True):
        assert len(y0) == len(y1)
        # |H| in dB and |h| in linear units: compare with the curve's own span
        assert np.max(np.abs(np.subtract(y0, y1))) > 0.01 * np.ptp(y0), (y0[:5], y1[:5])
    assert first[1] != last[1]  # the person's circle moved on the plan
    # the figure's initial curves are those of the active step
    active = figure.layout.sliders[0].active
    i = steps[active].args[2][0]
    np.testing.assert_allclose(figure.data[i].y, steps[active].args[0]["y"][0])


def test_static_html_loads_no_plotly_js_and_is_deterministic(figure):
    html = explorers.to_static_html(figure, "01 radio explorer")
    assert html == explorers.to_static_html(figure, "01 radio explorer")
    assert 'id="wiloc-01-radio-explorer"' in html
    assert "cdn.plot.ly" not in html and "https://" not in html
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert "Plotly.newPlot" in html and len(html) < 400_000
    assert "plotly.js v" not in html.lower()  # the library itself is not embedded
    assert explorers.div_id("A b_c") == "wiloc-a-b-c"
    with pytest.raises(ValueError):
        explorers.div_id("--")


def test_slider_figure_restyles_its_curves():
    x = [0.0, 1.0, 2.0]
    fig = explorers.slider_figure(x, {"a": [[0, 1, 2], [0, 2, 4]], "b": [[1, 1, 1], [2, 2, 2]]},
                                  ["1", "2"], active=1)
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 2
    assert steps[1].args[0] == {"y": [[0, 2, 4], [2, 2, 2]]}
    assert list(steps[1].args[1]) == [0, 1]
    assert list(fig.data[0].y) == [0, 2, 4]
    with pytest.raises(ValueError):
        explorers.slider_figure(x, {"a": [[0, 1]]}, ["1"])


def test_cdf_figure_buttons_show_one_group_and_thin_long_curves():
    x = np.sort(np.random.default_rng(0).uniform(0, 3, 1000))
    f = np.arange(1, 1001) / 1000
    groups = {"camera": {"CNN": (x, f), "GRU": (x[:10], f[:10])}, "truth": {"CNN": (x, f)}}
    fig = explorers.cdf_figure(groups, marker_x=1.0, max_points=100)
    assert [t.visible for t in fig.data] == [True, True, False]
    assert len(fig.data[0].x) <= 100 and fig.data[0].y[-1] == 1.0 and len(fig.data[1].x) == 10
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["camera", "truth"]
    assert buttons[1].args[0]["visible"] == [False, False, True]
    with pytest.raises(ValueError):
        explorers.cdf_figure({"camera": {}})
