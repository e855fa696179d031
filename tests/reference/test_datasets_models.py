"""Datasets, partitions, client speeds and the numpy models."""

import numpy as np
import pytest
from asfl.reference.datasets import client_durations, load, partition
from asfl.reference.models import Model


@pytest.fixture(scope="module")
def digits():
    return load("digits", seed=0)


def test_split_is_stratified_and_standardised(digits):
    assert digits.n_features == 64 and digits.n_classes == 10
    assert len(digits.y_train) + len(digits.y_test) == 1797
    np.testing.assert_allclose(digits.x_train.mean(axis=0), 0, atol=1e-9)
    assert set(np.bincount(digits.y_test)) <= set(range(40, 50))


@pytest.mark.parametrize("kind", ["iid", "dirichlet"])
def test_partitions_cover_every_sample_once(digits, kind):
    parts = partition(digits.y_train, 60, kind, seed=3)
    flat = np.concatenate(parts)
    assert len(parts) == 60 and min(len(p) for p in parts) >= 5
    np.testing.assert_array_equal(np.sort(flat), np.arange(len(digits.y_train)))


def test_dirichlet_is_label_skewed_and_iid_is_not(digits):
    def classes(kind):
        parts = partition(digits.y_train, 40, kind, seed=1, alpha=0.1)
        return np.mean([len(np.unique(digits.y_train[p])) for p in parts])

    assert classes("iid") > 9 and classes("dirichlet") < 5
    with pytest.raises(ValueError):
        partition(digits.y_train, 40, "sorted", seed=1)


@pytest.mark.parametrize("kind", ["lognormal", "pareto"])
def test_client_durations_are_heavy_tailed_with_median_one(kind):
    d = client_durations(2001, seed=0, kind=kind, spread=1.0)
    assert np.all(d > 0)
    assert abs(np.median(d) - 1) < 0.1
    assert d.max() / np.median(d) > 10  # a heavy tail: some clients are an order of magnitude slower


@pytest.mark.parametrize("kind", ["softmax", "mlp"])
def test_gradient_matches_finite_differences_and_training_learns(digits, kind):
    m = Model(kind, digits.n_features, digits.n_classes, hidden=16)
    rng = np.random.default_rng(0)
    x, y = digits.x_train[:30], digits.y_train[:30]
    w = rng.normal(0, 0.1, m.dim)

    def loss(v):
        z = m.logits(v, x)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))

    g = m.gradient(w, x, y)
    for j in rng.integers(0, m.dim, 8):
        e = np.zeros(m.dim)
        e[j] = 1e-6
        assert g[j] == pytest.approx((loss(w + e) - loss(w - e)) / 2e-6, abs=1e-6)
    w0 = m.init(0)
    w1 = w0 + m.local_update(w0, digits.x_train, digits.y_train, rng, 0.1, 2, 32)
    assert (
        m.accuracy(w1, digits.x_test, digits.y_test)
        > 0.8
        > 0.3
        > m.accuracy(w0, digits.x_test, digits.y_test)
    )
