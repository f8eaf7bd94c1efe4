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


# -- representations and distances (Torres-Sospedra et al. 2015) -------------------------
from scipy.spatial import distance as scipy_distance  # noqa: E402

from wiloc_core.methods.knn import (  # noqa: E402
    DISTANCES,
    REPRESENTATIONS,
    KNNConfig,
    bar_settings,
    lowest_reading,
    pairwise_distances,
    represent,
    select_configuration,
)

#: Two scans of four APs, dBm, 100 = not heard.
RSS = np.array([[-40.0, -80.0, 100.0, -100.0],
                [100.0, -60.0, -90.0, 100.0]])


def test_lowest_reading_ignores_not_heard_markers():
    assert lowest_reading(RSS) == -100.0
    with pytest.raises(ParameterError, match="rss"):
        lowest_reading(np.full((2, 3), 100.0))


def test_representations_by_hand():
    # min = -100: pos = r + 100 -> [[60, 20, 0, 0], [0, 40, 10, 0]]
    pos = np.array([[60.0, 20.0, 0.0, 0.0], [0.0, 40.0, 10.0, 0.0]])
    np.testing.assert_allclose(represent(RSS, "positive", -100.0), pos)
    np.testing.assert_allclose(represent(RSS, "exponential", -100.0),
                               np.exp(pos / 24.0) / np.exp(100.0 / 24.0))
    np.testing.assert_allclose(represent(RSS, "powed", -100.0), (pos / 100.0) ** np.e)
    # 0 dBm maps to 1 in exponential and powed; a missing AP to exp(min/alpha) and 0.
    top = represent(np.array([[0.0, 100.0]]), "exponential", -100.0)
    np.testing.assert_allclose(top, [[1.0, np.exp(-100.0 / 24.0)]])
    np.testing.assert_allclose(represent(np.array([[0.0, 100.0]]), "powed", -100.0), [[1.0, 0.0]])
    with pytest.raises(ParameterError, match="representation"):
        represent(RSS, "logarithmic", -100.0)
    with pytest.raises(ParameterError, match="min_rss"):
        represent(RSS, "powed", 5.0)


@pytest.mark.parametrize("representation", REPRESENTATIONS)
@pytest.mark.parametrize("name, scipy_name", [("euclidean", "euclidean"),
                                              ("manhattan", "cityblock"),
                                              ("sorensen", "braycurtis")])
def test_distances_match_scipy(representation, name, scipy_name):
    gen = np.random.default_rng(1)
    rss = np.where(gen.random((30, 40)) < 0.15, gen.integers(-100, -30, (30, 40)), 100.0)
    x = represent(rss, representation, -100.0)
    expected = scipy_distance.cdist(x[:7], x, metric=scipy_name)
    # Euclidean goes through |a|^2 + |b|^2 - 2 a.b: a square root of rounding near 0.
    atol = 1e-7 if name == "euclidean" else 1e-12
    np.testing.assert_allclose(pairwise_distances(x[:7], x, name), expected, atol=atol)


def test_squared_chord_by_hand_and_as_sqeuclidean_of_roots():
    a, b = np.array([[4.0, 9.0, 0.0]]), np.array([[1.0, 16.0, 25.0]])
    # (2-1)^2 + (3-4)^2 + (0-5)^2 = 27
    np.testing.assert_allclose(pairwise_distances(a, b, "squared_chord"), [[27.0]])
    gen = np.random.default_rng(2)
    x = gen.random((10, 6)) * (gen.random((10, 6)) < 0.5)
    np.testing.assert_allclose(pairwise_distances(x, x, "squared_chord"),
                               scipy_distance.cdist(np.sqrt(x), np.sqrt(x), "sqeuclidean"),
                               atol=1e-12)


def test_sorensen_closed_form_and_edge_cases():
    a, b = np.array([[1.0, 0.0, 3.0]]), np.array([[0.0, 2.0, 1.0]])
    # |1| + |2| + |2| = 5 over 1 + 2 + 4 = 7
    np.testing.assert_allclose(pairwise_distances(a, b, "sorensen"), [[5 / 7]])
    zero = np.zeros((1, 3))
    np.testing.assert_allclose(pairwise_distances(zero, zero, "sorensen"), [[0.0]])
    with pytest.raises(ParameterError, match="non-negative"):
        pairwise_distances(-a, b, "sorensen")


def test_manhattan_sparse_and_dense_paths_agree_with_negative_values():
    gen = np.random.default_rng(3)
    sparse = np.where(gen.random((20, 50)) < 0.05, gen.normal(size=(20, 50)), 0.0) - 2.0
    dense = gen.normal(size=(20, 50))
    for x in (sparse, dense):
        np.testing.assert_allclose(pairwise_distances(x[:5], x, "manhattan"),
                                   scipy_distance.cdist(x[:5], x, "cityblock"), atol=1e-12)


@pytest.mark.parametrize("metric", DISTANCES)
def test_neighbours_in_blocks_equal_one_pass(metric, monkeypatch):
    from wiloc_core.methods import knn

    gen = np.random.default_rng(4)
    x = represent(np.where(gen.random((60, 30)) < 0.2, gen.integers(-95, -40, (60, 30)), 100.0),
                  "positive", -100.0)
    whole = neighbours(x, x[:25], 4, metric)
    monkeypatch.setattr(knn, "QUERY_BLOCK", 7)
    blocked = neighbours(x, x[:25], 4, metric)
    np.testing.assert_array_equal(whole[0], blocked[0])
    np.testing.assert_allclose(whole[1], blocked[1])
    reference = {"euclidean": lambda a, b: scipy_distance.cdist(a, b, "euclidean"),
                 "manhattan": lambda a, b: scipy_distance.cdist(a, b, "cityblock"),
                 "sorensen": lambda a, b: scipy_distance.cdist(a, b, "braycurtis"),
                 "squared_chord": lambda a, b: scipy_distance.cdist(np.sqrt(a), np.sqrt(b),
                                                                    "sqeuclidean")}[metric]
    order = np.argsort(reference(x[:25], x), axis=1, kind="stable")[:, :1]
    np.testing.assert_array_equal(whole[0][:, :1], order)


def test_selection_picks_the_configuration_that_locates():
    # Ten reference points on a line, three scans each. AP 0 carries the position
    # (-90 dBm at x = 0 up to -45 dBm at x = 9); AP 1 is a strong AP that every scan
    # hears with large random swings. In positive/Euclidean the swings of AP 1 dominate;
    # Sørensen on the powed representation too. Chosen only where the grid holds the
    # pair that ignores AP 1 best, the selection must return the lowest validation error.
    gen = np.random.default_rng(5)
    x_m = np.repeat(np.arange(10.0), 3)
    rss = np.stack([-90.0 + 5.0 * x_m, gen.uniform(-45.0, -30.0, size=30)], axis=1)
    xy = np.stack([x_m, np.zeros_like(x_m)], axis=1)
    groups = position_groups(xy)
    best, errors = select_configuration(rss, xy, k_candidates=[1, 2, 3], groups=groups,
                                        validation_fraction=0.3, seed=0, min_rss=-100.0)
    assert isinstance(best, KNNConfig)
    assert set(errors) == {(r, d) for r in REPRESENTATIONS for d in DISTANCES}
    flat = {(r, d, k): e for (r, d), by_k in errors.items() for k, e in by_k.items()}
    lowest = min(flat.values())
    assert flat[(best.representation, best.distance, best.k)] == lowest
    # and it is a real choice: some configuration is clearly worse than the chosen one
    assert max(flat.values()) > lowest + 0.5
    # a grid of one configuration returns it
    only, _ = select_configuration(rss, xy, representations=["powed"], distances=["sorensen"],
                                   k_candidates=[2], groups=groups, seed=0, min_rss=-100.0)
    assert (only.representation, only.distance, only.k, only.min_rss) == ("powed", "sorensen", 2,
                                                                         -100.0)


def test_selection_on_a_hand_made_case_with_a_known_answer():
    # Positions 0 to 5 m (two identical scans each); AP 0 reads the position in 10 dB
    # steps. The held-out point (one of 1-4 m, seed chosen below) has a neighbour point on
    # each side at the same distance: k = 1 finds one of them and errs 1 m; k = 4 takes
    # both scans of both and averages them to the true position.
    x_m = np.repeat([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 2)
    rss = np.stack([-90.0 + 10.0 * x_m, np.full_like(x_m, 100.0)], axis=1)
    xy = np.stack([x_m, np.zeros_like(x_m)], axis=1)
    groups = position_groups(xy)
    for seed in range(20):
        from wiloc_core.methods.knn import _validation_split

        _, val = _validation_split(groups, 0.2, seed)
        if set(x_m[val]) <= {1.0, 2.0, 3.0, 4.0}:
            break
    best, errors = select_configuration(rss, xy, representations=["positive"],
                                        distances=["euclidean", "manhattan"],
                                        k_candidates=[1, 4], groups=groups, seed=seed,
                                        min_rss=-100.0)
    assert errors[("positive", "euclidean")][1] == pytest.approx(1.0)
    assert errors[("positive", "euclidean")][4] == pytest.approx(0.0, abs=1e-4)
    assert errors[("positive", "manhattan")] == pytest.approx(errors[("positive", "euclidean")])
    # equal errors: the earlier distance of the list wins
    assert (best.representation, best.distance, best.k) == ("positive", "euclidean", 4)


def test_bar_settings_are_chapter_00s_grid():
    quick, full = bar_settings("quick"), bar_settings("full")
    assert set(quick) == {"representations", "distances", "k_candidates", "validation_fraction"}
    assert full["representations"] == list(REPRESENTATIONS)
    assert full["distances"] == list(DISTANCES)
    assert bar_settings("paper") == full


def test_config_describes_itself_for_a_page():
    config = KNNConfig("powed", "sorensen", 13, -104.0)
    assert config.describe() == "powed representation, Sørensen distance"
    assert KNNConfig("positive", "squared_chord", 3, -104.0).describe().endswith("squared chord distance")


def _hand_dataset(train_xy, test_xy, test_floor=None):
    """One AP per axis whose reading is minus the coordinate (dBm): a scan locates exactly."""
    from wiloc_core.data import FingerprintDataset, FingerprintSet

    def split(xy, which, floor):
        xy = np.asarray(xy, dtype=float)
        return FingerprintSet(rss=-30.0 - xy, xy=xy, height=np.zeros(len(xy)),
                              floor=np.zeros(len(xy), int) if floor is None else np.asarray(floor),
                              building=np.zeros(len(xy), int), name="hand", split=which,
                              source_kind="simulated", source="test")

    return FingerprintDataset(train=split(train_xy, "train", None),
                              test=split(test_xy, "test", test_floor), name="hand",
                              source_kind="simulated")


def test_share_of_test_scans_at_reference_points_by_hand():
    from wiloc_core.methods.knn import share_at_reference_points

    ds = _hand_dataset([[0, 0], [0, 0], [10, 0], [20, 5]],
                       [[0.3, 0.0], [10, 0.6], [20, 5], [5, 5]], test_floor=[0, 0, 1, 0])
    # (0.3, 0) is 0.3 m from a point; (10, 0.6) 0.6 m; (20, 5) is on floor 1, where the
    # survey has no point; (5, 5) is far from all
    assert share_at_reference_points(ds) == 0.25
    assert share_at_reference_points(ds, tolerance_m=1.0) == 0.5
    with pytest.raises(ParameterError, match="tolerance_m"):
        share_at_reference_points(ds, tolerance_m=0)


def test_hindsight_errors_use_each_pairs_validated_k_on_the_test_scans():
    from wiloc_core.methods.knn import evaluate_weighted_knn, represent, test_errors_in_hindsight
    from wiloc_core.metrics import positioning_errors

    gen = np.random.default_rng(3)
    grid = np.array([[x, y] for x in range(0, 40, 4) for y in range(0, 40, 4)], float)
    ds = _hand_dataset(np.repeat(grid, 2, axis=0), gen.uniform(0, 36, size=(30, 2)))
    ev = evaluate_weighted_knn(ds, [1, 2, 4], representations=("positive", "powed"),
                               distances=("euclidean", "manhattan"), seed=0)
    hindsight = test_errors_in_hindsight(ds, ev)
    assert sorted(hindsight) == sorted(ev.validation_errors)
    for (representation, distance), (k, mae) in hindsight.items():
        by_k = ev.validation_errors[(representation, distance)]
        assert by_k[k] == min(by_k.values())
        # the same prediction by hand, with the evaluation's r_min
        model = WeightedKNN(k, distance).fit(
            represent(ds.train.rss, representation, ev.config.min_rss), ds.train.xy)
        xy, _, _ = model.predict(represent(ds.test.rss, representation, ev.config.min_rss))
        assert mae == pytest.approx(positioning_errors(xy, ds.test.xy).mean())
    chosen = hindsight[(ev.config.representation, ev.config.distance)]
    assert chosen[1] == pytest.approx(ev.errors.mean())     # the bar itself, unchanged
    with pytest.raises(ParameterError, match="max_train_samples"):
        test_errors_in_hindsight(ds, ev, max_train_samples=10)
