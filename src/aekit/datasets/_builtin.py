"""The built-in data sets: MNIST and Fashion-MNIST (local first, else downloaded and verified) and digits.

MNIST and Fashion-MNIST are looked for in the folder named by ``AEKIT_DATA_DIR``, then in Keras'
cache (``~/.keras/datasets``), and only then downloaded, verified against a checksum and written
atomically into Keras' cache. ``digits`` (scikit-learn's 8x8 digits) ships with scikit-learn.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from aekit.datasets._dataset import Dataset, to_unit
from aekit.errors import DataError
from aekit.files import replacing

DATA_DIR_ENV = "AEKIT_DATA_DIR"
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# sha256 of the file Keras downloads, and of each array's raw bytes (any container holds them).
MNIST_FILE_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
# md5 of the four Fashion-MNIST files, as published by Zalando Research.
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
BUILTIN = ("mnist", "fashion_mnist", "digits")


def load_builtin(key: str, download: bool, seed: int) -> Dataset:
    """The built-in data set ``key`` (one of :data:`BUILTIN`)."""
    if key == "mnist":
        return _mnist(download)
    if key == "fashion_mnist":
        return _fashion_mnist(download)
    return _digits(seed)


def mnist_load_data(download: bool = True):
    """MNIST as ``keras.datasets.mnist.load_data()`` returns it: uint8 ``(x, y)`` pairs, found locally first."""
    with np.load(_find_mnist(download), allow_pickle=False) as f:
        arrays = {k: f[k] for k in MNIST_ARRAY_SHA256}
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def data_dirs() -> list[Path]:
    """Folders searched for MNIST files, in order: ``$AEKIT_DATA_DIR``, then Keras' cache."""
    dirs = []
    if os.environ.get(DATA_DIR_ENV):
        dirs.append(Path(os.environ[DATA_DIR_ENV]).expanduser())
    dirs.append(keras_cache_dir())
    return dirs


def keras_cache_dir() -> Path:
    """Keras' download cache for data sets (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def find_mnist() -> Path | None:
    """Path of a local ``mnist.npz`` (data directory or Keras' cache), or None."""
    for folder in data_dirs():
        if (folder / "mnist.npz").is_file():
            return folder / "mnist.npz"
    return None


def _mnist(download: bool) -> Dataset:
    (x_train, y_train), (x_test, y_test) = mnist_load_data(download)
    return Dataset(
        "mnist",
        to_unit(x_train, 255)[..., None],
        y_train.astype(np.int64),
        to_unit(x_test, 255)[..., None],
        y_test.astype(np.int64),
        (28, 28, 1),
    )


def _find_mnist(download: bool) -> Path:
    path = find_mnist()
    if path is not None:
        _verify_mnist_arrays(path)
        return path
    target = keras_cache_dir() / "mnist.npz"
    if not download:
        raise DataError(_missing_message("mnist.npz"))
    _download(KERAS_ORIGIN + "mnist.npz", target, "sha256", MNIST_FILE_SHA256, "mnist.npz")
    return target


def _verify_mnist_arrays(path: Path) -> None:
    try:
        with np.load(path, allow_pickle=False) as f:
            for key, expected in MNIST_ARRAY_SHA256.items():
                if hashlib.sha256(np.ascontiguousarray(f[key]).tobytes()).hexdigest() != expected:
                    raise DataError(
                        f"{path}: array {key} does not match MNIST's checksum; delete the file to re-download it"
                    )
    except DataError:
        raise
    except Exception as exc:  # zip, key or format errors all mean the same to a user
        raise DataError(f"{path}: not a readable MNIST .npz ({exc}); delete it or replace it with a good copy") from exc


def _fashion_mnist(download: bool) -> Dataset:
    candidates = []
    for folder in data_dirs():
        candidates += [folder, folder / "fashion-mnist"]
    for folder in candidates:
        npz = folder / "fashion_mnist.npz"
        if npz.is_file():
            try:
                with np.load(npz, allow_pickle=False) as f:
                    parts = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
            except Exception as exc:  # zip, key and format errors all mean the same to a user
                raise DataError(
                    f"{npz}: not a readable Fashion-MNIST .npz ({exc.__class__.__name__}); delete it or "
                    "replace it with a good copy"
                ) from None
            break
        if all((folder / name).is_file() for name in FASHION_MD5):
            parts = _read_idx_files(folder)
            break
    else:
        if not download:
            raise DataError(_missing_message("fashion_mnist.npz (or the four Fashion-MNIST .gz files)"))
        folder = keras_cache_dir() / "fashion-mnist"
        for name, md5 in FASHION_MD5.items():
            if not (folder / name).is_file():
                _download(KERAS_ORIGIN + name, folder / name, "md5", md5, "Fashion-MNIST")
        parts = _read_idx_files(folder)
    x_train, y_train, x_test, y_test = parts
    return Dataset(
        "fashion_mnist",
        to_unit(x_train, 255)[..., None],
        y_train.astype(np.int64),
        to_unit(x_test, 255)[..., None],
        y_test.astype(np.int64),
        (28, 28, 1),
    )


def _read_idx_files(folder: Path):
    def read(name, offset, shape):
        try:
            with gzip.open(folder / name, "rb") as f:
                return np.frombuffer(f.read(), np.uint8, offset=offset).reshape(shape)
        except (OSError, EOFError, ValueError) as exc:
            raise DataError(
                f"{folder / name}: not a readable Fashion-MNIST file ({exc.__class__.__name__}); delete it "
                "to download it again"
            ) from None

    return (
        read("train-images-idx3-ubyte.gz", 16, (-1, 28, 28)),
        read("train-labels-idx1-ubyte.gz", 8, (-1,)),
        read("t10k-images-idx3-ubyte.gz", 16, (-1, 28, 28)),
        read("t10k-labels-idx1-ubyte.gz", 8, (-1,)),
    )


def _digits(seed: int) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = to_unit(bunch.images, 16)[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        x, bunch.target.astype(np.int64), test_size=0.2, random_state=seed, stratify=bunch.target
    )
    return Dataset("digits", x_train, y_train, x_test, y_test, (8, 8, 1))


def _missing_message(what: str) -> str:
    where = " or ".join(str(d) for d in data_dirs())
    return f"{what} not found and not downloadable here; put it in {where} (or set {DATA_DIR_ENV} to its folder)"


def _download(url: str, target: Path, algorithm: str, expected: str, what: str) -> None:
    """Fetch ``url`` into ``target`` through aekit's atomic writer, checking its hash before the rename."""
    try:
        with replacing(target, force=True) as tmp:
            digest = hashlib.new(algorithm)
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                raise DataError(f"download of {url} is corrupt (checksum mismatch); try again")
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"could not download {what} from {url} ({exc}); " + _missing_message(target.name)) from exc
