"""Data sets as float32 arrays in [0, 1]: MNIST, Fashion-MNIST, scikit-learn's digits, a user's files.

Every loader returns a :class:`Dataset` with image-shaped arrays ``(n, H, W, C)`` (or ``(n, D)`` for
tabular data); ``flat=True`` gives ``(n, H*W*C)``. MNIST and Fashion-MNIST are looked for in the
folder named by ``AEKIT_DATA_DIR``, then in Keras' cache (``~/.keras/datasets``), and only then
downloaded, verified against a checksum and written atomically into Keras' cache. This module
imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

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
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
BUILTIN = ("mnist", "fashion_mnist", "digits")


@dataclass(frozen=True)
class Dataset:
    """Train and test arrays (float32 in [0, 1]) with optional integer labels.

    ``image_shape`` is ``(H, W, C)`` for images and ``None`` for tabular data; ``x_*`` are flat
    when the data set was loaded with ``flat=True``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    image_shape: tuple[int, ...] | None

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample as stored in ``x_train``."""
        return tuple(self.x_train.shape[1:])

    def flat(self) -> "Dataset":
        """The same data with each sample flattened to a vector."""
        return replace(
            self,
            x_train=self.x_train.reshape(len(self.x_train), -1),
            x_test=self.x_test.reshape(len(self.x_test), -1),
        )

    def images(self) -> "Dataset":
        """The same data with each sample shaped ``(H, W, C)``; tabular data cannot be."""
        if self.image_shape is None:
            raise DataError(f"{self.name}: tabular data has no image shape; use a dense model")
        return replace(
            self,
            x_train=self.x_train.reshape((-1, *self.image_shape)),
            x_test=self.x_test.reshape((-1, *self.image_shape)),
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first ``n_train`` training and ``n_test`` test samples (all when None)."""
        return replace(
            self,
            x_train=self.x_train[:n_train],
            y_train=None if self.y_train is None else self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=None if self.y_test is None else self.y_test[:n_test],
        )


def load_dataset(
    source: str | os.PathLike,
    *,
    flat: bool = False,
    test_size: float = 0.1,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    download: bool = True,
) -> Dataset:
    """Load a built-in data set by name (``mnist``, ``fashion_mnist``, ``digits``) or a user's file.

    A user's ``.npy``, ``.npz``, ``.csv`` or folder of PNG/JPEG images is split into train and test
    parts (``test_size``, shuffled with ``seed``) unless the ``.npz`` holds ``x_train``/``x_test``.
    Image folders are resized to ``image_size`` (default: the first image's size) and read as
    grayscale if every image is, else RGB (``color_mode`` "L" or "RGB" overrides).
    """
    name = str(source)
    key = name.lower().replace("-", "_")
    if key == "mnist":
        data = _mnist(download)
    elif key == "fashion_mnist":
        data = _fashion_mnist(download)
    elif key == "digits":
        data = _digits(seed)
    else:
        data = _load_path(Path(source), test_size, seed, image_size, color_mode)
    return data.flat() if flat else data


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


# ---------------------------------------------------------------- built-in data sets


def _to_unit(x: np.ndarray, maximum: float) -> np.ndarray:
    return (x.astype(np.float32) / np.float32(maximum)).astype(np.float32)


def _mnist(download: bool) -> Dataset:
    (x_train, y_train), (x_test, y_test) = mnist_load_data(download)
    return Dataset(
        "mnist",
        _to_unit(x_train, 255)[..., None],
        y_train.astype(np.int64),
        _to_unit(x_test, 255)[..., None],
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
                    raise DataError(f"{path}: array {key} does not match MNIST's checksum; delete the file to re-download it")
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
            with np.load(npz, allow_pickle=False) as f:
                parts = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
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
        _to_unit(x_train, 255)[..., None],
        y_train.astype(np.int64),
        _to_unit(x_test, 255)[..., None],
        y_test.astype(np.int64),
        (28, 28, 1),
    )


def _read_idx_files(folder: Path):
    def read(name, offset, shape):
        with gzip.open(folder / name, "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset).reshape(shape)

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
    x = _to_unit(bunch.images, 16)[..., None]
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


# ---------------------------------------------------------------- a user's files


def _load_path(path: Path, test_size: float, seed: int, image_size, color_mode) -> Dataset:
    if not path.exists():
        names = ", ".join(BUILTIN)
        raise DataError(f"{path}: no such file or folder (built-in data sets: {names})")
    if path.is_dir():
        x, y, image_shape = _read_image_folder(path, image_size, color_mode)
        return _split(path.name, x, y, image_shape, test_size, seed)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        x, y = _read_npy(path), None
    elif suffix == ".npz":
        return _read_npz(path, test_size, seed)
    elif suffix == ".csv":
        x, y = _read_csv(path), None
    elif suffix in IMAGE_SUFFIXES:
        raise DataError(f"{path}: a single image is not a data set; pass the folder that holds the images")
    else:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use .npy, .npz, .csv or a folder of PNG/JPEG images")
    x, image_shape = _as_samples(path, x)
    return _split(path.stem, x, y, image_shape, test_size, seed)


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path}: holds Python objects (pickled); save a numeric array instead") from exc
    except Exception as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from exc


def _read_npz(path: Path, test_size: float, seed: int) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as exc:
        raise DataError(f"{path}: holds Python objects (pickled); save numeric arrays instead") from exc
    except Exception as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from exc
    if not arrays:
        raise DataError(f"{path}: the archive is empty")
    if "x_train" in arrays:
        x_train, shape = _as_samples(path, arrays["x_train"])
        x_test, _ = _as_samples(path, arrays.get("x_test", x_train[:0]))
        if x_test.shape[1:] != x_train.shape[1:]:
            raise DataError(f"{path}: x_test samples have shape {x_test.shape[1:]}, x_train {x_train.shape[1:]}; they must match")
        return Dataset(path.stem, x_train, _labels(path, arrays.get("y_train"), len(x_train)),
                       x_test, _labels(path, arrays.get("y_test"), len(x_test)), shape)
    key = next((k for k in ("x", "X", "data", "images") if k in arrays), None)
    if key is None:
        if len(arrays) != 1:
            raise DataError(f"{path}: cannot tell which array holds the samples ({', '.join(arrays)}); name it 'x' or 'x_train'")
        key = next(iter(arrays))
    x, shape = _as_samples(path, arrays[key])
    y = next((arrays[k] for k in ("y", "labels", "targets") if k in arrays), None)
    return _split(path.stem, x, _labels(path, y, len(x)), shape, test_size, seed)


def _labels(path: Path, y, n: int):
    if y is None:
        return None
    y = np.asarray(y)
    if y.shape != (n,):
        raise DataError(f"{path}: labels have shape {y.shape}, expected ({n},)")
    return y.astype(np.int64) if np.issubdtype(y.dtype, np.number) else y


def _read_csv(path: Path) -> np.ndarray:
    rows = []
    try:
        with open(path, newline="") as f:
            for line_no, row in enumerate(csv.reader(f), start=1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                try:
                    rows.append([float(cell) for cell in row])
                except ValueError:
                    if line_no == 1 and not rows:
                        continue  # a header line
                    bad = next(c for c in row if not _is_float(c))
                    raise DataError(f"{path}: line {line_no} has a non-numeric value {bad!r}; the CSV must be all numbers") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a text CSV file") from exc
    if not rows:
        raise DataError(f"{path}: holds no data rows")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise DataError(f"{path}: rows have different numbers of columns ({sorted(widths)}); every row needs the same")
    return np.asarray(rows, dtype=np.float64)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_image_folder(folder: Path, image_size, color_mode):
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataError(f"{folder}: holds no .png or .jpg images")
    images = []
    for file in files:
        try:
            with Image.open(file) as im:
                im.load()
                images.append(im.copy())
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"{file}: not a readable image ({exc.__class__.__name__}); remove or replace it") from exc
    if color_mode is None:
        color_mode = "L" if all(im.mode in ("1", "L", "LA", "I", "I;16") for im in images) else "RGB"
    if color_mode not in ("L", "RGB"):
        raise DataError(f"color mode {color_mode!r} is not supported; use 'L' (grayscale) or 'RGB'")
    width, height = image_size[::-1] if image_size else images[0].size
    arrays = [np.asarray(im.convert(color_mode).resize((width, height), Image.BILINEAR)) for im in images]
    x = _to_unit(np.stack(arrays), 255)
    if color_mode == "L":
        x = x[..., None]
    # Images in sub-folders are labelled by the sub-folder's name (sorted, numbered from 0).
    classes = sorted({f.parent.relative_to(folder).as_posix() for f in files})
    y = None
    if len(classes) > 1:
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[f.parent.relative_to(folder).as_posix()] for f in files], dtype=np.int64)
    return x, y, x.shape[1:]


def _as_samples(path: Path, x) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """Check an array of samples and bring it to float32 in [0, 1]; return it and its image shape."""
    x = np.asarray(x)
    if x.size == 0 or len(x) == 0:
        raise DataError(f"{path}: holds no samples")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{path}: data type {x.dtype} is not numeric")
    if x.ndim == 1:
        raise DataError(f"{path}: a 1-D array of {len(x)} values is ambiguous; save it as (samples, features)")
    if x.ndim > 4 or (x.ndim == 4 and x.shape[-1] not in (1, 3, 4)):
        raise DataError(f"{path}: shape {x.shape} is not (n, features), (n, H, W) or (n, H, W, C) with C in 1, 3, 4")
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        bad = int(np.argwhere(~np.isfinite(x.reshape(len(x), -1)))[0, 0])
        raise DataError(f"{path}: sample {bad} holds NaN or infinite values; clean or drop it")
    if np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
        if x.min() < 0 or x.max() > 255:
            raise DataError(f"{path}: integer values range {x.min()}..{x.max()}, expected 0..255; scale to [0, 1] floats")
        x = _to_unit(x, 255 if x.max() > 1 else 1)
    else:
        x = x.astype(np.float32)
    if x.ndim == 2:
        return x, None
    if x.ndim == 3:
        x = x[..., None]
    return x, tuple(x.shape[1:])


def _split(name, x, y, image_shape, test_size, seed) -> Dataset:
    n_test = int(round(len(x) * test_size))
    if len(x) - n_test < 1:
        raise DataError(f"{name}: {len(x)} samples are too few to split off {test_size:.0%} for testing")
    # with nothing held out the samples keep their order, so results line up with the file's rows
    order = np.random.default_rng(seed).permutation(len(x)) if n_test else np.arange(len(x))
    train, test = order[n_test:], order[:n_test]
    return Dataset(
        name,
        x[train],
        None if y is None else y[train],
        x[test],
        None if y is None else y[test],
        image_shape,
    )


def fit_shape(x: np.ndarray, input_shape, source) -> np.ndarray:
    """``x`` reshaped to a model's sample shape when only the layout differs, else a clear error."""
    input_shape = tuple(input_shape)
    if tuple(x.shape[1:]) == input_shape:
        return x
    if int(np.prod(x.shape[1:])) == int(np.prod(input_shape)):
        return x.reshape((len(x), *input_shape))
    raise DataError(
        f"{source}: samples have shape {tuple(x.shape[1:])}, but the model expects {input_shape}; "
        "pass data like the data the model was trained on"
    )
