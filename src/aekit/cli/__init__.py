"""The ``aekit`` command line: train autoencoders into run folders, then use the models they hold.

:func:`main` parses the arguments (:mod:`aekit.cli.parser`), runs one command
(:mod:`aekit.cli.commands`, thin adapters over the library) and prints its result, as text or as
one JSON object with ``--json``. A problem the user can fix (an :class:`~aekit.errors.AekitError`)
ends in one line ``aekit: error: ...`` and exit status 2; anything else is a bug and says so,
with the traceback behind ``AEKIT_DEBUG=1``. Ctrl-C (or ``kill``) ends every command with one line
``aekit: interrupted...`` and exit status 130 (the shell's number for it) wherever it lands: while
the command starts, works or prints its result, or while it cleans up after an earlier Ctrl-C; a
command that serves until Ctrl-C (``aekit explore``) is no exception. Keras is imported only inside
the commands, after ``--backend`` took effect, so ``aekit --help`` answers at once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import warnings

from aekit.cli.parser import PROG, build_parser, first_positionals
from aekit.errors import AekitError, UsageError

EXIT_USER_ERROR = 2
EXIT_BUG = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130


def main(argv=None) -> int:
    """Run the ``aekit`` command line; return its exit status (0 ok, 2 user error, 70 bug, 130 interrupted)."""
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        _terminate_like_ctrl_c()
        with warnings.catch_warnings():
            if not os.environ.get("AEKIT_DEBUG"):  # a library's warning is not the user's business: aekit's one line is
                warnings.simplefilter("ignore")
            return _main(argv)
    except KeyboardInterrupt:  # outside the command itself (printing its result, a second Ctrl-C): the same status
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    try:
        parsed = _parse(argv)
        if isinstance(parsed, int):
            return parsed
        args, family_class = parsed
        _select_backend(getattr(args, "backend", None))
        if args.command != "report":
            _import_tensorflow_quietly()
        from aekit.cli import commands

        command = getattr(commands, args.command)
        result = command(args, family_class) if args.command == "train" else command(args)
    except KeyboardInterrupt as exc:  # Ctrl-C; a command may add what was saved and how to go on
        print(f"{PROG}: interrupted{exc.args[0] if exc.args else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AekitError as exc:
        if os.environ.get("AEKIT_DEBUG"):
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as exc:  # a bug: say so instead of dressing it up as the user's mistake
        if os.environ.get("AEKIT_DEBUG"):
            raise
        print(
            f"{PROG}: internal error: {exc.__class__.__name__}: {_one_line(exc)}\n"
            f"{PROG}: this is a bug in aekit or a library below it; please report it with the command you ran "
            "(set AEKIT_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return EXIT_BUG
    if result is not None:
        _emit(args, result)
    return 0


def _parse(argv):
    """``(args, family class or None)``, or an exit status when argparse answered (``--help``, usage errors)."""
    from aekit import registry

    family_class = None
    head = first_positionals(argv)
    if head[:1] == ["train"] and len(head) == 2:
        family_class = registry.get(head[1])
    parser = build_parser(family_class)
    try:
        args, unknown = parser.parse_known_args(argv)
        if args.command == "train" and args.family and family_class is None and not args.resume:  # 'train -q dense'
            family_class = registry.get(args.family)
            parser = build_parser(family_class)
            args, unknown = parser.parse_known_args(argv)
        if unknown:
            if args.command != "train":
                parser.parse_args(argv)  # argparse's own "unrecognized arguments" line and status 2
            raise UsageError(_unknown_train_options(args, family_class, unknown))
    except SystemExit as exc:  # --help, --version and argparse's own usage errors (status 2)
        return exc.code if isinstance(exc.code, int) else 0
    return args, family_class


def _unknown_train_options(args, family_class, unknown: list[str]) -> str:
    """Say why ``aekit train`` does not take these options (another family's? --resume's own settings?)."""
    from aekit import registry

    options = [u.split("=")[0] for u in unknown if u.startswith("--")] or unknown
    if args.resume:
        return f"--resume continues with the run's own settings; drop {', '.join(options)}"
    if family_class is None:
        return (
            f"unrecognized arguments: {' '.join(unknown)}; "
            f"name the family first, e.g. 'aekit train dense {unknown[0]} ...'"
        )
    own = sorted(p.option for p in family_class.params.values() if p.option)
    elsewhere = {p.option for cls in registry.families().values() for p in cls.params.values() if p.option}
    option = next((o for o in options if o in elsewhere), options[0])
    reason = "does not apply to" if option in elsewhere else "is not an option of"
    return (
        f"{option} {reason} the {family_class.family} family; its options are {', '.join(own)} "
        f"(see 'aekit train {family_class.family} --help')"
    )


def _terminate_like_ctrl_c() -> None:
    """``kill`` (SIGTERM) stops a command as Ctrl-C does: what it wrote is finished or removed, never half-left."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        sys.unraisablehook = _interrupts_never_lost(sys.unraisablehook)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _interrupts_never_lost(hook):
    """An ``unraisablehook`` that sends a swallowed interrupt again instead of printing it.

    A signal handler runs wherever the main thread is, and when that is a garbage-collector
    callback (jax registers one) or a ``__del__``, Python can only print the KeyboardInterrupt
    and go on: the stop would be lost. Sending SIGTERM again a moment later lands it in code that
    can be interrupted.
    """
    import signal
    import threading

    def unraisable(info):
        if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
            again = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM))
            again.daemon = True
            again.start()
            return
        hook(info)

    return unraisable


def _one_line(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, AekitError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}; check the path and its permissions"
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:500]


def _emit(args, result: dict) -> None:
    if getattr(args, "json", False):
        print(json.dumps(_finite(result), default=str, allow_nan=False))
        return
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.6g}"
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key:16} {value}")


def _finite(value):
    """``value`` with NaN and infinities as null: strict JSON has no such numbers."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _select_backend(backend: str | None) -> None:
    """Set ``KERAS_BACKEND`` before Keras is imported; refuse a backend that is not installed."""
    if backend is None:
        return
    if importlib.util.find_spec(backend) is None:
        raise UsageError(
            f"the {backend} backend is not installed; install it (pip install {backend}) or choose another --backend"
        )
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise UsageError(
                f"Keras already runs on {current} in this process; start a new process for --backend {backend}"
            )
        return
    os.environ["KERAS_BACKEND"] = backend


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow (when it is the backend) with its C++ start-up log lines kept off stderr.

    Those lines are written before TensorFlow reads any log-level setting, so only closing the
    file descriptor for the import silences them; Python errors still surface as exceptions.
    """
    if os.environ.get("KERAS_BACKEND") != "tensorflow" or "tensorflow" in sys.modules:
        return
    if importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
