"""A floor of rooms: slab transmission, wall crossings and coupled-room energy."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.sim import building
from wiloc_core.sim.building import (
    Floor,
    coupled_room_energy,
    crossed_walls,
    diffuse_transmission,
    direct_through_walls,
    slab_coefficients,
    slab_power_transmission,
)
from wiloc_core.sim.diffuse import room_diffuse_field
from wiloc_core.sim.scene import SPEED_OF_LIGHT, Material, Room, Scene, material, wavelength

F = 2.4e9
LOSSLESS = Material("lossless", 4.0)
ROOM = Room(10.0, 8.0, 3.0, default="plasterboard")
TX = np.array([3.0, 4.0, 1.5])


@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_lossless_slab_conserves_power_and_half_wave_slab_is_transparent(pol):
    cos_t = np.linspace(0.05, 1.0, 9)
    r, t = slab_coefficients(LOSSLESS, 0.07, F, cos_t, pol)
    np.testing.assert_allclose(np.abs(r) ** 2 + np.abs(t) ** 2, 1.0, atol=1e-12)
    # At normal incidence a slab half a wavelength thick inside the material (q = pi)
    # reflects nothing.
    half_wave = float(wavelength(F)) / (2 * np.sqrt(4.0))
    r0, t0 = slab_coefficients(LOSSLESS, half_wave, F, 1.0, pol)
    assert abs(r0) == pytest.approx(0.0, abs=1e-12)
    assert abs(t0) == pytest.approx(1.0, abs=1e-12)


def test_tm_wave_at_brewster_angle_passes_a_lossless_slab_and_a_lossy_slab_absorbs():
    # tan(theta_B) = sqrt(eps_r): no TM reflection at either face, so |T| = 1.
    cos_b = np.cos(np.arctan(np.sqrt(4.0)))
    r, t = slab_coefficients(LOSSLESS, 0.05, F, cos_b, "TM")
    assert abs(r) == pytest.approx(0.0, abs=1e-12) and abs(t) == pytest.approx(1.0, abs=1e-12)
    assert abs(slab_coefficients(LOSSLESS, 0.05, F, cos_b, "TE")[0]) > 0.1
    for pol in ("TE", "TM"):
        r, t = slab_coefficients(material("concrete"), 0.1, F, np.linspace(0.1, 1.0, 5), pol)
        assert np.all(np.abs(r) ** 2 + np.abs(t) ** 2 < 1 - 1e-3)


def test_zero_thickness_passes_everything():
    r, t = slab_coefficients(material("concrete"), 0.0, F, [0.3, 1.0])
    np.testing.assert_allclose(np.abs(r), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(t), 1.0, atol=1e-12)
    assert diffuse_transmission(material("concrete"), 0.0, F) == pytest.approx(1.0, abs=1e-5)


def test_thick_lossy_slab_is_two_interfaces_and_exponential_decay():
    # With e^{-2jq} negligible the denominator is 1: |T|^2 = |1 - Gamma^2|^2 e^{2 Im q}.
    concrete = material("concrete")
    d = 1.0
    gamma = concrete.reflection(F, 1.0, "TE")
    q = 2 * np.pi * d / float(wavelength(F)) * np.sqrt(concrete.permittivity(F))
    expected = abs(1 - gamma**2) ** 2 * np.exp(2 * q.imag)
    assert slab_power_transmission(concrete, d, F, 1.0) == pytest.approx(expected, rel=1e-9)
    # Twenty centimetres of concrete: a heavy interior wall, 10-20 dB at 2.4 GHz.
    loss_db = -10 * np.log10(slab_power_transmission(concrete, 0.2, F, 1.0))
    assert 10 < loss_db < 20
    with pytest.raises(ParameterError, match="thickness_m"):
        slab_coefficients(concrete, -0.1, F, 1.0)


def test_crossed_walls_and_room_index():
    assert list(crossed_walls(0)) == []
    assert list(crossed_walls(2)) == [1, 2]
    assert list(crossed_walls(-2)) == [-1, 0]
    floor = Floor(ROOM, rings=2)
    idx = floor.room_index([[5.0, 4.0, 1.5], [12.0, -1.0, 1.5], [-15.0, 17.0, 1.0]])
    np.testing.assert_array_equal(idx, [[0, 0], [1, -1], [-2, 2]])
    np.testing.assert_allclose(floor.extent, [[-20.0, -16.0], [30.0, 24.0]])


def test_mirrored_floor_alternates_the_rooms_own_walls():
    room = Room(10.0, 8.0, 3.0, walls={"x1": "glass"}, default="concrete")
    floor = Floor(room, partition=None)
    assert floor.wall(0, 0).name == "concrete" and floor.wall(0, 1).name == "glass"
    assert floor.wall(0, -1).name == "glass" and floor.wall(1, 1).name == "concrete"
    assert Floor(room).wall(0, 1).name == "plasterboard"


def test_direct_ray_is_free_space_inside_and_loses_each_crossed_wall():
    floor = Floor(ROOM, rings=2)
    rx = np.array([[8.0, 4.0, 1.5], [13.0, 4.0, 1.5], [23.0, 4.0, 1.5], [3.0, -4.0, 1.5]])
    d = np.linalg.norm(rx - TX, axis=1)
    free = (float(wavelength(F)) / (4 * np.pi * d)) ** 2
    one_wall = slab_power_transmission(material("plasterboard"), 0.025, F, 1.0)
    got = direct_through_walls(floor, TX, rx, F)
    np.testing.assert_allclose(got, free * np.array([1, one_wall, one_wall**2, one_wall]),
                               rtol=1e-12)


def test_direct_ray_at_an_angle_crosses_the_own_walls_of_a_mirrored_floor():
    # Room (-1, -2) from TX: walls x = 0 (x0, concrete) and y = 0 (y0), y = -8 (y1, glass),
    # each at the ray's own incidence angle.
    room = Room(10.0, 8.0, 3.0, walls={"x1": "glass", "y1": "glass"}, default="concrete")
    floor = Floor(room, rings=2, partition=None)
    rx = np.array([[-4.0, -10.0, 1.5]])
    delta = rx[0] - TX
    d = np.linalg.norm(delta)
    cos_x, cos_y = abs(delta[0]) / d, abs(delta[1]) / d
    expected = (float(wavelength(F)) / (4 * np.pi * d)) ** 2
    expected *= slab_power_transmission(material("concrete"), 0.2, F, cos_x)
    expected *= slab_power_transmission(material("concrete"), 0.2, F, cos_y)
    expected *= slab_power_transmission(material("glass"), 0.01, F, cos_y)
    np.testing.assert_allclose(direct_through_walls(floor, TX, rx, F), [expected], rtol=1e-12)


def test_coupled_energy_first_order_is_the_flux_through_one_wall():
    # For weak coupling E(1,0) / E(0,0) -> T c A tau_d / (4 V) (power on a wall of area A
    # in a diffuse field of energy W is c W A / (4 V)).
    floor = Floor(ROOM, partition="concrete")
    t_rev = 20e-9
    energy = coupled_room_energy(floor, t_rev, F)
    tau_d = diffuse_transmission(material("concrete"), building.WALL_THICKNESS_M["concrete"], F)
    kappa = t_rev * SPEED_OF_LIGHT * (8.0 * 3.0) * tau_d / (4 * 240.0)
    kappa_y = kappa * 10.0 / 8.0                      # the y walls are 10 m long, not 8
    assert energy[(1, 0)] / energy[(0, 0)] == pytest.approx(kappa, rel=3 * kappa)
    assert energy[(1, 0)] == pytest.approx(energy[(-1, 0)], rel=1e-12)
    # What flows back from the four neighbours: second order.
    assert energy[(0, 0)] / t_rev - 1 == pytest.approx(2 * kappa**2 + 2 * kappa_y**2, rel=0.05)
    # The corner room is reached only through two walls.
    assert energy[(1, 1)] < energy[(1, 0)] * 10 * kappa


def test_coupling_uses_the_wall_between_the_two_rooms():
    # Own walls of a mirrored floor: (1, 0) couples through the wall at x = W (x1, glass),
    # (-1, 0) through the wall at x = 0 (x0, concrete).
    room = Room(10.0, 8.0, 3.0, walls={"x1": "glass"}, default="concrete")
    floor = Floor(room, partition=None)
    t_rev = 20e-9
    energy = coupled_room_energy(floor, t_rev, F)

    def kappa(name):
        t_w = diffuse_transmission(material(name), building.WALL_THICKNESS_M[name], F)
        return t_rev * SPEED_OF_LIGHT * 24.0 * t_w / (4 * 240.0)

    assert energy[(1, 0)] / energy[(0, 0)] == pytest.approx(kappa("glass"), rel=0.05)
    assert energy[(-1, 0)] / energy[(0, 0)] == pytest.approx(kappa("concrete"), rel=0.05)


def test_energy_after_a_delay_builds_up_then_decays_in_a_neighbour():
    # First order: W_(1,0)(t) = k t e^{-t/T}, so its integral from tau on is
    # k T (T + tau) e^{-tau/T}; at tau = 0 it is the whole coupled energy.
    floor = Floor(ROOM, partition="concrete")
    t_rev = 20e-9
    rooms = building.floor_rooms(floor)
    rates = building.room_energy_rates(floor, t_rev, F)
    k = rates[rooms.index((1, 0)), rooms.index((0, 0))]
    after = building.room_energy_after(floor, t_rev, F, [0.0, t_rev, 3 * t_rev])
    whole = coupled_room_energy(floor, t_rev, F)
    assert after[0, rooms.index((1, 0))] == pytest.approx(whole[(1, 0)], rel=1e-9)
    for row, tau in ((1, t_rev), (2, 3 * t_rev)):
        first_order = k * t_rev * (t_rev + tau) * np.exp(-tau / t_rev)
        assert after[row, rooms.index((1, 0))] == pytest.approx(first_order, rel=0.05)
    # the source room decays as e^{-tau/T} (plus what flows back)
    assert after[1, rooms.index((0, 0))] == pytest.approx(t_rev * np.exp(-1.0), rel=0.02)


def test_floor_power_matches_trace_inside_and_falls_through_walls():
    scene = Scene(ROOM, TX, diffuse=room_diffuse_field(ROOM, F, absorption=0.5, seed=0))
    floor = Floor(ROOM, rings=1)
    rx = np.array([[8.0, 4.0, 1.5], [13.0, 4.0, 1.5], [18.0, 4.0, 1.5]])
    power = building.floor_power(scene, floor, rx)
    from wiloc_core.sim.paths import trace

    assert power[0] == pytest.approx(trace(scene, rx[:1]).power()[0], rel=1e-12)
    assert power[0] > power[1] > power[2] > direct_through_walls(floor, TX, rx[2:], F)[0]


def test_floor_rejects_bad_input():
    with pytest.raises(ParameterError, match="rings"):
        Floor(ROOM, rings=0)
    with pytest.raises(ParameterError, match="material"):
        Floor(ROOM, partition="unobtainium")
    with pytest.raises(ParameterError, match="partition"):
        Floor(ROOM, partition="absorber")
    with pytest.raises(ParameterError, match="min_distance_m"):
        building.floor_receivers(Floor(ROOM), TX, 5, height_m=1.5, min_distance_m=100.0)
    with pytest.raises(ParameterError, match="scene.diffuse"):
        building.floor_power(Scene(ROOM, TX), Floor(ROOM), [[5.0, 4.0, 1.5]])
