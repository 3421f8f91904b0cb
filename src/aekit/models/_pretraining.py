"""Greedy layer-wise pretraining (lesson 003), shared by the stacked classifier and deep dense autoencoders.

Each layer is first trained as a one-hidden-layer autoencoder on the codes of the layers below
it; the trained layers then initialise the deep model, which is fine-tuned end to end (Hinton &
Salakhutdinov 2006 pretrain with RBMs; the lesson, and aekit, with shallow autoencoders).
"""

import numpy as np

from aekit import training


def pretrain_layers(X, hidden_layers, *, plan, activation="relu", tied=False, verbose=0, input_bounded=True):
    """Greedy layer-wise pretraining along ``plan``: return ``(encoder_layers, decoder_layers, history)``.

    ``plan`` (a :class:`~aekit.training.TrainingPlan`) gives each layer's epochs, the batch size and
    the (peak) learning rate, held constant: the model's own plan with the pretraining epochs, so a recipe's batch
    size and rate reach pretraining too.
    Layer ``i`` is trained as a one-hidden-layer autoencoder on the codes of layers ``0..i-1``.
    ``activation`` is one activation for every layer or a sequence of one per layer (a linear
    code layer on top, say). The first decoder reproduces pixels in [0, 1] (sigmoid, binary
    cross-entropy), or with ``input_bounded=False`` unbounded (standardised) values (linear, mean
    squared error); deeper ones reproduce codes, with sigmoid outputs when those codes are sigmoid
    and linear outputs and mean squared error otherwise. With ``tied=True`` each shallow autoencoder
    is one :class:`~aekit.layers.TiedDense` layer decoding with its transposed kernel, returned as
    both the encoder and the decoder layer. Layer ``i``'s epochs are shuffled from ``(plan.seed + i, epoch)``.
    """
    import keras

    from aekit.layers import TiedDense

    activations = [activation] * len(hidden_layers) if isinstance(activation, str) else list(activation)
    if len(activations) != len(hidden_layers):
        raise ValueError(f"{len(activations)} activations for {len(hidden_layers)} layers; give one per layer")
    codes = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
    encoders, decoders, history = [], [], {}
    for i, units in enumerate(hidden_layers):
        bounded = input_bounded if i == 0 else activations[i - 1] == "sigmoid"
        output_activation = "sigmoid" if bounded else None
        inputs = keras.Input((codes.shape[1],))
        if tied:
            encode = decode = TiedDense(
                units, activation=activations[i], transposed_activation=output_activation, name=f"tied_{i}"
            )
            shallow = keras.Model(inputs, encode(encode(inputs), transpose=True))
        else:
            encode = keras.layers.Dense(units, activation=activations[i], name=f"encode_{i}")
            decode = keras.layers.Dense(codes.shape[1], activation=output_activation, name=f"decode_{i}")
            shallow = keras.Model(inputs, decode(encode(inputs)))
        shallow.compile(
            optimizer=keras.optimizers.Adam(plan.learning_rate), loss="binary_crossentropy" if bounded else "mse"
        )
        losses = training.train(shallow, codes, plan=plan.replace(seed=plan.seed + i), verbose=verbose)
        history[f"pretrain_{i}_loss"] = losses["loss"]
        codes = training.predict(keras.Model(inputs, encode(inputs)), codes)
        encoders.append(encode)
        decoders.append(decode)
    return encoders, decoders, history
