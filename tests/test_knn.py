import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.methods.knn import WeightedKNN, choose_k, neighbours, position_groups


def test_neighbours_on_a_line():
    train = np.array([[0.0], [1.0], [3.0], [7.0]])
    index, distance = neighbours(train, np.array([[2.9], [0.2]]), k=2)
    assert index.tolist() == [[2, 1], [0, 1]]
    np.testing.assert_allclose(distance, [[0.1, 1.9], [0.2, 0.8]])


def test_manhattan_and_euclidean_differ_as_expected():
    train = np.array([[0.0, 0.0], [3.0, 4.0]])
    _, d_e = neighbours(train, np.array([[0.0, 0.0]]), k=2, metric="euclidean")
    _, d_m = neighbours(train, np.array([[0.0, 0.0]]), k=2, metric="manhattan")
    np.testing.assert_allclose(d_e, [[0.0, 5.0]])
    np.testing.assert_allclose(d_m, [[0.0, 7.0]])


def test_weighted_estimate_by_hand():
    # query at 1 in signal space; neighbours at 0 (d=1) and 3 (d=2): weights 1 and 1/2
    # -> normalised 2/3 and 1/3; positions (0,0) and (3,3) -> (1, 1).
    model = WeightedKNN(k=2).fit(np.array([[0.0], [3.0], [10.0]]),
                                 np.array([[0.0, 0.0], [3.0, 3.0], [9.0, 9.0]]),
                                 floor=np.array([0, 1, 1]), building=np.array([2, 2, 2]))
    xy, floor, building = model.predict(np.array([[1.0]]))
    np.testing.assert_allclose(xy, [[1.0, 1.0]], atol=1e-5)
    assert floor.tolist() == [0] and building.tolist() == [2]


def test_choose_k_prefers_averaging_on_noisy_data():
    gen = np.random.default_rng(0)
    xy = gen.uniform(0, 10, size=(400, 2))
    features = np.hstack([xy, xy]) + gen.normal(0, 1.5, size=(400, 4))
    best, errors = choose_k(features, xy, [1, 5, 9], seed=0)
    assert best > 1 and errors[best] < errors[1]


def test_bad_inputs_are_named():
    with pytest.raises(ParameterError, match="k"):
        neighbours(np.zeros((3, 2)), np.zeros((1, 2)), k=4)
    with pytest.raises(ParameterError, match="query_x"):
        neighbours(np.zeros((3, 2)), np.zeros((1, 3)), k=1)
    with pytest.raises(ParameterError, match="train_x"):
        neighbours(np.full((3, 2), np.nan), np.zeros((1, 2)), k=1)


def test_grouped_split_keeps_reference_points_together():
    # Two scans per point, identical features: an ungrouped split mostly finds the twin
    # (error 0); a grouped one never can, so every k=1 error is at least the 1 m spacing.
    xy = np.repeat(np.arange(20, dtype=float)[:, None] * [1.0, 0.0], 2, axis=0)
    x = xy[:, :1].copy()
    _, ungrouped = choose_k(x, xy, [1], seed=1)
    groups = position_groups(xy)
    assert groups.tolist() == np.repeat(np.arange(20), 2).tolist()
    _, grouped = choose_k(x, xy, [1], seed=1, groups=groups)
    assert ungrouped[1] < 1.0 <= grouped[1]
