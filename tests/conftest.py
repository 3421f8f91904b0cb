"""Shared fixtures: seeded small data, MNIST when a data directory provides it, a headless plot backend."""

import os
import signal

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

import aekit  # noqa: F401  (before any test imports keras, so aekit's default backend applies)

# Ctrl-C as a terminal delivers it. A job started in the background (`make test &`) has SIGINT ignored,
# and then neither this process nor the aekit processes the tests start and interrupt would stop on it.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits as an aekit Dataset (image-shaped, float32 in [0, 1])."""
    from aekit.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist():
    """MNIST from AEKIT_DATA_DIR or Keras' cache; skipped (never downloaded) when absent."""
    from aekit.datasets import find_mnist, load_dataset

    if find_mnist() is None:
        pytest.skip("MNIST not found: set AEKIT_DATA_DIR to a folder holding mnist.npz")
    return load_dataset("mnist", download=False)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
