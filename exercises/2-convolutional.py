#!/usr/bin/env python3
"""Exercise 2: a convolutional autoencoder in the lesson's layout, over aekit's conv builder."""

from aekit.models.conv import build_conv_autoencoder


def autoencoder(input_dims, filters, latent_dims):
    """Return ``encoder, decoder, auto``; the decoder's second-to-last convolution uses valid padding.

    Built from exactly the layers the specification names (Keras' own ``MaxPooling2D``).
    """
    return build_conv_autoencoder(input_dims, filters, latent_dims, lesson_layout=True, fast_pooling=False)
