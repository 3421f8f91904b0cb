"""The progress line ``aekit train`` prints: a bar through each epoch on a terminal, one line per epoch."""

from __future__ import annotations

import sys
import time


def progress_bar(epochs: int, stream=None, width: int = 24):
    """A Keras callback that shows training progress on ``stream`` (default: standard error).

    On a terminal a bar moves through each epoch; every finished epoch prints one line with its
    loss, val_loss, duration and the estimated time left, which is all a log file gets.
    """
    import keras

    stream = stream or sys.stderr
    interactive = hasattr(stream, "isatty") and stream.isatty()

    class ProgressBar(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.durations = []
            self.current = 0
            self.drawn = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.current = epoch
            now = time.perf_counter()
            # the time since the last epoch ended counts too: checkpoints, validation, set-up
            self.start = getattr(self, "last_end", now)

        def on_train_batch_end(self, batch, logs=None):
            # at most ten redraws a second: reading the loss waits for the device, so only then
            steps = (self.params or {}).get("steps") or 0
            now = time.perf_counter()
            if interactive and steps and now - self.drawn >= 0.1:
                self.drawn = now
                done = int(width * (batch + 1) / steps)
                loss = f" loss {float(logs['loss']):.4g}" if logs and "loss" in logs else ""
                bar = "=" * done + "." * (width - done)
                stream.write(f"\repoch {self.current + 1}/{epochs} [{bar}] {batch + 1}/{steps}{loss}")
                stream.flush()

        def on_epoch_end(self, epoch, logs=None):
            self.last_end = time.perf_counter()
            self.durations.append(self.last_end - self.start)
            recent = self.durations[1:][-5:] or self.durations  # the first epoch also compiles
            left = (epochs - epoch - 1) * sum(recent) / len(recent)
            values = "  ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items() if k in ("loss", "val_loss"))
            clear = "\r\033[K" if interactive else ""
            stream.write(
                f"{clear}epoch {epoch + 1}/{epochs}  {values}  {self.durations[-1]:.1f}s  {_duration(left)} left\n"
            )
            stream.flush()

    return ProgressBar()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
