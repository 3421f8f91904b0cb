"""Every use of Keras' internals (``keras.src``) and of state Keras does not save, in one place.

Keras' public API lacks three things aekit needs: the ``Distribution`` base class (to accept a
user's own distribution), a way to keep Keras from importing TensorFlow only to seed it, and the
random-generator states that a ``.keras`` file leaves out. A Keras upgrade that moves its internals
breaks this module alone.
"""

from __future__ import annotations

import contextlib
import sys


def Distribution():  # noqa: N802 - it returns a class
    """Keras' ``Distribution`` base class (internal: ``keras.distribution`` exports only its subclasses)."""
    from keras.src.distribution.distribution_lib import Distribution as base

    return base


def rng_variables(model) -> list:
    """The model's random-generator states (``SeedGenerator``s): variables that are not weights.

    Keras saves weights and optimizer variables in a ``.keras`` file but not these, and a
    sampling or noise layer needs them to draw the same numbers after a resume.
    """
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


@contextlib.contextmanager
def no_tensorflow_import():
    """Keep Keras from importing TensorFlow (seconds) only to seed it or to rule out TF objects.

    Keras' ``set_random_seed`` and its serializer import TensorFlow whenever it is installed. On
    another backend, with TensorFlow not imported, there is no TensorFlow state to seed or save.
    """
    from keras.src.utils import module_utils

    probe = module_utils.tensorflow
    skip = "tensorflow" not in sys.modules and probe._available is None
    if skip:
        probe._available = False
    try:
        yield
    finally:
        if skip:
            probe._available = None
