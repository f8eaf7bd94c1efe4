"""Explorers that work on the static book page: precomputed plotly figures with a slider.

A live ``ipywidgets`` explorer needs a kernel, which the published book does not have. The
functions here compute the explorer's output once per value of a small parameter grid
(with the same :mod:`wiloc_core.sim` calls as the live one) and pack all of it into one
plotly figure whose slider switches between the precomputed values in the browser.

- :func:`channel_view`: the CTF and impulse response at one receiver, for one or many
  positions of the scene's person (the computation behind chapter 01's explorer);
- :func:`person_sweep`: that computation over a grid of person positions and a few receivers;
- :func:`person_sweep_figure`: the plotly figure (room plan, ``|H(f)|`` in dB, ``|h(t)|``)
  with one slider step per person position;
- :func:`slider_figure`: the generic builder (one slider over precomputed curves);
- :func:`cdf_figure`: error CDFs, one line per model (click a legend entry to hide it),
  with buttons that switch between groups of runs (for example the training labels);
- :func:`to_static_html`: an html snippet of a figure that neither embeds plotly.js nor
  fetches it: the book serves ``plotly.min.js`` itself (``wiloc_core.book``), and the div
  id comes from a name, so a rebuild writes the same bytes.

Examples
--------
>>> from wiloc_core.explorers import slider_figure, to_static_html
>>> fig = slider_figure([0, 1, 2], {"a": [[0, 1, 2], [0, 2, 4]]}, ["x = 1", "x = 2"])
>>> html = to_static_html(fig, "demo")      # '<div id="wiloc-demo" ...'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError

#: Prefix of every div id written by :func:`to_static_html`.
ID_PREFIX = "wiloc-"
#: Receivers' colours (plotly's palette less its red, which marks the person).
RX_COLOURS = ("#636efa", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")
PERSON_COLOUR = "#d62728"
#: Significant digits kept in the figure's JSON (enough for a plot; the page stays small).
DIGITS = 4


# ------------------------------------------------------------------------------------------
# Computation
# ------------------------------------------------------------------------------------------


def channel_view(scene, rx, freqs_hz, *, max_order: int = 2, people_xy=None,
                 oversample: int = 4, height_m: float = 1.5):
    """CTF and band-limited impulse response at one receiver.

    Parameters
    ----------
    scene : wiloc_core.sim.scene.Scene
        The room; its people stand where they are unless ``people_xy`` moves them.
    rx : array_like, shape (2,) or (3,), m
        Receiver position; a 2-D one is put at ``height_m``.
    freqs_hz : array_like, shape (n_f,), Hz
        Uniform frequency grid.
    max_order : int
        Image-method reflection order.
    people_xy : array_like, shape (n_links, n_people, 2), optional
        Positions of the scene's people, one row per link (see
        :func:`wiloc_core.sim.paths.trace`).
    oversample : int
        Zero padding of the impulse response.

    Returns
    -------
    H : numpy.ndarray, complex, shape (n_links, n_f)
    h : numpy.ndarray, complex, shape (n_links, oversample * n_f)
    delays_s : numpy.ndarray, shape (oversample * n_f,), s
    """
    from wiloc_core.sim import channel
    from wiloc_core.sim.paths import trace

    rx = np.asarray(rx, dtype=float)
    if rx.shape == (2,):
        rx = np.append(rx, height_m)
    paths = trace(scene, rx, max_order=max_order, people_xy=people_xy)
    H = channel.ctf(paths, freqs_hz)
    h, delays = channel.impulse_response(H, freqs_hz, oversample=oversample)
    return H, h, delays


@dataclass(frozen=True)
class PersonSweep:
    """The explorer precomputed over person positions (rows) for a few receivers.

    Attributes
    ----------
    freqs_hz : (n_f,) Hz;  delays_s : (n_t,) s, cut at the sweep's maximum delay
    person_xy : (n_steps, 2) m, the person's positions
    receivers : dict label -> (2,) m
    ctf_db : (n_rx, n_steps, n_f) ``20 log10 |H|``
    ir_abs : (n_rx, n_steps, n_t) ``|h|``
    """

    freqs_hz: np.ndarray
    delays_s: np.ndarray
    person_xy: np.ndarray
    receivers: dict
    ctf_db: np.ndarray
    ir_abs: np.ndarray


def person_sweep(scene, body, receivers: Mapping[str, Sequence[float]], person_xy,
                 freqs_hz, *, max_order: int = 2, max_delay_s: float = 200e-9) -> PersonSweep:
    """:func:`channel_view` for every person position and receiver (one trace per receiver).

    Parameters
    ----------
    scene : Scene
        The empty room (no people).
    body : wiloc_core.sim.scene.Person
        The person, moved to each position of ``person_xy``.
    receivers : mapping label -> (x, y) or (x, y, z)
    person_xy : array_like, shape (n_steps, 2), m
    freqs_hz : array_like, Hz
    max_order : int
    max_delay_s : float
        Impulse responses are kept up to this delay.

    Returns
    -------
    PersonSweep
    """
    xy = np.asarray(person_xy, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 2:
        raise ParameterError("person_xy", "shape (n_steps >= 2, 2)", xy.shape)
    if not receivers:
        raise ParameterError("receivers", "at least one receiver", "none")
    with_body = scene.with_people([body.moved(*xy[0])])
    ctf_db, ir_abs, delays = [], [], None
    for rx in receivers.values():
        H, h, delays = channel_view(with_body, rx, freqs_hz, max_order=max_order,
                                    people_xy=xy[:, None, :])
        keep = delays < max_delay_s
        ctf_db.append(20 * np.log10(np.abs(H)))
        ir_abs.append(np.abs(h[:, keep]))
    return PersonSweep(np.asarray(freqs_hz, dtype=float), delays[delays < max_delay_s], xy,
                       {k: np.asarray(v, dtype=float)[:2] for k, v in receivers.items()},
                       np.stack(ctf_db), np.stack(ir_abs))


# ------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------


def _round(values) -> list:
    """Values with :data:`DIGITS` significant digits, as a list of floats."""
    return [float(f"{v:.{DIGITS}g}") for v in np.asarray(values, dtype=float).ravel()]


def _slider(steps: list[dict], prefix: str, active: int = 0) -> dict:
    return {"active": active, "currentvalue": {"prefix": prefix}, "pad": {"t": 40},
            "steps": steps}


def slider_figure(x, curves: Mapping[str, Sequence[Sequence[float]]], labels: Sequence[str], *,
                  prefix: str = "", xaxis_title: str = "", yaxis_title: str = "",
                  active: int = 0):
    """One slider over precomputed curves: step ``k`` shows ``curves[name][k]`` for each name.

    Parameters
    ----------
    x : sequence of float
        Shared abscissa.
    curves : mapping name -> (n_steps, len(x))
        One line per name; its y values for every step.
    labels : sequence of str, length n_steps
        Slider step labels.
    prefix : str
        Text before the current step's label.
    active : int
        Step shown first.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    names = list(curves)
    ys = [np.asarray(curves[n], dtype=float) for n in names]
    n_steps = len(labels)
    if any(y.shape != (n_steps, len(x)) for y in ys):
        raise ParameterError("curves", f"arrays of shape ({n_steps}, {len(x)})",
                             [y.shape for y in ys])
    fig = go.Figure([go.Scatter(x=_round(x), y=_round(y[active]), name=n, mode="lines")
                     for n, y in zip(names, ys, strict=True)])
    steps = [{"label": label, "method": "restyle",
              "args": [{"y": [_round(y[k]) for y in ys]}, list(range(len(ys)))]}
             for k, label in enumerate(labels)]
    fig.update_layout(sliders=[_slider(steps, prefix, active)], xaxis_title=xaxis_title,
                      yaxis_title=yaxis_title, margin={"t": 30})
    return fig


def person_sweep_figure(sweep: PersonSweep, room_wh: tuple[float, float], tx_xy,
                        clutter_xy=None, body_radius_m: float = 0.2, active: int = 0):
    """Room plan, ``|H(f)|`` (dB) and ``|h(t)|`` with one slider step per person position.

    Each step restyles the CTF and impulse-response lines of every receiver and moves the
    person's circle (a layout shape) on the plan: all values are in the figure already.

    Parameters
    ----------
    sweep : PersonSweep
    room_wh : (width, depth), m
    tx_xy : (2,) m
    clutter_xy : (n, 2) m, optional
        Scatterers drawn on the plan.
    body_radius_m : float
    active : int
        Step shown first.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    width, depth = room_wh
    fig = make_subplots(rows=1, cols=3, column_widths=[0.28, 0.4, 0.32], horizontal_spacing=0.1,
                        subplot_titles=("room", "CTF magnitude", "impulse response"))
    if clutter_xy is not None and len(clutter_xy):
        clutter = np.asarray(clutter_xy, dtype=float)
        fig.add_trace(go.Scatter(x=_round(clutter[:, 0]), y=_round(clutter[:, 1]), mode="markers",
                                 marker={"size": 3, "color": "#999"}, name="clutter",
                                 showlegend=False, hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Scatter(x=[float(tx_xy[0])], y=[float(tx_xy[1])], mode="markers",
                             marker={"symbol": "triangle-up", "size": 11, "color": "black"},
                             name="TX"), 1, 1)
    colours = RX_COLOURS
    f_ghz = sweep.freqs_hz / 1e9
    t_ns = sweep.delays_s * 1e9
    moving = []  # indices of the traces every step restyles, in step-args order
    for i, (label, rx) in enumerate(sweep.receivers.items()):
        colour = colours[i % len(colours)]
        fig.add_trace(go.Scatter(x=[float(rx[0])], y=[float(rx[1])], mode="markers",
                                 marker={"size": 10, "color": colour}, name=f"RX {label}",
                                 legendgroup=label), 1, 1)
        fig.add_trace(go.Scatter(x=_round(f_ghz), y=_round(sweep.ctf_db[i, active]),
                                 mode="lines", line={"color": colour, "width": 1},
                                 name=f"|H| {label}", legendgroup=label, showlegend=False), 1, 2)
        fig.add_trace(go.Scatter(x=_round(t_ns), y=_round(sweep.ir_abs[i, active]),
                                 mode="lines", line={"color": colour, "width": 1},
                                 name=f"|h| {label}", legendgroup=label, showlegend=False), 1, 3)
        moving += [len(fig.data) - 2, len(fig.data) - 1]

    def circle(x, y):
        return {"x0": x - body_radius_m, "x1": x + body_radius_m,
                "y0": y - body_radius_m, "y1": y + body_radius_m}

    px, py = sweep.person_xy[active]
    fig.add_shape(type="rect", x0=0, y0=0, x1=width, y1=depth, line={"color": "black"},
                  row=1, col=1)
    fig.add_shape(type="circle", fillcolor=PERSON_COLOUR, line={"color": PERSON_COLOUR},
                  **circle(px, py), row=1, col=1)
    person_shape = len(fig.layout.shapes) - 1
    steps = []
    for k, (x, y) in enumerate(sweep.person_xy):
        ys = []
        for i in range(len(sweep.receivers)):
            ys += [_round(sweep.ctf_db[i, k]), _round(sweep.ir_abs[i, k])]
        shape = {f"shapes[{person_shape}].{key}": _round([value])[0]
                 for key, value in circle(x, y).items()}
        steps.append({"label": f"{x:.2f}", "method": "update",
                      "args": [{"y": ys}, shape, moving]})
    pad = 0.3
    fig.update_xaxes(range=[-pad, width + pad], title_text="x (m)", row=1, col=1)
    fig.update_yaxes(range=[-pad, depth + pad], title_text="y (m)", scaleanchor="x",
                     scaleratio=1, row=1, col=1)
    low = float(np.floor(sweep.ctf_db.min() / 5) * 5)
    high = float(np.ceil(sweep.ctf_db.max() / 5) * 5)
    fig.update_xaxes(title_text="frequency (GHz)", row=1, col=2)
    fig.update_yaxes(title_text="|H| (dB)", range=[low, high], row=1, col=2)
    fig.update_xaxes(title_text="delay (ns)", row=1, col=3)
    fig.update_yaxes(title_text="|h|", range=[0, float(sweep.ir_abs.max()) * 1.05], row=1, col=3)
    fig.update_layout(height=460, margin={"t": 80, "l": 50, "r": 20, "b": 40},
                      legend={"orientation": "h", "y": 1.22, "x": 0, "yanchor": "bottom"},
                      sliders=[_slider(steps, "person x (m): ", active)])
    fig.layout.sliders[0].pad = {"t": 60}
    return fig


def _cdf_points(x, f, max_points: int) -> tuple[list, list]:
    """A step CDF thinned to at most ``max_points`` points (the page stays small)."""
    x, f = np.asarray(x, float), np.asarray(f, float)
    if x.size > max_points:
        keep = np.unique(np.linspace(0, x.size - 1, max_points).round().astype(int))
        x, f = x[keep], f[keep]
    return _round(x), _round(f)


def cdf_figure(groups: Mapping[str, Mapping[str, tuple]], *, xaxis_title: str = "error (m)",
               yaxis_title: str = "share of test samples", marker_x: float | None = None,
               max_points: int = 400, active: int = 0):
    """Error CDFs per model, with one button per group of runs.

    Every trace is in the figure: a button shows one group's lines and hides the others
    (plotly's ``update`` method), and a click on a legend entry hides one model, all in
    the browser.

    Parameters
    ----------
    groups : mapping group label -> mapping line label -> (x (k,), F (k,))
        For example ``{"camera labels": {"CNN": (x, F), ...}, "true positions": {...}}``.
    marker_x : float, optional
        A vertical guide (for example 1 m).
    max_points : int
        Points kept per line.
    active : int
        Group shown first.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    if not groups or any(not lines for lines in groups.values()):
        raise ParameterError("groups", "at least one group, each with at least one line",
                             {k: len(v) for k, v in groups.items()})
    names = list(groups)
    fig = go.Figure()
    owner = []
    for g, name in enumerate(names):
        for label, (x, f) in groups[name].items():
            xs, fs = _cdf_points(x, f, max_points)
            fig.add_trace(go.Scatter(x=xs, y=fs, name=label, mode="lines",
                                     line={"shape": "hv"}, visible=g == active,
                                     legendgroup=label))
            owner.append(g)
    buttons = [{"label": name, "method": "update",
                "args": [{"visible": [o == g for o in owner]}]}
               for g, name in enumerate(names)]
    if len(names) > 1:
        fig.update_layout(updatemenus=[{"type": "buttons", "direction": "right", "x": 0,
                                        "y": 1.15, "xanchor": "left", "active": active,
                                        "buttons": buttons}])
    if marker_x is not None:
        fig.add_vline(x=float(marker_x), line={"color": "grey", "width": 1})
    fig.update_layout(xaxis_title=xaxis_title, yaxis={"title": yaxis_title, "range": [0, 1.02]},
                      margin={"t": 60}, height=420)
    return fig


# ------------------------------------------------------------------------------------------
# Html for the static page
# ------------------------------------------------------------------------------------------


def div_id(name: str) -> str:
    """The deterministic div id of a figure named ``name`` (``wiloc-`` + a slug)."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    if not slug:
        raise ParameterError("name", "a name with at least one letter or digit", name)
    return ID_PREFIX + slug


def to_static_html(fig, name: str = "explorer") -> str:
    """An html snippet that draws ``fig`` with the page's own ``Plotly`` (no plotly.js inside).

    The snippet neither embeds plotly.js nor loads it from a CDN: the page must provide
    ``window.Plotly`` (the book loads ``_vendor/plotly/plotly.min.js`` on every page whose
    body holds a ``plotly-graph-div``; see :mod:`wiloc_core.book`). The div id is
    :func:`div_id` of ``name``, so the same figure gives the same bytes on every build.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    name : str
        Unique on its page.

    Returns
    -------
    str
    """
    import plotly.io as pio

    config = {"displaylogo": False, "responsive": True, "plotlyServerURL": ""}
    return pio.to_html(fig, include_plotlyjs=False, include_mathjax=False, full_html=False,
                       div_id=div_id(name), config=config, validate=True)
