"""Tests of weightinit.chapters.learning: the runner and measurements behind the chapter "No silver
bullet", and the chapter's claims pinned as properties of its fixed setup (CIRCLES_SETUP).

Seeds are fixed, so every run is deterministic. The one statistical check (the spread of the
"large" scheme's weights) uses the exact chi-square band of weightinit.stats at a false-failure
probability of at most ALPHA = 1e-9. No expected value below is copied from a run: each is an
independent computation, a formula, or an inequality that states the chapter's claim.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from weightinit.chapters import learning as ex
from weightinit.simulation.datasets import circles, train_test_split
from weightinit.simulation.training import (
    LARGE_STD,
    SCHEMES,
    SMALL_STD,
    forward,
    init_mlp,
    loss_and_grads,
    predict,
    predict_proba,
    train,
    unit_spread,
)
from weightinit.stats import ALPHA, variance_ratio_band

SETUP = ex.CIRCLES_SETUP
SIZES = list(SETUP.layer_sizes)
LAYERS = list(zip(SIZES[:-1], SIZES[1:], strict=True))


@pytest.fixture(scope="module")
def data():
    return ex.circles_split(SETUP)


@pytest.fixture(scope="module")
def runs(data):
    """The chapter's five runs, exactly as the page makes them."""
    X_train, X_test, y_train, y_test = data
    return ex.run_schemes(
        X_train, y_train, SCHEMES, layer_sizes=SIZES, hidden=SETUP.hidden, lr=SETUP.lr,
        epochs=SETUP.epochs, snapshot_epochs=[0, 10, SETUP.epochs],
        rng=SETUP.init_seed, X_test=X_test, y_test=y_test,
    )


def small_data(seed=0, n=60):
    X, y = circles(n, noise=0.1, rng=seed)
    return X, y


# --- circles_split ----------------------------------------------------------------------------


def test_circles_split_is_circles_then_train_test_split_from_one_generator():
    X_train, X_test, y_train, y_test = ex.circles_split(SETUP)
    gen = np.random.default_rng(SETUP.data_seed)
    X, y = circles(SETUP.n, noise=SETUP.noise, factor=SETUP.factor, rng=gen)
    expected = train_test_split(X, y, SETUP.test_fraction, rng=gen)
    for got, want in zip((X_train, X_test, y_train, y_test), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert len(y_test) == round(SETUP.test_fraction * SETUP.n)
    assert len(y_train) + len(y_test) == SETUP.n


def test_chapter_setup_keeps_the_matrix_products_small():
    # Widths above 32 make numpy's BLAS go multithreaded and the timings erratic on 2 cores.
    assert max(SIZES) <= 32


# --- train_with_snapshots ---------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["he", "large"])
def test_chained_training_equals_one_call_of_train(scheme):
    X, y = small_data()
    Xt, yt = small_data(seed=1, n=20)
    run = ex.train_with_snapshots(X, y, scheme, layer_sizes=[2, 8, 8, 1], lr=0.3, epochs=57,
                                  snapshot_epochs=[0, 5, 13, 40, 57], rng=3, X_test=Xt, y_test=yt)
    once = train(X, y, scheme, layer_sizes=[2, 8, 8, 1], lr=0.3, epochs=57, rng=3,
                 X_test=Xt, y_test=yt)
    for attr in ("loss", "accuracy", "test_loss", "test_accuracy"):
        np.testing.assert_array_equal(getattr(run.result, attr), getattr(once, attr))
    for (W, b), (W1, b1) in zip(run.result.params, once.params, strict=True):
        np.testing.assert_array_equal(W, W1)
        np.testing.assert_array_equal(b, b1)
    assert run.epochs == 57
    assert run.name == scheme
    assert sorted(run.snapshots) == [0, 5, 13, 40, 57]


def test_snapshots_are_the_parameters_at_those_epochs_and_are_copies():
    X, y = small_data()
    run = ex.train_with_snapshots(X, y, "xavier", layer_sizes=[2, 6, 1], lr=0.5, epochs=30,
                                  snapshot_epochs=[0, 10, 30], rng=0)
    for (W, _), (W0, _) in zip(run.snapshots[0], run.result.initial, strict=True):
        np.testing.assert_array_equal(W, W0)
    ten = train(X, y, run.result.initial, lr=0.5, epochs=10)
    for (W, b), (W1, b1) in zip(run.snapshots[10], ten.params, strict=True):
        np.testing.assert_array_equal(W, W1)
        np.testing.assert_array_equal(b, b1)
    # the last snapshot equals the final parameters but is a separate copy
    run.snapshots[30][0][0][0, 0] += 1.0
    assert run.snapshots[30][0][0][0, 0] != run.result.params[0][0][0, 0]


def test_snapshot_training_without_snapshots_and_with_given_parameters():
    X, y = small_data()
    params = init_mlp([2, 4, 1], "he", rng=5)
    run = ex.train_with_snapshots(X, y, params, lr=0.1, epochs=3)
    assert run.snapshots == {}
    assert run.name == "custom"
    assert run.result.loss.shape == (4,)
    assert run.result.test_loss is None


@pytest.mark.parametrize("bad", [[-1], [11], [2.5], [True]])
def test_snapshot_epochs_must_be_integers_within_the_run(bad):
    X, y = small_data()
    with pytest.raises(ValueError, match="snapshot_epochs"):
        ex.train_with_snapshots(X, y, "he", layer_sizes=[2, 4, 1], epochs=10,
                                snapshot_epochs=bad, rng=0)


@pytest.mark.parametrize("bad", [-1, 2.0, None])
def test_epochs_must_be_a_non_negative_integer(bad):
    X, y = small_data()
    with pytest.raises(ValueError, match="epochs"):
        ex.train_with_snapshots(X, y, "he", layer_sizes=[2, 4, 1], epochs=bad, rng=0)


# --- run_schemes --------------------------------------------------------------------------------


def test_random_schemes_share_their_draws_and_differ_only_in_scale():
    X, y = small_data()
    runs = ex.run_schemes(X, y, SCHEMES, layer_sizes=[2, 8, 5, 1], epochs=0, rng=11)
    assert list(runs) == list(SCHEMES)
    sizes = [2, 8, 5, 1]
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        unit = {s: runs[s].result.initial[k][0] / ex.scheme_std(s, a, b)
                for s in ("small", "large", "xavier", "he")}
        for s in ("large", "xavier", "he"):
            np.testing.assert_allclose(unit[s], unit["small"], rtol=1e-12)
        assert np.all(runs["zeros"].result.initial[k][0] == 0.0)


def test_run_schemes_with_an_int_uses_it_as_every_schemes_seed():
    X, y = small_data()
    runs = ex.run_schemes(X, y, ["he"], layer_sizes=[2, 4, 1], epochs=0, rng=7)
    direct = init_mlp([2, 4, 1], "he", rng=7)
    np.testing.assert_array_equal(runs["he"].result.initial[0][0], direct[0][0])
    # a Generator gives reproducible seeds too
    a = ex.run_schemes(X, y, ["he"], layer_sizes=[2, 4, 1], epochs=0,
                       rng=np.random.default_rng(3))
    b = ex.run_schemes(X, y, ["he"], layer_sizes=[2, 4, 1], epochs=0,
                       rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a["he"].result.initial[0][0], b["he"].result.initial[0][0])


@pytest.mark.parametrize("bad", [[], ["he", "he"]])
def test_run_schemes_needs_distinct_schemes(bad):
    X, y = small_data()
    with pytest.raises(ValueError, match="schemes"):
        ex.run_schemes(X, y, bad, layer_sizes=[2, 4, 1], epochs=0, rng=0)


def test_run_schemes_rejects_an_unknown_scheme():
    X, y = small_data()
    with pytest.raises(ValueError, match="scheme"):
        ex.run_schemes(X, y, ["orthogonal"], layer_sizes=[2, 4, 1], epochs=0, rng=0)


# --- final_metrics, final_accuracy_over_seeds ---------------------------------------------------


def test_final_metrics_are_the_last_entries_of_the_curves(runs):
    metrics = ex.final_metrics(runs)
    assert list(metrics) == list(runs)
    for name, m in metrics.items():
        res = runs[name].result
        assert m == (res.accuracy[-1], res.test_accuracy[-1], res.loss[-1], res.test_loss[-1])
        assert all(type(v) is float for v in m)


def test_final_metrics_without_a_test_set_are_nan():
    X, y = small_data()
    res = train(X, y, "he", layer_sizes=[2, 4, 1], epochs=2, rng=0)
    m = ex.final_metrics({"he": res})["he"]
    assert m.train_accuracy == res.accuracy[-1]
    assert math.isnan(m.test_accuracy) and math.isnan(m.test_loss)
    with pytest.raises(ValueError, match="Run or a TrainingResult"):
        ex.final_metrics({"he": "not a run"})


def test_final_accuracy_over_seeds_repeats_run_schemes():
    X, y = small_data()
    Xt, yt = small_data(seed=2, n=20)
    out = ex.final_accuracy_over_seeds(X, y, ["he", "small"], [4, 9], layer_sizes=[2, 5, 1],
                                       lr=0.5, epochs=20, X_test=Xt, y_test=yt)
    assert set(out) == {"he", "small"}
    for i, seed in enumerate([4, 9]):
        runs = ex.run_schemes(X, y, ["he", "small"], layer_sizes=[2, 5, 1], lr=0.5, epochs=20,
                              rng=seed, X_test=Xt, y_test=yt)
        for s, r in runs.items():
            assert out[s].shape == (2, 2)
            assert tuple(out[s][i]) == (r.result.accuracy[-1], r.result.test_accuracy[-1])
    with pytest.raises(ValueError, match="seeds"):
        ex.final_accuracy_over_seeds(X, y, ["he"], [], layer_sizes=[2, 5, 1])


# --- small measurements -------------------------------------------------------------------------


def test_epochs_to_reach():
    curve = np.array([0.5, 0.6, 0.9, 0.85, 0.95])
    assert ex.epochs_to_reach(curve, 0.9) == 2
    assert ex.epochs_to_reach(curve, 0.5) == 0
    assert ex.epochs_to_reach(curve, 0.96) is None
    assert ex.epochs_to_reach(curve, 0.55, below=True) == 0
    assert ex.epochs_to_reach(np.array([3.0, 2.0, 0.5]), 1.0, below=True) == 2
    with pytest.raises(ValueError, match="curve"):
        ex.epochs_to_reach(np.ones((2, 2)), 0.5)
    with pytest.raises(ValueError, match="target"):
        ex.epochs_to_reach(curve, "high")


@pytest.mark.parametrize("fan_in, fan_out", [(2, 16), (16, 16), (16, 1), (400, 300)])
def test_scheme_std_formulas(fan_in, fan_out):
    assert ex.scheme_std("zeros", fan_in, fan_out) == 0.0
    assert ex.scheme_std("small", fan_in, fan_out) == SMALL_STD
    assert ex.scheme_std("large", fan_in, fan_out) == LARGE_STD
    assert ex.scheme_std("xavier", fan_in, fan_out) == pytest.approx(
        math.sqrt(2 / (fan_in + fan_out)), rel=1e-15)
    assert ex.scheme_std("he", fan_in, fan_out) == pytest.approx(math.sqrt(2 / fan_in), rel=1e-15)


@pytest.mark.parametrize("scheme", ["small", "large", "xavier", "he"])
def test_scheme_std_is_the_spread_that_init_mlp_draws(scheme):
    W = init_mlp([400, 300, 1], scheme, rng=2)[0][0]
    var = ex.scheme_std(scheme, 400, 300) ** 2
    lo, hi = variance_ratio_band(W.size, "normal", ALPHA)  # exact chi-square band, 1e-9
    assert lo <= np.mean(W**2) / var <= hi


@pytest.mark.parametrize("args", [("orthogonal", 2, 2), ("he", 0, 2), ("he", 2, 1.5)])
def test_scheme_std_rejects_bad_input(args):
    with pytest.raises(ValueError):
        ex.scheme_std(*args)


def manual_forward(params, X, f):
    """Independent forward pass: the hidden pre-activations."""
    zs, h = [], X
    for W, b in params[:-1]:
        z = h @ W + b
        zs.append(z)
        h = f(z)
    return zs


@pytest.mark.parametrize("hidden, f", [("relu", lambda z: np.maximum(z, 0)), ("tanh", np.tanh)])
def test_preactivations_and_mean_squares_match_a_manual_forward_pass(hidden, f):
    X, _ = small_data()
    params = init_mlp([2, 7, 5, 1], "he", rng=4)
    params = [(W, np.full(W.shape[1], 0.1)) for W, _ in params]  # non-zero biases too
    zs = ex.preactivations(params, X, hidden)
    want = manual_forward(params, X, f)
    assert len(zs) == 2
    for z, w in zip(zs, want, strict=True):
        np.testing.assert_allclose(z, w, rtol=1e-12, atol=1e-14)
    ms = ex.layer_mean_squares(params, X, hidden)
    np.testing.assert_allclose(ms, [np.mean(f(w) ** 2) for w in want], rtol=1e-12)


def test_dead_unit_share_counts_units_silent_on_every_row():
    X = np.array([[1.0, 2.0], [0.5, 0.1], [3.0, 1.0]])  # every input positive
    # Layer 1: unit 0 is positive on every row; units 1 and 3 are negative on every row; unit 2
    # gives -9, 0, -2 (relu(0) = 0 too): 3 of 4 dead.
    W1 = np.array([[1.0, -1.0, 1.0, -2.0], [1.0, -1.0, -5.0, -1.0]])
    # Layer 2 sees only unit 0 (values 3, 0.6, 4): bias -100 kills unit 0, bias 1 keeps unit 1.
    W2, b2 = np.ones((4, 2)), np.array([-100.0, 1.0])
    params = [(W1, np.zeros(4)), (W2, b2), (np.ones((2, 1)), np.zeros(1))]
    assert ex.dead_unit_share(params, X) == [0.75, 0.5]
    assert ex.dead_unit_share(params, X, "tanh") == [0.0, 0.0]  # tanh is 0 only at z = 0


def test_weight_and_gradient_norms():
    X, y = small_data()
    params = init_mlp([2, 6, 1], "he", rng=1)
    assert ex.weight_norms(params) == [float(np.sqrt(np.sum(W**2))) for W, _ in params]
    _, grads = loss_and_grads(params, X, y)
    np.testing.assert_allclose(ex.gradient_norms(params, X, y),
                               [np.sqrt(np.sum(dW**2)) for dW, _ in grads], rtol=1e-12)


def test_constant_mlp_keeps_its_units_identical_while_its_weights_move():
    X, y = small_data()
    params = ex.constant_mlp([2, 16, 16, 1], 0.3)
    assert [W.shape for W, _ in params] == [(2, 16), (16, 16), (16, 1)]
    assert all(np.all(W == 0.3) and np.all(b == 0) for W, b in params)
    res = train(X, y, params, lr=0.2, epochs=200)
    moved = max(np.abs(W - W0).max() for (W, _), (W0, _) in zip(res.params, res.initial,
                                                                  strict=True))
    assert moved > 1e-3
    # Mathematically exact; allow rounding in the last digits (BLAS may order sums per column).
    assert max(unit_spread(res.params)) <= 1e-12 * max(1.0, moved)
    with pytest.raises(ValueError, match="value"):
        ex.constant_mlp([2, 3, 1], float("nan"))


# --- the chapter's claims, on its own setup ---------------------------------------------------


def test_claim_xavier_and_he_learn_the_circles_and_beat_zeros(runs):
    m = ex.final_metrics(runs)
    for s in ("xavier", "he"):
        assert m[s].train_accuracy >= 0.95 and m[s].test_accuracy >= 0.95
        assert ex.epochs_to_reach(runs[s].result.accuracy, 0.95) is not None
    assert m["he"].train_accuracy > m["zeros"].train_accuracy


def test_claim_zeros_and_small_end_at_the_majority_share(runs, data):
    X_train, X_test, y_train, y_test = data
    share1 = float(np.mean(y_train))
    assert share1 > 0.5  # the prose: the larger class of the training set is the inner circle
    for s in ("zeros", "small"):
        res = runs[s].result
        assert res.accuracy[-1] == share1
        assert res.test_accuracy[-1] == np.mean(y_test == 1)
        assert res.accuracy.max() < 0.6  # flat for the whole run
        assert abs(res.loss[-1] - math.log(2)) < 0.01
    p = predict_proba(runs["small"].result.params, X_train)
    assert np.abs(p - 0.5).max() < 0.05


def test_claim_zeros_gets_no_weight_gradient_and_its_units_stay_identical(runs, data):
    X_train, _, y_train, _ = data
    zeros = runs["zeros"].result
    _, grads = loss_and_grads(zeros.initial, X_train, y_train)
    assert all(np.all(dW == 0.0) for dW, _ in grads)
    assert all(np.all(db == 0.0) for _, db in grads[:-1])
    assert grads[-1][1][0] != 0.0  # only the output bias moves
    assert unit_spread(zeros.params) == [0.0] * (len(SIZES) - 2)
    assert all(np.all(W == 0.0) for W, _ in zeros.params)
    q = float(np.mean(y_train))
    assert zeros.params[-1][1][0] == pytest.approx(math.log(q / (1 - q)), rel=1e-9)
    # ... and the loss is the entropy of the labels (exercise ch8-ex-entropy)
    assert zeros.loss[-1] == pytest.approx(-q * math.log(q) - (1 - q) * math.log(1 - q),
                                           rel=1e-9)


def test_claim_random_initialization_breaks_the_symmetry(runs):
    assert min(unit_spread(runs["he"].result.initial)) > 0.1


def test_claim_large_logits_are_exactly_the_product_of_scales_times_hes(runs, data):
    X_train = data[0]
    scale = math.prod(LARGE_STD / ex.scheme_std("he", a, b) for a, b in LAYERS)
    np.testing.assert_allclose(forward(runs["large"].result.initial, X_train),
                               scale * forward(runs["he"].result.initial, X_train), rtol=1e-10)
    small = math.prod(SMALL_STD / ex.scheme_std("he", a, b) for a, b in LAYERS)
    np.testing.assert_allclose(forward(runs["small"].result.initial, X_train),
                               small * forward(runs["he"].result.initial, X_train), rtol=1e-10)


def test_claim_large_explodes_kills_units_and_ends_far_below_he(runs, data):
    X_train = data[0]
    large = runs["large"].result
    assert large.loss[0] > 100.0
    assert large.loss.max() > 10 * large.loss[0]
    settle = ex.epochs_to_reach(large.loss, 1.0, below=True)
    assert settle is not None and np.all(large.loss[settle:] < 1.0)
    assert min(ex.dead_unit_share(large.params, X_train)) >= 0.5
    assert ex.dead_unit_share(runs["he"].result.params, X_train) == [0.0, 0.0]
    assert large.accuracy[-1] < runs["he"].result.accuracy[-1] - 0.2


def test_claim_large_fails_for_other_seeds_too_but_trains_with_a_smaller_rate(runs, data):
    X_train, X_test, y_train, y_test = data
    for seed in range(1, 6):
        acc = ex.run_schemes(X_train, y_train, ["large"], layer_sizes=SIZES, lr=SETUP.lr,
                             epochs=SETUP.epochs, rng=seed)["large"].result.accuracy[-1]
        assert acc < 0.9
    slower = train(X_train, y_train, runs["large"].result.initial, lr=SETUP.lr / 4,
                   epochs=SETUP.epochs)
    assert slower.accuracy[-1] >= 0.95


def test_claim_exercise_learning_rate_that_matches_hes_relative_step(runs, data):
    X_train, X_test, y_train, y_test = data
    c = [LARGE_STD / ex.scheme_std("he", a, b) for a, b in LAYERS]
    shrink = max(math.prod(c) / cl**2 for cl in c)
    assert shrink == pytest.approx(80.0)
    r = train(X_train, y_train, runs["large"].result.initial, lr=SETUP.lr / shrink,
              epochs=SETUP.epochs, X_test=X_test, y_test=y_test)
    assert r.loss.max() == r.loss[0]
    assert r.accuracy[-1] >= 0.95
    assert r.test_accuracy[-1] < runs["he"].result.test_accuracy[-1]


def test_claim_tanh_large_saturates_and_learns_worse_than_xavier(data):
    X_train, X_test, y_train, y_test = data
    runs = ex.run_schemes(X_train, y_train, SCHEMES, layer_sizes=SIZES, hidden="tanh",
                          lr=SETUP.lr, epochs=SETUP.epochs, rng=SETUP.init_seed,
                          X_test=X_test, y_test=y_test)

    def mean_slope(params):
        z = np.concatenate([v.ravel() for v in ex.preactivations(params, X_train, "tanh")])
        return np.mean(1 - np.tanh(z) ** 2)

    assert mean_slope(runs["large"].result.initial) < 0.2
    assert mean_slope(runs["xavier"].result.initial) > 0.8
    m = ex.final_metrics(runs)
    assert m["large"].train_accuracy < m["xavier"].train_accuracy
    assert m["large"].test_accuracy < m["xavier"].test_accuracy
    share1 = float(np.mean(y_train))
    assert m["zeros"].train_accuracy == share1 and m["small"].train_accuracy == share1
    assert m["xavier"].train_accuracy >= 0.95 and m["he"].train_accuracy >= 0.95


def test_claim_small_gradients_are_tiny_and_depth_makes_small_stall(runs, data):
    X_train, _, y_train, _ = data
    g_small = ex.gradient_norms(runs["small"].result.initial, X_train, y_train)
    g_he = ex.gradient_norms(runs["he"].result.initial, X_train, y_train)
    assert max(gs / gh for gs, gh in zip(g_small, g_he, strict=True)) < 1e-2
    reach = {}
    for depth in (1, 3):
        sizes = [2] + [SIZES[1]] * depth + [1]
        for s, r in ex.run_schemes(X_train, y_train, ("small", "he"), layer_sizes=sizes,
                                   lr=SETUP.lr, epochs=SETUP.epochs,
                                   rng=SETUP.init_seed).items():
            reach[depth, s] = ex.epochs_to_reach(r.result.accuracy, 0.9)
    for s in ("small", "he"):
        reach[2, s] = ex.epochs_to_reach(runs[s].result.accuracy, 0.9)
    assert reach[1, "small"] is not None and reach[1, "small"] > reach[1, "he"]
    assert reach[2, "small"] is None and reach[3, "small"] is None
    assert all(reach[d, "he"] is not None for d in (1, 2, 3))


def test_claim_in_a_shallow_net_every_random_scheme_works(data):
    X_train, X_test, y_train, y_test = data
    out = ex.final_accuracy_over_seeds(X_train, y_train, SCHEMES, [0, 1, 2],
                                       layer_sizes=[2, SIZES[1], 1], lr=SETUP.lr,
                                       epochs=SETUP.epochs, X_test=X_test, y_test=y_test)
    for s in ("small", "large", "xavier", "he"):
        assert np.all(out[s][:, 0] >= 0.95) and np.all(out[s][:, 1] >= 0.9)
    assert np.abs(out["he"] - out["xavier"]).max() <= 0.05
    assert np.all(out["zeros"][:, 0] == np.mean(y_train))


def test_claim_he_keeps_the_mean_square_and_xavier_halves_it(data):
    X_train = data[0]
    factor = {}
    for s in ("xavier", "he"):
        ratios = []
        for seed in range(200):
            ms = ex.layer_mean_squares(init_mlp(SIZES, s, rng=seed), X_train)
            ratios.append(ms[1] / ms[0])
        factor[s] = float(np.mean(ratios))
    # the prediction n sigma^2 / 2: exactly 1 for He, 1/2 for Xavier on a 16 -> 16 layer
    assert SIZES[1] * ex.scheme_std("he", *LAYERS[1]) ** 2 / 2 == pytest.approx(1.0)
    assert SIZES[1] * ex.scheme_std("xavier", *LAYERS[1]) ** 2 / 2 == pytest.approx(0.5)
    assert abs(factor["he"] - 1.0) < 0.1 and abs(factor["xavier"] - 0.5) < 0.05


def test_claim_weights_grow_during_training(runs, data):
    X_train, _, y_train, _ = data
    he = runs["he"]
    growth = np.array(ex.weight_norms(he.snapshots[SETUP.epochs])) / np.array(
        ex.weight_norms(he.snapshots[0]))
    assert np.all(growth > 1.0)
    small = train(X_train, y_train, "small", layer_sizes=[2, SIZES[1], 1], lr=SETUP.lr,
                  epochs=SETUP.epochs, rng=SETUP.init_seed)
    ratio = np.array(ex.weight_norms(small.params)) / np.array(ex.weight_norms(small.initial))
    assert np.all(ratio > 10.0)


def test_claim_the_random_networks_start_with_the_same_boundary_then_part(runs, data):
    X_train = data[0]
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-2, 2, 41)), -1).reshape(-1, 2)
    first = {s: predict(runs[s].snapshots[0], np.vstack([X_train, grid]))
             for s in ("small", "large", "xavier", "he")}
    for s in ("small", "large", "xavier"):
        np.testing.assert_array_equal(first[s], first["he"])
    # by epoch 10: small answers one class everywhere, large has settled (loss below 1)
    assert np.unique(predict(runs["small"].snapshots[10], X_train)).size == 1
    assert ex.epochs_to_reach(runs["large"].result.loss, 1.0, below=True) <= 10
    assert np.mean(np.abs(forward(runs["large"].result.initial, X_train)) > 37) > 0.5
