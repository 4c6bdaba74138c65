import gzip
import shutil

import numpy as np
import pytest

from edgeshrink import data
from edgeshrink.data.idx import MNIST_FILES
from edgeshrink.errors import DataError


def copy_real(mnist_dir, dest, compress=False):
    dest.mkdir(parents=True, exist_ok=True)
    for spec in MNIST_FILES:
        src = mnist_dir / spec.name
        if compress:
            (dest / f"{spec.name}.gz").write_bytes(gzip.compress(src.read_bytes(), 1))
        else:
            shutil.copy(src, dest / spec.name)
    return dest


def test_loads_real_mnist_with_standard_counts(train_split, test_split):
    assert train_split.images.shape == (60000, 28, 28) and train_split.images.dtype == np.uint8
    assert test_split.images.shape == (10000, 28, 28)
    assert test_split.labels[:8].tolist() == [7, 2, 1, 0, 4, 1, 4, 9]  # the well-known first test labels
    assert np.bincount(test_split.labels).tolist()[:3] == [980, 1135, 1032]


def test_import_gz_folder_verifies_and_stores_raw(mnist_dir, tmp_path):
    source = copy_real(mnist_dir, tmp_path / "gz", compress=True)
    stored = data.import_folder(source, tmp_path / "cache")
    assert [p.name for p in stored] == [s.name for s in MNIST_FILES]
    assert data.status(tmp_path / "cache") == {s.name: "ok" for s in MNIST_FILES}
    assert len(data.load("test", tmp_path / "cache")) == 10000


def test_truncated_file_is_named(mnist_dir, tmp_path):
    folder = copy_real(mnist_dir, tmp_path / "bad")
    labels = folder / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:5000])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte is 5000 bytes, expected 10008"):
        data.import_folder(folder, tmp_path / "cache")


def test_tampered_file_fails_sha256(mnist_dir, tmp_path):
    folder = copy_real(mnist_dir, tmp_path / "bad")
    labels = folder / "t10k-labels-idx1-ubyte"
    blob = bytearray(labels.read_bytes())
    blob[100] = (blob[100] + 1) % 10
    labels.write_bytes(bytes(blob))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte does not match the SHA-256"):
        data.import_folder(folder, tmp_path / "cache")


def test_wrong_header_is_reported(mnist_dir, tmp_path):
    folder = copy_real(mnist_dir, tmp_path / "bad")
    shutil.copy(folder / "t10k-labels-idx1-ubyte", folder / "t10k-images-idx3-ubyte")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte has IDX header"):
        data.import_folder(folder, tmp_path / "cache")


def test_missing_file_and_missing_folder(mnist_dir, tmp_path):
    folder = copy_real(mnist_dir, tmp_path / "bad")
    (folder / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte is missing.*edgeshrink data fetch"):
        data.import_folder(folder, tmp_path / "cache")
    with pytest.raises(DataError, match="no MNIST data in .*edgeshrink data fetch"):
        data.load("test", tmp_path / "nowhere")


def test_corrupt_gzip_is_reported(mnist_dir, tmp_path):
    folder = copy_real(mnist_dir, tmp_path / "gz", compress=True)
    gz = folder / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:100])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        data.import_folder(folder, tmp_path / "cache")


def test_cache_folder_follows_option_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGESHRINK_DATA_DIR", str(tmp_path / "env"))
    assert data.data_dir() == tmp_path / "env"
    assert data.data_dir(tmp_path / "opt") == tmp_path / "opt"
    monkeypatch.delenv("EDGESHRINK_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.data_dir() == tmp_path / "xdg" / "edgeshrink" / "mnist"
