"""Scene and propagation against closed forms: free space, image method, reciprocity."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.sim import channel
from wiloc_core.sim.paths import KIND_CODES, image_lattice, trace
from wiloc_core.sim.scene import (
    SPEED_OF_LIGHT,
    Material,
    Person,
    Room,
    Scatterers,
    Scene,
    material,
    random_clutter,
)

FC = 2.4e9


def test_free_space_amplitude_and_phase():
    scene = Scene(None, [0.0, 0.0, 1.0], carrier_hz=FC)
    d = np.array([0.5, 1.0, 3.7, 12.0])
    rx = np.column_stack([d, np.zeros(4), np.ones(4)])
    f = channel.frequency_grid(FC, 100e6, 601)
    H = channel.ctf(trace(scene, rx), f)
    lam = SPEED_OF_LIGHT / FC
    np.testing.assert_allclose(np.abs(H), (lam / (4 * np.pi * d))[:, None] * np.ones_like(f),
                               rtol=1e-12)
    expected = np.exp(-2j * np.pi * np.outer(d, f) / SPEED_OF_LIGHT)
    np.testing.assert_allclose(H / np.abs(H), expected, atol=1e-9)
    # With the exact Friis 1/f factor, |H(f)| = c / (4 pi f d) at every frequency.
    Hf = channel.ctf(trace(scene, rx), f, per_frequency_spreading=True)
    np.testing.assert_allclose(np.abs(Hf), SPEED_OF_LIGHT / (4 * np.pi * np.outer(d, f)),
                               rtol=1e-12)


def test_image_counts_match_closed_form():
    for k in range(5):
        n2 = len(image_lattice(k, floor_ceiling=False)[0])
        n3 = len(image_lattice(k)[0])
        assert n2 == 1 + sum(4 * j for j in range(1, k + 1))
        assert n3 == 1 + sum(4 * j * j + 2 for j in range(1, k + 1))


def test_first_order_gives_exactly_four_wall_images_at_right_delays():
    room = Room(5.0, 4.0, 3.0, default=Material("test", gamma=-0.5), floor_ceiling=False)
    tx = np.array([1.0, 1.5, 1.2])
    rx = np.array([3.5, 2.5, 1.2])
    paths = trace(Scene(room, tx, carrier_hz=FC), rx, max_order=1)
    assert paths.n_paths == 5
    assert np.sum(paths.kind == KIND_CODES["wall"]) == 4
    images = np.array([[-tx[0], tx[1], tx[2]], [2 * 5.0 - tx[0], tx[1], tx[2]],
                       [tx[0], -tx[1], tx[2]], [tx[0], 2 * 4.0 - tx[1], tx[2]]])
    d_img = np.sort(np.linalg.norm(images - rx, axis=1))
    wall = paths.kind == KIND_CODES["wall"]
    np.testing.assert_allclose(np.sort(paths.tau[0, wall]), d_img / SPEED_OF_LIGHT, rtol=1e-12)
    lam = SPEED_OF_LIGHT / FC
    order = np.argsort(paths.tau[0, wall])
    np.testing.assert_allclose(paths.a[0, wall][order], 0.5 * lam / (4 * np.pi * d_img), rtol=1e-12)
    np.testing.assert_allclose(np.cos(paths.theta[0, wall]), -1.0)


def test_floor_and_ceiling_add_two_first_order_images():
    room = Room(5.0, 4.0, 3.0)
    paths = trace(Scene(room, [1, 1, 1], carrier_hz=FC), [3, 3, 2], max_order=1)
    assert paths.n_paths == 7
    flat = trace(Scene(room, [1, 1, 1], carrier_hz=FC), [3, 3, 2], max_order=1, floor_ceiling=False)
    assert flat.n_paths == 5


def test_fresnel_limits():
    concrete = material("concrete")
    # Normal incidence: |Gamma| = |(1 - sqrt(eta)) / (1 + sqrt(eta))|; ITU-R P.2040-3 concrete at
    # 2.4 GHz has eta = 5.24 - 0.69j, so |Gamma| = 0.395.
    eta = concrete.permittivity(2.4e9)
    expected = abs((1 - np.sqrt(eta)) / (1 + np.sqrt(eta)))
    assert abs(concrete.reflection(2.4e9, 1.0, "TE")) == pytest.approx(expected, rel=1e-12)
    assert abs(concrete.reflection(2.4e9, 1.0, "TE")) == pytest.approx(0.395, abs=0.005)
    # Grazing incidence reflects totally, and metal is a perfect reflector.
    assert abs(concrete.reflection(2.4e9, 0.0, "TE")) == pytest.approx(1.0, abs=1e-9)
    assert abs(material("metal").reflection(2.4e9, 0.7, "TE")) == pytest.approx(1.0, abs=1e-3)


def _busy_scene():
    room = Room(6.0, 5.0, 3.0, walls={"x1": "glass", "ceiling": "ceiling_board"})
    clutter = random_clutter(room, 1.0, seed=4)
    return Scene(room, [1.0, 1.2, 1.4], carrier_hz=FC, scatterers=clutter,
                 people=(Person(3.0, 2.0), Person(4.5, 3.5, loss_db=10)))


def test_reciprocity_swapping_tx_and_rx_leaves_h_unchanged():
    scene = _busy_scene()
    rx = np.array([4.8, 3.9, 0.9])
    f = channel.frequency_grid(FC, 100e6, 201)
    forward = channel.ctf(trace(scene, rx, max_order=3), f)
    backward = channel.ctf(trace(scene.with_tx(rx), scene.tx, max_order=3), f)
    np.testing.assert_allclose(backward, forward, rtol=1e-10, atol=1e-15)


def test_person_blocks_los_and_scatters():
    scene = Scene(None, [0.0, 0.0, 1.0], carrier_hz=FC, people=(Person(2.0, 0.0, loss_db=9.0),))
    paths = trace(scene, [4.0, 0.0, 1.0])
    assert paths.los_loss_db[0] == pytest.approx(9.0)
    person = paths.kind == KIND_CODES["person"]
    d1 = np.hypot(2.0, 0.1)  # torso at 1.1 m, antennas at 1.0 m
    assert paths.tau[0, person][0] == pytest.approx(2 * d1 / SPEED_OF_LIGHT)
    # Far from the link: no loss; above the person's head: no loss either.
    away = trace(scene.with_people([Person(2.0, 3.0)]), [4.0, 0.0, 1.0])
    assert away.los_loss_db[0] < 1e-6
    high = trace(Scene(None, [0, 0, 2.5], people=(Person(2.0, 0.0),)), [4.0, 0.0, 2.5])
    assert high.los_loss_db[0] == 0.0


def test_person_blocks_only_the_reflection_it_stands_in():
    room = Room(5.0, 4.0, 3.0, floor_ceiling=False)
    tx, rx = np.array([1.0, 2.0, 1.0]), np.array([4.0, 2.0, 1.0])
    # The y = 0 reflection runs (1, 2) -> (2.5, 0) -> (4, 2); (2.2, 0.4) lies on it.
    scene = Scene(room, tx, carrier_hz=FC, people=(Person(2.2, 0.4, loss_db=7.0),))
    paths = trace(scene, rx, max_order=1)
    images = (1 - 2 * image_lattice(1, floor_ceiling=False)[0]) * tx \
        + 2 * image_lattice(1, floor_ceiling=False)[1] * room.size
    y0 = np.nonzero(np.isclose(images[:, 1], -tx[1]))[0][0]
    assert paths.loss_db[0, y0] == pytest.approx(7.0)
    others = [i for i in range(5) if i != y0]
    assert np.all(paths.loss_db[0, others] < 1e-6)


def test_moving_person_matches_static_traces():
    scene = _busy_scene()
    rx = np.array([5.0, 4.0, 1.0])
    xy = np.array([[[2.0, 2.0], [4.5, 3.5]], [[3.0, 2.6], [1.0, 4.0]]])
    moving = trace(scene, rx, max_order=2, people_xy=xy)
    f = channel.frequency_grid(FC, 100e6, 101)
    H_moving = channel.ctf(moving, f)   # static paths share one table, people move
    for i in range(2):
        people = [p.moved(*xy[i, j]) for j, p in enumerate(scene.people)]
        static = trace(scene.with_people(people), rx, max_order=2)
        np.testing.assert_allclose(moving.a[i], static.a[0], rtol=1e-12)
        np.testing.assert_allclose(moving.tau[i], static.tau[0], rtol=1e-12)
        np.testing.assert_allclose(H_moving[i], channel.ctf(static, f)[0], rtol=1e-10)


def test_same_seed_same_clutter_and_paths():
    room = Room(6.0, 5.0, 3.0)
    a = random_clutter(room, 2.0, seed=11)
    b = random_clutter(room, 2.0, seed=11)
    c = random_clutter(room, 2.0, seed=12)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.positions.shape != c.positions.shape or not np.array_equal(a.positions, c.positions)


def test_bad_parameters_raise_parameter_error():
    room = Room(5.0, 4.0, 3.0)
    scene = Scene(room, [1, 1, 1])
    with pytest.raises(ParameterError, match="rx"):
        trace(scene, [6.0, 1.0, 1.0])
    with pytest.raises(ParameterError, match="tx"):
        Scene(room, [1, 1, 4])
    with pytest.raises(ParameterError):
        Room(5.0, -1.0, 3.0)
    with pytest.raises(ParameterError, match="material"):
        material("cheese")
    with pytest.raises(ParameterError, match="max_order"):
        trace(scene, [2, 2, 1], max_order=-1)
    with pytest.raises(ParameterError, match="people_xy"):
        trace(scene, [2, 2, 1], people_xy=np.zeros((3, 1, 2)))
    with pytest.raises(ParameterError, match="rcs"):
        Scatterers([[1, 1, 1]], [-1.0], [0.0])
