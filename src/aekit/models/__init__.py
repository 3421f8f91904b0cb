"""Model builders and estimators, one module per family; builders return ``(encoder, decoder, autoencoder)``."""

from aekit.models.base import Autoencoder, ModelFileError, families, load, register_family
from aekit.models.conv import ConvAutoencoder, build_conv_autoencoder
from aekit.models.conv_variational import ConvVariationalAutoencoder, build_conv_variational_autoencoder
from aekit.models.dense import DenseAutoencoder, build_dense_autoencoder
from aekit.models.denoising import ConvDenoisingAutoencoder, DenoisingAutoencoder, corrupt, make_corruption
from aekit.models.sparse import SparseAutoencoder
from aekit.models.stacked import StackedAutoencoder
from aekit.models.variational import VariationalAutoencoder, build_variational_autoencoder

__all__ = [
    "Autoencoder",
    "ConvAutoencoder",
    "ConvDenoisingAutoencoder",
    "ConvVariationalAutoencoder",
    "DenoisingAutoencoder",
    "DenseAutoencoder",
    "ModelFileError",
    "SparseAutoencoder",
    "StackedAutoencoder",
    "VariationalAutoencoder",
    "build_conv_autoencoder",
    "build_conv_variational_autoencoder",
    "build_dense_autoencoder",
    "build_variational_autoencoder",
    "corrupt",
    "families",
    "load",
    "make_corruption",
    "register_family",
]
