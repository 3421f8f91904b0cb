#!/usr/bin/env python3
"""Exercise 0: a "vanilla" autoencoder, over aekit's dense builder."""

from aekit.models.dense import build_dense_autoencoder


def autoencoder(input_dims, hidden_layers, latent_dims):
    """Return ``encoder, decoder, auto``: relu layers, a sigmoid output, adam and binary cross-entropy."""
    return build_dense_autoencoder(input_dims, hidden_layers, latent_dims)
