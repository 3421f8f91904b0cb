"""Pick jax as Keras' backend unless the user chose one.

Keras reads ``KERAS_BACKEND`` once, at its first import. aekit only fills the
variable in when the user has not set it and Keras is not imported yet, so a
user's choice (environment or an earlier ``import keras``) always wins.
"""

import os
import sys

DEFAULT_BACKEND = "jax"


def use_default_backend():
    """Set ``KERAS_BACKEND`` to jax if nothing chose a backend yet; return the name in force."""
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)
    # Quiet TensorFlow's C++ start-up chatter when it is the backend or imported by a user.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return os.environ.get("KERAS_BACKEND", DEFAULT_BACKEND)

