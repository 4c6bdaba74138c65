"""One-dimensional k-means for weight sharing: at most k values, zeros kept, nearest centroids."""

from __future__ import annotations

import numpy as np

from edgeshrink.passes.cluster import kmeans


def test_at_most_k_shared_values_and_zeros_stay_zero():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 9)).astype(np.float32)
    w[rng.random(w.shape) < 0.6] = 0
    book = kmeans.share(w, 7)
    shared = book.weights()
    assert len(np.unique(shared[shared != 0])) <= 7
    assert np.array_equal(shared == 0, w == 0)
    assert np.all(book.index[w == 0] == kmeans.PRUNED)


def test_every_weight_takes_its_nearest_centroid():
    w = np.array([-1.0, -0.9, 0.1, 0.2, 2.0, 2.1], np.float32)
    centroids, labels = kmeans.fit(w, 3)
    np.testing.assert_allclose(centroids, [-0.95, 0.15, 2.05], rtol=1e-5)
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_per_channel_codebooks_share_one_index_space():
    w = np.stack([np.linspace(-1, 1, 20), np.linspace(5, 9, 20)]).astype(np.float32)
    book = kmeans.share(w, 4, axis=0)
    assert len(book.centroids) == 8
    assert set(book.index[0]) <= set(range(4)) and set(book.index[1]) <= set(range(4, 8))
    assert np.abs(book.weights() - w).max() < 0.6


def test_fewer_distinct_weights_than_k_keep_their_values():
    w = np.array([0.5, 0.5, -0.25, 0, -0.25], np.float32)
    assert np.array_equal(kmeans.share(w, 16).weights(), w)


def test_no_k_keeps_every_distinct_value_exactly():
    w = np.array([[0.5, 0.5, -0.25, 0], [0.125, 0, -0.25, 0.75]], np.float32)
    book = kmeans.share(w, None)
    assert np.array_equal(book.weights(), w) and len(book.centroids) == 4
    assert np.array_equal(kmeans.share(w, None, axis=0).weights(), w)
