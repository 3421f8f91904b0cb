"""aekit: autoencoders on Keras 3 — vanilla, sparse, denoising, convolutional, stacked, variational.

Importing ``aekit`` is cheap: names below load their module on first use, so the command
line starts fast and Keras is imported only when a model is needed.
"""

from importlib import import_module

from aekit._backend import use_default_backend
from aekit._version import version as _version  # importlib.metadata only: Keras is not imported

use_default_backend()

__version__ = _version()

# public name -> module that defines it
_EXPORTS = {
    "datasets": "aekit.datasets",
    "Dataset": "aekit.datasets",
    "load_dataset": "aekit.datasets",
    "errors": "aekit.errors",
    "AekitError": "aekit.errors",
    "DataError": "aekit.errors",
    "ModelFileError": "aekit.errors",
    "ParameterError": "aekit.errors",
    "Param": "aekit.params",
    "build_dense_autoencoder": "aekit.models",
    "build_conv_autoencoder": "aekit.models",
    "build_variational_autoencoder": "aekit.models",
    "Autoencoder": "aekit.models",
    "DenseAutoencoder": "aekit.models",
    "ConvAutoencoder": "aekit.models",
    "VariationalAutoencoder": "aekit.models",
    "SparseAutoencoder": "aekit.models",
    "DenoisingAutoencoder": "aekit.models",
    "ConvDenoisingAutoencoder": "aekit.models",
    "ConvVariationalAutoencoder": "aekit.models",
    "StackedAutoencoder": "aekit.models",
    "build_conv_variational_autoencoder": "aekit.models",
    "corrupt": "aekit.noise",
    "load": "aekit.persistence",
    "save": "aekit.persistence",
    "families": "aekit.registry",
    "applications": "aekit.applications",
    "AutoencoderReducer": "aekit.applications",
    "AnomalyDetector": "aekit.applications",
    "linear_probe": "aekit.applications",
    "evaluation": "aekit.evaluation",
    "roc_auc": "aekit.evaluation",
    "psnr": "aekit.evaluation",
    "ssim": "aekit.evaluation",
    "plots": "aekit.plots",
    "figures": "aekit.figures",
    "explore": "aekit.explorer",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'aekit' has no attribute {name!r}")
    module = import_module(_EXPORTS[name])
    value = module if module.__name__ == f"aekit.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
