"""Model builders and estimators, one module per family; builders return ``(encoder, decoder, autoencoder)``."""

from aekit.models.base import Autoencoder, ModelFileError, families, load, register_family
from aekit.models.conv import ConvAutoencoder, build_conv_autoencoder
from aekit.models.dense import DenseAutoencoder, build_dense_autoencoder
from aekit.models.variational import VariationalAutoencoder, build_variational_autoencoder

__all__ = [
    "Autoencoder",
    "ConvAutoencoder",
    "DenseAutoencoder",
    "ModelFileError",
    "VariationalAutoencoder",
    "build_conv_autoencoder",
    "build_dense_autoencoder",
    "build_variational_autoencoder",
    "families",
    "load",
    "register_family",
]
