"""Stacked autoencoders (lesson 003): greedy layer-wise pretraining, a classifier head, fine-tuning.

Training goes in three stages, as in the lesson's ``model1.fit(x, x)``, ``model2.fit(h_100, h_100)``,
``model3.fit(h_50, y)``, then ``model.fit(x, y)``:

1. pretrain one shallow autoencoder per entry of ``hidden_layers`` (784 -> 100 -> 784, then
   100 -> 50 -> 100 on the first one's codes, ...), each on the codes of the one before;
2. stack the encoders and train a softmax head on the top code with the encoders frozen;
3. unfreeze and fine-tune encoders and head together on the labels.

``dropout`` > 0 drops that fraction of every hidden layer's units while the classifier trains
(stages 2 and 3; never at inference): the usual regulariser for fine-tuning wide stacks, which
otherwise overfit the labels. The accuracy after stage 2 (``frozen_accuracy_``) and after stage 3
(``finetuned_accuracy_``) are kept, measured on ``validation_data`` when given, else on the training data. The decoders
from stage 1, stacked in reverse, make ``decode`` and ``reconstruct`` work as for every family.
"""

import numpy as np
from sklearn.base import ClassifierMixin

from aekit import training
from aekit.errors import ParameterError
from aekit.models._common import as_shape, check_sizes, flatten_input, unflatten_output
from aekit.models.base import Autoencoder
from aekit.params import ACTIVATIONS, Choice, Integer, Param, Real, Sizes


class StackedAutoencoder(ClassifierMixin, Autoencoder):
    """Stacked autoencoder classifier: layer-wise pretrained encoders, a softmax head, fine-tuned.

    >>> clf = StackedAutoencoder(hidden_layers=(100, 50)).fit(X, y)
    >>> clf.frozen_accuracy_, clf.finetuned_accuracy_, clf.score(X_test, y_test)
    """

    family = "stacked"
    summary = "classifier: layer-wise pretrained encoders, a softmax head, fine-tuned on labels"
    params = (
        Param(
            "hidden_layers",
            (100, 50),
            Sizes(min_len=1),
            "encoder layer sizes, each pretrained as an autoencoder",
            flag="hidden",
            positional=True,
        ),
        Param("activation", "relu", Choice(*ACTIVATIONS), "activation of the hidden layers"),
        Param(
            "dropout", 0.0, Real(0, 1, max_open=True), "fraction of hidden units dropped while the classifier trains"
        ),
        Param("pretrain_epochs", 10, Integer(0), "epochs of each layer's pretraining"),
        Param("head_epochs", 10, Integer(0), "epochs of the softmax head on the frozen encoders"),
        Param("finetune_learning_rate", 1e-3, Real(0, min_open=True), "Adam's step size while fine-tuning"),
    )
    defaults = {"epochs": 10, "batch_size": 128}
    uses = ("classify",)
    #: trained with labels, so only from Python
    needs_labels = True

    def _check_params(self, params):
        if params["recipe"] != "standard":
            raise ParameterError(
                "{p}: the stacked classifier trains in three stages with their own learning rates; "
                "use recipe='standard'",
                p="recipe",
            )

    def fit(self, X, y=None, *, validation_data=None, callbacks=(), verbose=0):
        """Pretrain layer by layer on ``X``, train the head on frozen encoders, then fine-tune on ``y``.

        ``validation_data`` is ``(X_val, y_val)``; ``callbacks`` apply to the fine-tuning stage.
        """
        return self._fit(X, y, validation_data=validation_data, callbacks=callbacks, verbose=verbose)

    def _check_targets(self, X, y):
        """The labels, one per sample, checked as scikit-learn's classifiers check them; ``classes_`` from them."""
        if y is None:
            raise ValueError(
                "StackedAutoencoder requires y to be passed, but the target y is None: fit(X, y) needs the labels"
            )
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import column_or_1d

        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if y.shape != (len(X),):
            raise ValueError(f"y must hold one label per sample, shape ({len(X)},), got {y.shape}")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("y holds 1 class; a classifier needs at least two")
        return y

    def _check_validation(self, validation_data):
        if validation_data is None:
            return None
        X_val, y_val = validation_data
        return self._check_input(X_val, fitting=True), self._encode_labels(y_val)

    def _build_model(self, X, y, plan, verbose):
        """Stage 1: pretrain one shallow autoencoder per layer (along ``plan``), then stack them under a head."""
        import keras

        from aekit.models._pretraining import pretrain_layers

        hidden_layers = check_sizes("hidden layer sizes", self.hidden_layers)
        encoders, decoders, self.pretrain_history_ = pretrain_layers(
            X,
            hidden_layers,
            activation=self.activation,
            plan=plan.replace(epochs=self.pretrain_epochs),
            verbose=verbose,
        )
        self.encoder_, self.decoder_ = _stack(self.input_shape_, encoders, decoders)
        head = keras.layers.Dense(len(self.classes_), activation="softmax", name="head")
        self.model_ = _combined(self.encoder_, self.decoder_, head, self.input_shape_)
        self._after_load()

    def _train(self, X, y, plan, *, validation_data, history, callbacks, verbose, on_epoch_end):
        """Stages 2 and 3: the head on the frozen encoders, then everything fine-tuned on the labels."""
        targets = self._encode_labels(y)
        self.history_ = dict(self.__dict__.pop("pretrain_history_"))
        check_on = validation_data or (X, targets)
        self.encoder_.trainable = False
        self._train_classifier("head", X, targets, plan.replace(epochs=self.head_epochs), validation_data, (), verbose)
        self.frozen_accuracy_ = self._accuracy(*check_on)
        self.encoder_.trainable = True
        finetune = plan.replace(learning_rate=self.finetune_learning_rate)
        self._train_classifier("finetune", X, targets, finetune, validation_data, callbacks, verbose)
        self.finetuned_accuracy_ = self._accuracy(*check_on)
        return self.history_

    def _train_classifier(self, stage, X, targets, plan, validation, callbacks, verbose):
        import keras

        self.classifier_.compile(
            optimizer=keras.optimizers.Adam(plan.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        history = training.train(
            self.classifier_, X, targets, plan=plan, validation_data=validation, callbacks=callbacks, verbose=verbose
        )
        self.history_.update({f"{stage}_{name}": values for name, values in history.items()})

    def _after_load(self):
        import keras

        self.classes_ = np.asarray(getattr(self, "classes_", []))
        inputs = keras.Input(self.input_shape_)
        code = flatten_input(inputs, as_shape(self.input_shape_))
        dense_layers = [layer for layer in self.encoder_.layers if isinstance(layer, keras.layers.Dense)]
        for i, layer in enumerate(dense_layers):
            code = layer(code)
            if self.dropout:
                code = keras.layers.Dropout(self.dropout, seed=self.seed + i)(code)
        head = self.model_.get_layer("head")
        self.classifier_ = keras.Model(inputs, head(code), name="classifier")

    def _saved_attributes(self):
        return {
            "classes_": self.classes_.tolist(),
            "frozen_accuracy_": self.frozen_accuracy_,
            "finetuned_accuracy_": self.finetuned_accuracy_,
        }

    # ------------------------------------------------------------------ using the trained model

    def predict_proba(self, X, chunk_size: int = 4096) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._check_input(X)
        return training.predict(self.classifier_, X, chunk_size)

    def predict(self, X, chunk_size: int = 4096) -> np.ndarray:
        """The most probable class of each sample."""
        probabilities = self.predict_proba(X, chunk_size)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def _reconstruct_model(self, model_x, chunk_size: int = 4096) -> np.ndarray:
        """Samples passed through the fine-tuned encoders and the pretrained decoders (the network's
        first output; its second is the classifier's)."""
        return training.predict(self.model_, model_x, chunk_size)[0]

    def _accuracy(self, X, targets):
        return float(np.mean(np.argmax(self.predict_proba(X), axis=1) == targets))

    def _encode_labels(self, y):
        y = np.asarray(y)
        index = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        if not np.all(self.classes_[index] == y):
            raise ValueError("validation labels include classes not seen in y")
        return index


def _stack(input_shape, encoders, decoders):
    """Encoder ``x -> code`` and decoder ``code -> x`` models from the pretrained layers."""
    import keras

    shape = as_shape(input_shape)
    inputs = keras.Input(shape)
    x = flatten_input(inputs, shape)
    for layer in encoders:
        x = layer(x)
    encoder = keras.Model(inputs, x, name="encoder")
    code = keras.Input((encoders[-1].units,))
    y = code
    for layer in reversed(decoders):
        y = layer(y)
    return encoder, keras.Model(code, unflatten_output(y, shape), name="decoder")


def _combined(encoder, decoder, head, input_shape):
    """One model holding everything that is saved: ``x -> [reconstruction, class probabilities]``."""
    import keras

    inputs = keras.Input(input_shape, name="input")
    code = encoder(inputs)
    return keras.Model(inputs, [decoder(code), head(code)], name="stacked_autoencoder")
