"""The :class:`Dataset` every loader returns, its train/test split, and fitting samples to a model's shape."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from aekit.errors import DataError


@dataclass(frozen=True)
class Dataset:
    """Train and test arrays (float32) with optional integer labels.

    ``image_shape`` is ``(H, W, C)`` for images and ``None`` for tables; ``columns`` names a
    table's columns when its file had a header; ``skipped`` lists the unreadable files left out
    (``skip_bad_files``). Images are in [0, 1]; tables keep their units.
    ``x_*`` are flat when the data set was loaded with ``flat=True``. A streamed data set's
    ``x_*`` are :class:`~aekit.datasets.Source` views, read batch by batch (``streamed`` is True).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    image_shape: tuple[int, ...] | None
    columns: tuple[str, ...] | None = None
    skipped: tuple[str, ...] = ()

    @property
    def streamed(self) -> bool:
        """Whether the samples are read batch by batch from files rather than held in memory."""
        return bool(getattr(self.x_train, "streamed", False))

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample as stored in ``x_train``."""
        return tuple(self.x_train.shape[1:])

    def flat(self) -> Dataset:
        """The same data with each sample flattened to a vector."""
        return replace(
            self,
            x_train=self.x_train.reshape(len(self.x_train), -1),
            x_test=self.x_test.reshape(len(self.x_test), -1),
        )

    def images(self) -> Dataset:
        """The same data with each sample shaped ``(H, W, C)``; a table cannot be."""
        if self.image_shape is None:
            raise DataError("a table has no image shape; use a dense family (dense, sparse, denoising, vae)")
        return replace(
            self,
            x_train=self.x_train.reshape((-1, *self.image_shape)),
            x_test=self.x_test.reshape((-1, *self.image_shape)),
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` training and ``n_test`` test samples (all when None)."""
        return replace(
            self,
            x_train=self.x_train[:n_train],
            y_train=None if self.y_train is None else self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=None if self.y_test is None else self.y_test[:n_test],
        )


def to_unit(x: np.ndarray, maximum: float) -> np.ndarray:
    """Integers in ``0..maximum`` (pixels of some bit depth) as float32 in [0, 1]."""
    return (x.astype(np.float32) / np.float32(maximum)).astype(np.float32)


def split(name, x, y, image_shape, test_size, seed, columns=None) -> Dataset:
    """Hold out ``test_size`` of the samples (shuffled with ``seed``); with none held out, keep their order."""
    train, test = split_rows(name, len(x), test_size, seed)
    take = x.take if getattr(x, "streamed", False) else x.__getitem__  # a streamed source: views, nothing read
    return Dataset(
        name,
        take(train),
        None if y is None else y[train],
        take(test),
        None if y is None else y[test],
        image_shape,
        columns,
    )


def split_rows(name, n: int, test_size, seed) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` sample numbers of :func:`split`: ``test_size`` held out, shuffled with ``seed``."""
    n_test = int(round(n * test_size))
    if test_size > 0 and n_test == 0 and n >= 2:
        n_test = 1  # a few samples: still hold one out, so there is something to test on
    if n - n_test < 1:
        raise DataError(f"{name}: {n} samples are too few to split off {test_size:.0%} for testing")
    # with nothing held out the samples keep their order, so results line up with the file's rows
    order = np.random.default_rng(seed).permutation(n) if n_test else np.arange(n)
    return order[n_test:], order[:n_test]


def fit_shape(x, input_shape, source):
    """``x`` (an array or a streamed source) reshaped to a model's sample shape when only the layout
    differs, else a clear error."""
    input_shape = tuple(input_shape)
    if tuple(x.shape[1:]) == input_shape:
        return x
    if int(np.prod(x.shape[1:])) == int(np.prod(input_shape)):
        return x.reshape((len(x), *input_shape))
    raise DataError(
        f"{source}: samples have shape {tuple(x.shape[1:])}, but the model expects {input_shape}; "
        "pass data like the data the model was trained on"
    )
