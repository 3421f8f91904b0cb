#!/usr/bin/env python3
"""Exercise 1: a sparse autoencoder, L1 on the encoded output, over aekit's dense builder."""

import keras

from aekit.models.dense import build_dense_autoencoder


def autoencoder(input_dims, hidden_layers, latent_dims, lambtha):
    """Return ``encoder, decoder, auto`` with ``lambtha`` L1 activity regularization on the code."""
    return build_dense_autoencoder(
        input_dims, hidden_layers, latent_dims, code_regularizer=keras.regularizers.L1(lambtha)
    )
