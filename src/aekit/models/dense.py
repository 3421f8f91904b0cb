"""Fully connected autoencoders: vanilla, multilayer, sparse and denoising (lessons 000, 003, 004).

One builder covers them all: the encoder is ``hidden_layers`` then the code layer, the decoder
mirrors ``hidden_layers`` and ends in ``output_activation``. Sparsity is an activity regularizer
on the code; denoising is a corruption layer placed before the encoder in the autoencoder only.

With ``tied_weights=True`` each decoder layer is the transpose of its encoder twin
(:class:`~aekit.layers.TiedDense`). Both halves then call the same layer objects, so the
autoencoder is one flat graph rather than ``decoder(encoder(x))``: nesting two models that share
layers would save those layers twice and untie them on loading. :func:`tied_views` rebuilds the
encoder and decoder from such a graph.
"""

from aekit.models._common import (
    as_shape,
    assemble,
    check_sizes,
    flatten_input,
    make_optimizer,
    size,
    unflatten_output,
)
from aekit.models._loss import LOSS_HELP, LOSSES
from aekit.models._params import LATENT_DIM
from aekit.models.base import Autoencoder, ScaledInput
from aekit.params import ACTIVATIONS, Choice, Flag, Integer, Param, Real, Sizes


def build_dense_autoencoder(
    input_dims,
    hidden_layers,
    latent_dim,
    *,
    activation="relu",
    code_activation="relu",
    output_activation="sigmoid",
    code_regularizer=None,
    corruption=None,
    tied_weights=False,
    loss="binary_crossentropy",
    optimizer="adam",
    learning_rate=None,
):
    """Return ``(encoder, decoder, autoencoder)``, the autoencoder compiled with ``optimizer`` and ``loss``.

    ``input_dims`` is an int or a sample shape (image-shaped inputs are flattened and the
    decoder's output reshaped back). ``code_regularizer`` (e.g. ``keras.regularizers.L1``) acts on
    the code's activations; ``corruption`` is a layer applied to the autoencoder's input;
    ``tied_weights`` makes each decoder layer use the transposed kernel of its encoder twin.
    """
    import keras

    shape = as_shape(input_dims)
    hidden_layers = check_sizes("hidden layer sizes", hidden_layers)
    (latent_dim,) = check_sizes("latent size", latent_dim)
    if tied_weights:
        return _build_tied(
            shape,
            hidden_layers,
            latent_dim,
            activation,
            code_activation,
            output_activation,
            code_regularizer,
            corruption,
            loss,
            make_optimizer(optimizer, learning_rate),
        )

    inputs = keras.Input(shape)
    x = flatten_input(inputs, shape)
    for units in hidden_layers:
        x = keras.layers.Dense(units, activation=activation)(x)
    code = keras.layers.Dense(
        latent_dim, activation=code_activation, activity_regularizer=code_regularizer, name="code"
    )(x)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input((latent_dim,))
    y = latent
    for units in reversed(hidden_layers):
        y = keras.layers.Dense(units, activation=activation)(y)
    y = keras.layers.Dense(size(shape), activation=output_activation)(y)
    decoder = keras.Model(latent, unflatten_output(y, shape), name="decoder")

    auto = assemble(encoder, decoder, shape, corruption)
    auto.compile(optimizer=make_optimizer(optimizer, learning_rate), loss=loss)
    return encoder, decoder, auto


def _build_tied(
    shape,
    hidden_layers,
    latent_dim,
    activation,
    code_activation,
    output_activation,
    code_regularizer,
    corruption,
    loss,
    optimizer,
):
    import keras

    from aekit.layers import TiedDense

    sizes = hidden_layers + [latent_dim]
    # layer i maps sizes[i-1] -> sizes[i]; transposed, it maps back with the activation of the layer it mirrors
    back_activations = [output_activation] + [activation] * len(hidden_layers)
    forward_activations = [activation] * len(hidden_layers) + [code_activation]
    layers = [
        TiedDense(n, activation=fwd, transposed_activation=back, name=f"tied_{i}")
        for i, (n, fwd, back) in enumerate(zip(sizes, forward_activations, back_activations))
    ]
    code_layer = None
    if code_regularizer is not None:
        code_layer = keras.layers.Activation("linear", activity_regularizer=code_regularizer, name="code_regularizer")

    inputs = keras.Input(shape, name="input")
    x = corruption(inputs) if corruption is not None else inputs
    auto = keras.Model(
        inputs, _tied_decode(_tied_encode(x, shape, layers, code_layer), shape, layers), name="autoencoder"
    )
    auto.compile(optimizer=optimizer, loss=loss)
    encoder, decoder = tied_views(auto)
    return encoder, decoder, auto


def _tied_encode(x, shape, layers, code_layer):
    x = flatten_input(x, shape)
    for layer in layers:
        x = layer(x)
    return code_layer(x) if code_layer is not None else x


def _tied_decode(code, shape, layers):
    y = code
    for layer in reversed(layers):
        y = layer(y, transpose=True)
    return unflatten_output(y, shape)


def tied_layers(auto):
    """The :class:`TiedDense` layers of a tied autoencoder ``auto``, from the input to the code."""
    from aekit.layers import TiedDense

    return sorted(
        (layer for layer in auto.layers if isinstance(layer, TiedDense)),
        key=lambda layer: int(layer.name.split("_")[-1]),
    )


def tied_views(auto):
    """``(encoder, decoder)`` models sharing the :class:`TiedDense` layers of a tied autoencoder ``auto``."""
    import keras

    shape = tuple(auto.input_shape[1:])
    layers = tied_layers(auto)
    code_layer = next((layer for layer in auto.layers if layer.name == "code_regularizer"), None)
    inputs = keras.Input(shape)
    encoder = keras.Model(inputs, _tied_encode(inputs, shape, layers, code_layer), name="encoder")
    latent = keras.Input((layers[-1].units,))
    decoder = keras.Model(latent, _tied_decode(latent, shape, layers), name="decoder")
    return encoder, decoder


class DenseAutoencoder(ScaledInput, Autoencoder):
    """A fully connected autoencoder: vanilla (one hidden size), multilayer/deep, sparse (``l1``).

    Tables in any units work as they are: ``scale="auto"`` standardises data outside [0, 1] inside
    the model (outputs come back in the data's units) and the output layer and ``loss="auto"``
    follow (linear and mean squared error for such data; sigmoid and cross-entropy for [0, 1]).

    ``tied_weights=True`` ties each decoder layer to the transpose of its encoder twin.
    ``pretrain_epochs=N`` first pretrains the layers greedily, N epochs each (lesson 003; Hinton &
    Salakhutdinov's recipe for deep autoencoders), then trains the whole network ``epochs`` epochs
    from there; the pretraining losses are kept in ``pretrain_history_``.

    >>> ae = DenseAutoencoder(hidden_layers=(128, 64), latent_dim=32, epochs=10).fit(X)
    >>> codes = ae.encode(X)
    """

    family = "dense"
    summary = "fully connected: vanilla (one --hidden size) or deep (several)"
    params = (
        Param(
            "hidden_layers",
            (128, 64),
            Sizes(),
            "hidden layer sizes from the input to the code, e.g. 128,64",
            flag="hidden",
            positional=True,
        ),
        LATENT_DIM,
        Param("activation", "relu", Choice(*ACTIVATIONS), "activation of the hidden layers"),
        Param("code_activation", "relu", Choice(*ACTIVATIONS), "activation of the code layer"),
        Param("l1", 0.0, Real(0), "weight of an L1 penalty on the code's activations (0: none)"),
        Param(
            "tied_weights", False, Flag(), "tie each decoder layer to the transpose of its encoder twin", flag="tied"
        ),
        Param("loss", "auto", Choice(*LOSSES), LOSS_HELP),
        Param(
            "pretrain_epochs", 0, Integer(0), "first pretrain the layers greedily, this many epochs each (lesson 003)"
        ),
    )

    def figure_names(self):
        return (*self.figures, "code_distribution") if self.l1 else self.figures

    def _code_regularizer(self):
        import keras

        return keras.regularizers.L1(self.l1) if self.l1 else None

    def _code_activation(self):
        return self.code_activation

    def _corruption(self):
        return None

    def _build(self, input_shape):
        return build_dense_autoencoder(
            input_shape,
            list(self.hidden_layers),
            self.latent_dim,
            activation=self.activation,
            code_activation=self._code_activation(),
            output_activation="sigmoid" if self.bounded_output() else "linear",
            code_regularizer=self._code_regularizer(),
            corruption=self._corruption(),
            tied_weights=self.tied_weights,
            loss=self.resolved_loss(),
            learning_rate=self.learning_rate,
        )

    def _initialise(self, X, plan, verbose):
        """With ``pretrain_epochs``: start from greedily pretrained layers (along ``plan``) instead of random ones."""
        import keras

        from aekit.models._pretraining import pretrain_layers

        self.__dict__.pop("pretrain_history_", None)
        if not self.pretrain_epochs:
            return
        sizes = [*self.hidden_layers, self.latent_dim]
        activations = [self.activation] * len(self.hidden_layers) + [self._code_activation() or "linear"]
        encoders, decoders, self.pretrain_history_ = pretrain_layers(
            X,
            sizes,
            activation=activations,
            tied=self.tied_weights,
            plan=plan.replace(epochs=int(self.pretrain_epochs)),
            verbose=verbose,
            input_bounded=self.bounded_output(),
        )
        if self.tied_weights:
            built = tied_layers(self.model_)
            pretrained_layers = encoders
        else:
            built = [layer for layer in self.encoder_.layers if isinstance(layer, keras.layers.Dense)]
            built += [layer for layer in self.decoder_.layers if isinstance(layer, keras.layers.Dense)]
            pretrained_layers = [*encoders, *reversed(decoders)]
        for layer, pretrained in zip(built, pretrained_layers, strict=True):
            layer.set_weights(pretrained.get_weights())

    def _saved_attributes(self) -> dict:
        return {"pretrain_history_": self.pretrain_history_} if hasattr(self, "pretrain_history_") else {}

    def _split_models(self, model):
        if self.tied_weights:
            return tied_views(model)
        return super()._split_models(model)
