"""One-dimensional k-means for weight sharing: a layer's non-zero weights become at most k shared values.

Centroids start spread linearly between the smallest and largest weight, which Deep Compression
(Han et al. 2016, section 3.1) found keeps the rare large weights, the ones that matter most, better
than density-based starts. Zeros (pruned weights) are no cluster: they stay exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRUNED = -1  # the index of a weight that stays zero


@dataclass(frozen=True)
class Codebook:
    """Shared values and, per weight, the index of its value (PRUNED for a zero weight)."""

    centroids: np.ndarray  # (k,) float32, ascending
    index: np.ndarray  # same shape as the weights, int32

    def weights(self) -> np.ndarray:
        """The weights the codebook stands for."""
        values = np.append(self.centroids, np.float32(0))  # index -1 reads the trailing zero
        return values[self.index].astype(np.float32)


def fit(values: np.ndarray, k: int, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means on a 1-D array: (ascending centroids, index of each value's centroid)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(flat.min()), float(flat.max())
    centroids = np.unique(np.linspace(low, high, k)) if high > low else np.array([low])
    for _ in range(iterations):
        labels = _assign(flat, centroids)
        sums = np.bincount(labels, weights=flat, minlength=len(centroids))
        counts = np.bincount(labels, minlength=len(centroids))
        moved = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.allclose(moved, centroids, rtol=0, atol=1e-12):
            break
        centroids = moved
    labels = _assign(flat, centroids)
    used = np.unique(labels)  # empty clusters are dropped: fewer shared values, never a stray one
    remap = np.full(len(centroids), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return centroids[used].astype(np.float32), remap[labels]


def _assign(flat: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centroid of each value (centroids ascending): a search among the midpoints."""
    return np.searchsorted((centroids[1:] + centroids[:-1]) / 2, flat)


def share(weights: np.ndarray, k: int | None, axis: int | None = None) -> Codebook:
    """At most k shared non-zero values for `weights` (per slice along `axis` if given, else per tensor); k None:
    every distinct non-zero value its own shared value (a layer already shared keeps its values exactly).

    Per slice, the returned indices are offset so that one codebook holds every slice's values.
    """
    w = np.asarray(weights, dtype=np.float32)
    if axis is None:
        return _share_one(w, k)
    moved = np.moveaxis(w, axis, 0)
    index = np.full(moved.shape, PRUNED, dtype=np.int32)
    centroids: list[np.ndarray] = []
    for c in range(moved.shape[0]):
        book = _share_one(moved[c], k)
        index[c] = np.where(book.index >= 0, book.index + sum(len(x) for x in centroids), PRUNED)
        centroids.append(book.centroids)
    joined = np.concatenate(centroids) if centroids else np.zeros(0, np.float32)
    return Codebook(joined, np.moveaxis(index, 0, axis))


def _share_one(w: np.ndarray, k: int | None) -> Codebook:
    nonzero = w != 0
    index = np.full(w.shape, PRUNED, dtype=np.int32)
    if not nonzero.any():
        return Codebook(np.zeros(0, np.float32), index)
    centroids, labels = fit(w[nonzero], k) if k is not None else np.unique(w[nonzero], return_inverse=True)
    index[nonzero] = labels
    return Codebook(centroids, index)
