"""``aekit`` in a subprocess that holds still at a chosen epoch, so a test signals a state, never a moment.

:class:`HeldRun` starts ``aekit ARGV`` in a fresh interpreter (``aekit.cli.main``, what the installed
script runs) with one Keras callback added to every ``fit``, through its public ``callbacks``
parameter: when epoch ``at_epoch`` begins (0-based, so that many epochs are done, their checkpoint
and history.csv written), it creates a marker file and waits there until a signal reaches the
process (or ends itself once the test process is gone). The test waits for the marker
(:meth:`HeldRun.wait_until_held`), then sends its signal:

* SIGKILL ends the process where it waits: exactly ``at_epoch`` epochs are kept;
* SIGINT or SIGTERM reach aekit's own handler (the training guard notes the Ctrl-C) and end the
  wait; the guard then stops training as the epoch begins: again exactly ``at_epoch`` epochs.

However slow or loaded the machine, the process can neither finish early nor be stopped elsewhere.
"""

import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import os, select, signal, sys
from pathlib import Path

from aekit import cli
from aekit.models.base import Autoencoder

AT, MARKER = int(sys.argv[1]), Path(sys.argv[2])
TEST = os.getppid()


def holding():
    import keras

    class Hold(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch != AT:
                return
            read, write = os.pipe()
            os.set_blocking(write, False)
            previous = signal.set_wakeup_fd(write)  # each signal that reaches Python writes its number here
            try:
                MARKER.touch()
                while not select.select([read], [], [], 1)[0]:  # until a signal, whose handler has then run
                    if os.getppid() != TEST:  # the test is gone: nobody will send one
                        os._exit(3)
            finally:
                signal.set_wakeup_fd(previous)
                os.close(read)
                os.close(write)

    return Hold()


fit = Autoencoder.fit
Autoencoder.fit = lambda self, *args, callbacks=(), **kwargs: fit(
    self, *args, callbacks=[holding(), *callbacks], **kwargs
)
sys.exit(cli.main(sys.argv[3:]))
"""


class HeldRun:
    """``aekit argv`` holding when epoch ``at_epoch`` begins; ``.process`` is its ``Popen`` (text pipes)."""

    def __init__(self, argv, *, at_epoch: int, marker_folder, **popen):
        self.at_epoch = at_epoch
        self.marker = Path(marker_folder) / f"held-at-epoch-{at_epoch}"
        self.marker.unlink(missing_ok=True)
        popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(at_epoch), str(self.marker), *map(str, argv)], **popen
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_held(self, deadline_s: float = 300) -> None:
        """Return once the process waits at its epoch; fail if it ended first (or the deadline passed)."""
        deadline = time.monotonic() + deadline_s
        while not self.marker.exists():
            if self.process.poll() is not None:
                _, err = self.process.communicate()
                raise AssertionError(
                    f"aekit ended (status {self.process.returncode}) before epoch {self.at_epoch} began:\n{err}"
                )
            assert time.monotonic() < deadline, f"epoch {self.at_epoch} did not begin within {deadline_s} s"
            time.sleep(0.01)

    def stop(self, sig, timeout: float = 120):
        """Send ``sig`` and wait for the end: ``(exit status, stdout, stderr)``."""
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err

    def kill(self) -> None:
        """SIGKILL, whatever state it is in (for ``finally`` blocks)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=60)
