"""aekit.datasets: built-in data sets, local-first MNIST with checksums, a user's own files, clear errors."""

import gzip
import hashlib
import io
import urllib.error

import numpy as np
import pytest
from PIL import Image

from aekit import datasets
from aekit.datasets import DataError, load_dataset


def test_digits_is_embedded_image_shaped_and_in_unit_range(digits):
    assert digits.x_train.shape[1:] == (8, 8, 1) and digits.image_shape == (8, 8, 1)
    assert len(digits.x_train) + len(digits.x_test) == 1797
    assert digits.x_train.dtype == np.float32
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    assert set(np.unique(digits.y_train)) == set(range(10))
    flat = load_dataset("digits", flat=True)
    assert flat.x_train.shape == (len(digits.x_train), 64)
    np.testing.assert_array_equal(flat.x_train, digits.x_train.reshape(len(digits.x_train), -1))


def test_mnist_from_data_dir_matches_the_published_arrays(mnist):
    assert mnist.x_train.shape == (60000, 28, 28, 1) and mnist.x_test.shape == (10000, 28, 28, 1)
    assert mnist.x_train.dtype == np.float32 and 0.0 <= mnist.x_train.min() and mnist.x_train.max() == 1.0
    assert list(mnist.y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(mnist.y_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert abs(float(mnist.x_train.mean()) - 0.1307) < 1e-3
    (x_train, y_train), (x_test, _) = datasets.mnist_load_data(download=False)
    assert x_train.dtype == np.uint8 and x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert load_dataset("mnist", flat=True, download=False).x_test.shape == (10000, 784)


def test_mnist_is_found_in_keras_cache(mnist, tmp_path, monkeypatch):
    source = datasets.find_mnist()
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").symlink_to(source)
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert datasets.find_mnist() == tmp_path / "datasets" / "mnist.npz"
    (x_train, _), _ = datasets.mnist_load_data(download=False)
    assert x_train.shape == (60000, 28, 28)


def test_corrupt_local_mnist_is_reported(tmp_path, monkeypatch):
    np.savez(
        tmp_path / "mnist.npz",
        x_train=np.zeros((2, 28, 28), np.uint8),
        y_train=np.zeros(2, np.uint8),
        x_test=np.zeros((2, 28, 28), np.uint8),
        y_test=np.zeros(2, np.uint8),
    )
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DataError, match="checksum"):
        load_dataset("mnist")


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    """No data directory and an empty Keras cache."""
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "datasets"


def test_offline_and_uncached_mnist_says_where_to_put_the_file(empty_home, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert "could not download" in message and str(empty_home) in message and "AEKIT_DATA_DIR" in message
    assert not empty_home.exists() or not any(empty_home.iterdir())
    with pytest.raises(DataError, match="not found"):
        load_dataset("mnist", download=False)


def _serve(payload: bytes):
    return lambda url, timeout=None: io.BytesIO(payload)


def test_download_with_a_bad_checksum_leaves_nothing_behind(empty_home, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", _serve(b"not mnist"))
    with pytest.raises(DataError, match="checksum"):
        load_dataset("mnist")
    assert not any(empty_home.iterdir())


def test_download_is_verified_and_written_into_keras_cache(empty_home, monkeypatch):
    buffer = io.BytesIO()
    arrays = {
        "x_train": np.full((3, 28, 28), 255, np.uint8),
        "y_train": np.arange(3, dtype=np.uint8),
        "x_test": np.zeros((2, 28, 28), np.uint8),
        "y_test": np.arange(2, dtype=np.uint8),
    }
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    monkeypatch.setattr(datasets._builtin, "MNIST_FILE_SHA256", hashlib.sha256(payload).hexdigest())
    monkeypatch.setattr(
        datasets._builtin, "MNIST_ARRAY_SHA256", {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in arrays.items()}
    )
    monkeypatch.setattr(urllib.request, "urlopen", _serve(payload))
    data = load_dataset("mnist")
    assert (empty_home / "mnist.npz").read_bytes() == payload
    assert data.x_train.shape == (3, 28, 28, 1) and data.x_train.max() == 1.0
    assert [p.name for p in empty_home.iterdir()] == ["mnist.npz"]


def _write_idx(folder, n_train=5, n_test=3):
    folder.mkdir(parents=True, exist_ok=True)
    for name, n, images in [
        ("train-images-idx3-ubyte.gz", n_train, True),
        ("train-labels-idx1-ubyte.gz", n_train, False),
        ("t10k-images-idx3-ubyte.gz", n_test, True),
        ("t10k-labels-idx1-ubyte.gz", n_test, False),
    ]:
        header = b"\0" * (16 if images else 8)
        body = np.arange(n * (784 if images else 1), dtype=np.uint8) % (255 if images else 10)
        with gzip.open(folder / name, "wb") as f:
            f.write(header + body.tobytes())


def test_fashion_mnist_reads_the_four_idx_files_from_the_data_dir(tmp_path, monkeypatch):
    _write_idx(tmp_path / "fashion-mnist")
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path))
    data = load_dataset("fashion-mnist")
    assert data.x_train.shape == (5, 28, 28, 1) and data.x_test.shape == (3, 28, 28, 1)
    assert data.y_train.tolist() == [0, 1, 2, 3, 4]


def test_fashion_mnist_download_checks_md5(empty_home, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", _serve(b"tampered"))
    with pytest.raises(DataError, match="checksum"):
        load_dataset("fashion_mnist")


# ---------------------------------------------------------------- a user's files


def test_npy_tabular_and_image_arrays(tmp_path):
    np.save(tmp_path / "table.npy", np.random.default_rng(0).random((50, 6)))
    table = load_dataset(tmp_path / "table.npy", test_size=0.2)
    assert table.x_train.shape == (40, 6) and table.x_test.shape == (10, 6) and table.image_shape is None
    np.save(tmp_path / "imgs.npy", np.full((10, 5, 7), 255, np.uint8))
    images = load_dataset(tmp_path / "imgs.npy")
    assert images.image_shape == (5, 7, 1) and images.x_train.max() == 1.0 and images.x_train.dtype == np.float32
    assert load_dataset(tmp_path / "imgs.npy", flat=True).x_train.shape[1:] == (35,)


def test_npz_with_splits_and_labels(tmp_path):
    np.savez(
        tmp_path / "d.npz",
        x_train=np.zeros((8, 4, 4, 3), np.float32),
        y_train=np.arange(8),
        x_test=np.ones((2, 4, 4, 3), np.float32),
        y_test=np.arange(2),
    )
    data = load_dataset(tmp_path / "d.npz")
    assert data.x_train.shape == (8, 4, 4, 3) and data.x_test.shape == (2, 4, 4, 3)
    assert data.y_test.tolist() == [0, 1] and data.image_shape == (4, 4, 3)
    np.savez(tmp_path / "xy.npz", x=np.zeros((10, 3)), y=np.arange(10))
    data = load_dataset(tmp_path / "xy.npz", test_size=0.3, seed=1)
    assert len(data.x_train) == 7 and sorted(data.y_train.tolist() + data.y_test.tolist()) == list(range(10))


def test_csv_with_header(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,c\n0,0.5,1\n1,0.25,0\n0.5,0.5,0.5\n")
    data = load_dataset(tmp_path / "d.csv", test_size=0.0)
    assert data.x_train.shape == (3, 3) and data.x_train.dtype == np.float32


def test_image_folder_grayscale_rgb_resize_and_labels(tmp_path):
    for cls, color in [("cats", (255, 0, 0)), ("dogs", (0, 0, 255))]:
        (tmp_path / "pets" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (12 + i, 10), color).save(tmp_path / "pets" / cls / f"{i}.png")
    data = load_dataset(tmp_path / "pets", test_size=0.0, image_size=(8, 6))
    assert data.image_shape == (8, 6, 3) and data.x_train.shape == (6, 8, 6, 3)
    assert sorted(data.y_train.tolist()) == [0, 0, 0, 1, 1, 1]
    (tmp_path / "gray").mkdir()
    for i in range(4):
        Image.new("L", (9, 9), 40 * i).save(tmp_path / "gray" / f"{i}.jpg")
    gray = load_dataset(tmp_path / "gray", test_size=0.25)
    assert gray.image_shape == (9, 9, 1) and gray.y_train is None and len(gray.x_test) == 1


@pytest.mark.parametrize(
    "name, make, expected",
    [
        ("nan.npy", lambda p: np.save(p, np.array([[0.1, np.nan], [0.2, 0.3]])), "sample 0 holds NaN"),
        ("flat.npy", lambda p: np.save(p, np.zeros(5)), "1-D"),
        ("five_d.npy", lambda p: np.save(p, np.zeros((2, 2, 2, 2, 2))), "shape"),
        ("empty.npy", lambda p: np.save(p, np.zeros((0, 3))), "no samples"),
        ("pickled.npy", lambda p: np.save(p, np.array([{"a": 1}], dtype=object)), "pickled"),
        (
            "text.csv",
            lambda p: p.write_text("1,2\n3,x\n"),
            "line 2, column 'column 2' holds 'x', which is not a number",
        ),
        ("ragged.csv", lambda p: p.write_text("1,2\n3\n"), "line 2 has 1 fields, but line 1 has 2"),
        ("blank.csv", lambda p: p.write_text("a,b\n"), "no data rows"),
        ("broken.npz", lambda p: p.write_bytes(b"PK\x03\x04 garbage"), "not a readable .npz"),
        ("many.npz", lambda p: np.savez(p, a=np.zeros((2, 2)), b=np.zeros((2, 2))), "cannot tell which array"),
        ("data.dat", lambda p: p.write_text("1 2 3"), "unsupported file type"),
        ("channels_first.npy", lambda p: np.save(p, np.zeros((2, 3, 16, 16), np.uint8)), "looks channels-first"),
    ],
)
def test_bad_files_get_an_error_naming_the_file(tmp_path, name, make, expected):
    path = tmp_path / name
    make(path)
    with pytest.raises(DataError) as err:
        load_dataset(path)
    assert expected in str(err.value) and str(path) in str(err.value)


def test_unreadable_image_is_named(tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "imgs" / "ok.png")
    (tmp_path / "imgs" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="bad.png: not a readable image"):
        load_dataset(tmp_path / "imgs")


def test_missing_path_lists_the_builtin_names(tmp_path):
    with pytest.raises(DataError, match="no such file or folder.*mnist, fashion_mnist, digits"):
        load_dataset(tmp_path / "nope.npz")


def test_shared_mnist_copy_is_not_touched(mnist):
    """Loading never writes into the data directory (its files belong to the user)."""
    folder = datasets.find_mnist().parent
    before = sorted(p.name for p in folder.iterdir())
    load_dataset("mnist", download=False)
    assert sorted(p.name for p in folder.iterdir()) == before
