"""Callbacks aekit's training adds to a Keras fit: early stopping's bookkeeping and a clean Ctrl-C."""

from __future__ import annotations


def track_best(model, state: dict, history: dict, patience: int) -> None:
    """Early stopping's bookkeeping after an epoch: keep the best val_loss's weights, stop after
    ``patience`` worse ones.

    ``state`` (``best``, ``best_epoch``, ``wait`` and ``weights``) travels in the checkpoint, so a
    resumed run stops where an unbroken one would and keeps the same best weights.
    """
    loss = history["val_loss"][-1]
    if "best" not in state or loss < state["best"]:
        state.update(best=loss, best_epoch=len(history["val_loss"]), wait=0, weights=model.get_weights())
    else:
        state["wait"] += 1
        if state["wait"] >= patience:
            model.stop_training = True


def interrupt_guard():
    """A Keras callback, used as a context manager, that turns Ctrl-C into a clean stop.

    Inside ``with`` the first SIGINT (and SIGTERM, where the caller made it raise
    ``KeyboardInterrupt``, as the CLI does) only sets a flag; the callback raises ``KeyboardInterrupt``
    at the next batch or epoch boundary. Keras itself never sees the signal mid-step (some of its
    code swallows exceptions, which would lose the Ctrl-C) and a checkpoint being written is
    finished first. A second Ctrl-C interrupts at once.
    """
    import signal
    import threading

    import keras

    class InterruptGuard(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.requested = False
            self.previous = None

        def __enter__(self):
            if threading.current_thread() is threading.main_thread():
                self.previous = {signal.SIGINT: signal.signal(signal.SIGINT, self._request)}
                if callable(signal.getsignal(signal.SIGTERM)):  # the caller turned SIGTERM into Ctrl-C (the CLI does)
                    self.previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._request)
            return self

        def __exit__(self, kind, value, traceback):
            for signum, handler in (self.previous or {}).items():
                signal.signal(signum, handler)
            self.previous = None
            if self.requested and kind is None:  # Ctrl-C while the last checkpoint was written
                raise KeyboardInterrupt
            return False

        def _request(self, signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True

        def _stop_if_asked(self, *args, **kwargs):
            if self.requested:
                raise KeyboardInterrupt

        on_epoch_begin = on_train_batch_end = _stop_if_asked

    return InterruptGuard()
