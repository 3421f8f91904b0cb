"""Model families, one module each: builders ``(encoder, decoder, autoencoder)`` and estimators.

A family is declared once, on its estimator class (see :mod:`aekit.models.base`);
:mod:`aekit.registry` finds aekit's own and plug-in families by name.
"""

from aekit.models.base import Autoencoder
from aekit.models.conv import ConvAutoencoder, build_conv_autoencoder
from aekit.models.conv_variational import ConvVariationalAutoencoder, build_conv_variational_autoencoder
from aekit.models.denoising import ConvDenoisingAutoencoder, DenoisingAutoencoder, make_corruption
from aekit.models.dense import DenseAutoencoder, build_dense_autoencoder
from aekit.models.sparse import SparseAutoencoder
from aekit.models.stacked import StackedAutoencoder
from aekit.models.variational import VariationalAutoencoder, build_variational_autoencoder
from aekit.noise import corrupt

__all__ = [
    "Autoencoder",
    "ConvAutoencoder",
    "ConvDenoisingAutoencoder",
    "ConvVariationalAutoencoder",
    "DenoisingAutoencoder",
    "DenseAutoencoder",
    "SparseAutoencoder",
    "StackedAutoencoder",
    "VariationalAutoencoder",
    "build_conv_autoencoder",
    "build_conv_variational_autoencoder",
    "build_dense_autoencoder",
    "build_variational_autoencoder",
    "corrupt",
    "make_corruption",
]
