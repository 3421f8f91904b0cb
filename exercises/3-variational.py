#!/usr/bin/env python3
"""Exercise 3: a variational autoencoder, over aekit's variational builder."""

from aekit.models.variational import build_variational_autoencoder


def autoencoder(input_dims, hidden_layers, latent_dims):
    """Return ``encoder, decoder, auto``; the encoder outputs ``[z, mean, log_var]``."""
    return build_variational_autoencoder(input_dims, hidden_layers, latent_dims)
