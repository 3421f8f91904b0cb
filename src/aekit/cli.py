"""The ``aekit`` command line: train autoencoders into run folders, then use the models they hold.

Every command is one function below, ``cmd_<name>(args)``, that returns a result dict: printed as
text, or as one JSON object on standard output with ``--json``. Progress and notes go to standard
error. Keras (and the chosen backend) is imported inside the commands only, after ``--backend``
set ``KERAS_BACKEND``, so ``aekit --help`` answers at once.

A user's mistake ends the program with one line ``aekit: error: <what is wrong>; <what to do>``
and exit status 2, never a traceback (set ``AEKIT_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

PROG = "aekit"
BACKENDS = ("jax", "tensorflow", "torch")
BUILTIN_DATA = ("digits", "mnist", "fashion_mnist")
# Families the command line trains; shown in --help without importing the models (Keras).
FAMILIES = {
    "dense": "fully connected: vanilla (one --hidden size) or deep (several)",
    "sparse": "dense with an L1 or KL sparsity penalty on the code",
    "denoising": "dense, trained to undo --noise of --noise-level",
    "conv": "convolutional, for images (--filters)",
    "conv_denoising": "convolutional denoiser",
    "vae": "variational (dense): generate new samples, interpolate",
    "conv_vae": "variational with a convolutional encoder and decoder",
}
NOISE_KINDS = ("gaussian", "dropout", "gaussian_noise", "salt_and_pepper", "masking")

# command-line option -> the estimator parameter it sets (first one the family has)
OPTION_PARAMS = {
    "hidden": ("hidden_layers",),
    "latent": ("latent_dim",),
    "filters": ("filters",),
    "activation": ("activation",),
    "loss": ("loss", "reconstruction"),
    "epochs": ("epochs",),
    "batch_size": ("batch_size",),
    "learning_rate": ("learning_rate",),
    "seed": ("seed",),
    "beta": ("beta",),
    "noise": ("noise",),
    "noise_level": ("noise_level",),
    "sparsity": ("sparsity",),
    "sparsity_target": ("target",),
    "tied": ("tied_weights",),
    "pretrain_epochs": ("pretrain_epochs",),
}
DATA_OPTIONS = ("data", "test_size", "train_samples")


class UsageError(ValueError):
    """A flag combination that cannot work; the message says which flags and what to do."""


# ---------------------------------------------------------------- argument types


def _positive_int(text: str) -> int:
    value = _int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _sizes(text: str) -> list[int]:
    """``"128,64"`` -> ``[128, 64]``: layer sizes, each a positive integer."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers, e.g. 128,64") from None
    if any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _positive_float(text: str) -> float:
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


# ---------------------------------------------------------------- the parser


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as aekit's one-line ``aekit: error: ...`` and status 2."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message}; see '{self.prog} --help'\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the examples' line breaks; show the defaults that say something."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--backend", choices=BACKENDS, help="Keras backend (default: $KERAS_BACKEND, else jax)")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress or notes on standard error")
    common.add_argument("--json", action="store_true", help="print the result as one JSON object on standard output")

    parser = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Autoencoders on Keras 3: train them into run folders, then encode, reconstruct, denoise, generate and score data with them.",
        epilog="""examples:
  aekit demo                                    # a small model on the built-in digits, with plots
  aekit train dense --hidden 128,64 --latent 32 --data mnist --epochs 10 --out runs/mnist
  aekit evaluate runs/mnist
  aekit encode runs/mnist --data mnist -o codes.npy
  aekit train vae --latent 2 --data digits --out runs/vae && aekit generate runs/vae -n 16 -o new.npy
  aekit train --resume runs/mnist               # continue after Ctrl-C or a crash

Run 'aekit COMMAND --help' for a command's options and examples.""",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.required = True

    def command(name, help, examples, func):
        sub = commands.add_parser(
            name, parents=[common], help=help, description=help[0].upper() + help[1:] + ".",
            epilog="examples:\n" + examples, formatter_class=_Formatter,
        )
        sub.set_defaults(func=func)
        return sub

    # -- train
    families = "\n".join(f"  {name:15} {text}" for name, text in FAMILIES.items())
    train = command(
        "train", "train an autoencoder and write a run folder",
        f"""  aekit train dense --data digits --hidden 64 --latent 16 --epochs 20 --out runs/digits
  aekit train conv --filters 16,8,8 --data mnist --out runs/conv
  aekit train sparse --sparsity kl --sparsity-target 0.05 --sparsity-weight 5e-3 --out runs/sparse
  aekit train denoising --noise gaussian --noise-level 0.5 --out runs/denoise
  aekit train vae --latent 2 --beta 1 --data my_images/ --out runs/vae
  aekit train --resume runs/digits              # continue an interrupted run

families:
{families}

The run folder holds settings.json, model.keras (rewritten after every epoch), history.csv,
metrics.json, plots/*.png and report.html.""",
        cmd_train,
    )
    train.add_argument("family", nargs="?", help="model family: " + ", ".join(FAMILIES))
    data = train.add_argument_group("data")
    data.add_argument("--data", help="built-in data set (digits, mnist, fashion_mnist) or a .npy/.npz/.csv file or image folder (default: digits)")
    data.add_argument("--test-size", type=_fraction, help="fraction of a file's samples held out for validation and test (default: 0.1)")
    data.add_argument("--train-samples", type=_positive_int, help="train on the first N training samples only")
    arch = train.add_argument_group("architecture (defaults: the family's)")
    arch.add_argument("--hidden", type=_sizes, metavar="SIZES", help="hidden layer sizes, e.g. 128,64")
    arch.add_argument("--latent", type=_positive_int, metavar="N", help="size of the code")
    arch.add_argument("--filters", type=_sizes, metavar="SIZES", help="convolution filters per block, e.g. 16,8,8")
    arch.add_argument("--activation", help="hidden activation, e.g. relu, elu, tanh")
    arch.add_argument("--tied", action="store_true", default=None, help="tie decoder weights to the encoder's (dense families)")
    arch.add_argument("--loss", choices=("binary_crossentropy", "mse"), help="reconstruction loss")
    fit = train.add_argument_group("training")
    fit.add_argument("--epochs", type=_positive_int)
    fit.add_argument("--pretrain-epochs", type=_non_negative_int, metavar="N",
                     help="dense: first pretrain the layers greedily, N epochs each (lesson 003)")
    fit.add_argument("--batch-size", type=_positive_int)
    fit.add_argument("--learning-rate", type=_positive_float)
    fit.add_argument("--seed", type=_non_negative_int, help="seed of weights, shuffling and noise (default: 0)")
    reg = train.add_argument_group("family options")
    reg.add_argument("--noise", choices=NOISE_KINDS, help="denoising: kind of corruption")
    reg.add_argument("--noise-level", type=_non_negative_float, help="denoising: noise factor or corrupted fraction")
    reg.add_argument("--sparsity", choices=("l1", "kl"), help="sparse: L1 penalty or KL divergence to a target activation")
    reg.add_argument("--sparsity-weight", type=_non_negative_float, help="sparse (and dense): weight of the sparsity penalty")
    reg.add_argument("--sparsity-target", type=_fraction, help="sparse with --sparsity kl: target mean activation")
    reg.add_argument("--beta", type=_non_negative_float, help="variational: weight of the KL term (beta-VAE)")
    out = train.add_argument_group("output")
    out.add_argument("--out", metavar="FOLDER", help="run folder to write (default: runs/<family>-<time>)")
    out.add_argument("--force", action="store_true", help="replace the run already in --out")
    out.add_argument("--resume", metavar="FOLDER", help="continue the run in FOLDER from its last completed epoch")

    # -- using a model
    def model_command(name, help, examples, func, data=True):
        sub = command(name, help, examples, func)
        sub.add_argument("model", metavar="RUN_OR_MODEL", help="a run folder or a .keras file written by aekit")
        if data:
            sub.add_argument("--data", help="data set name or file (default: the run's own data)")
            sub.add_argument("--split", choices=("test", "train", "all"), default="test", help="which part of a built-in or run data set to use (files are used whole)")
        return sub

    def output(sub, required=True, what="results"):
        sub.add_argument("-o", "--output", required=required, metavar="FILE", help=f"write the {what} to FILE (.npy or .csv)")
        sub.add_argument("--force", action="store_true", help="replace existing output files")

    model_command(
        "evaluate", "score a model's reconstructions (MSE, cross-entropy, PSNR, SSIM)",
        "  aekit evaluate runs/digits                 # on the run's test split\n"
        "  aekit evaluate model.keras --data new_samples.npy --json",
        cmd_evaluate,
    )
    encode = model_command(
        "encode", "write the code (latent representation) of each sample",
        "  aekit encode runs/digits -o codes.npy\n  aekit encode runs/digits --data samples.csv -o codes.csv",
        cmd_encode,
    )
    output(encode, what="codes, one row per sample")
    recon = model_command(
        "reconstruct", "write each sample as the model reproduces it",
        "  aekit reconstruct runs/digits -o recon.npy --plot recon.png", cmd_reconstruct,
    )
    output(recon, what="reconstructions")
    recon.add_argument("--plot", metavar="PNG", help="also draw originals over reconstructions")
    denoise = model_command(
        "denoise", "clean noisy samples with a (denoising) autoencoder",
        "  aekit denoise runs/denoise --data noisy.npy -o clean.npy\n"
        "  aekit denoise runs/denoise --add-noise gaussian --noise-level 0.5 -o clean.npy --plot rows.png",
        cmd_denoise,
    )
    output(denoise, what="denoised samples")
    denoise.add_argument("--add-noise", choices=NOISE_KINDS, help="corrupt the (clean) data first, to see the model undo it")
    denoise.add_argument("--noise-level", type=_non_negative_float, help="level of --add-noise")
    denoise.add_argument("--seed", type=_non_negative_int, default=0, help="seed of --add-noise")
    denoise.add_argument("--plot", metavar="PNG", help="also draw noisy, denoised and original rows")
    generate = model_command(
        "generate", "draw new samples from a variational model's prior",
        "  aekit generate runs/vae -n 16 -o samples.npy --plot samples.png", cmd_generate, data=False,
    )
    generate.add_argument("-n", "--samples", type=_positive_int, default=16, help="how many samples")
    generate.add_argument("--seed", type=_non_negative_int, default=0)
    output(generate, what="samples")
    generate.add_argument("--plot", metavar="PNG", help="also draw the samples")
    interp = model_command(
        "interpolate", "decode evenly spaced codes between two samples",
        "  aekit interpolate runs/vae --from 0 --to 1 --steps 9 -o path.npy --plot path.png", cmd_interpolate,
    )
    interp.add_argument("--from", dest="start", type=_non_negative_int, default=0, metavar="I", help="index of the first sample")
    interp.add_argument("--to", dest="end", type=_non_negative_int, default=1, metavar="J", help="index of the second sample")
    interp.add_argument("--steps", type=_positive_int, default=7)
    output(interp, what="decoded path")
    interp.add_argument("--plot", metavar="PNG", help="also draw the path")
    anomaly = model_command(
        "anomaly", "flag samples the model reconstructs worse than normal data",
        "  aekit anomaly runs/normal --normal normal.npy --data new.npy -o scores.csv\n"
        "  aekit anomaly runs/digits --contamination 0.05 -o scores.csv   # threshold from the run's training data",
        cmd_anomaly,
    )
    anomaly.add_argument("--normal", help="normal data that sets the threshold (default: the run's training data)")
    anomaly.add_argument("--contamination", type=_fraction, default=0.01, help="share of the normal data that falls above the threshold")
    output(anomaly, what="scores and flags (CSV: index,score,anomaly)")
    anomaly.add_argument("--plot", metavar="PNG", help="also draw the histogram of scores with the threshold")

    # -- runs
    report = command("report", "rebuild a run folder's report.html", "  aekit report runs/digits", cmd_report)
    report.add_argument("run", metavar="RUN", help="a run folder written by 'aekit train'")
    demo = command(
        "demo", "train a small autoencoder on the built-in digits and write its run folder",
        "  aekit demo\n  aekit demo --out my-demo --epochs 30", cmd_demo,
    )
    demo.add_argument("--out", metavar="FOLDER", help="run folder to write (default: a new runs/demo-<UTC time>)")
    demo.add_argument("--epochs", type=_positive_int, default=30)
    demo.add_argument("--force", action="store_true", help="replace the run already in --out")
    return parser


def _version() -> str:
    from aekit import __version__

    return __version__


# ---------------------------------------------------------------- running a command


def main(argv=None) -> int:
    """Run the ``aekit`` command line; return its exit status (0 ok, 2 user error, 130 interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and argparse's own usage errors (status 2)
        return exc.code if isinstance(exc.code, int) else 0
    try:
        _select_backend(args.backend)
        if args.command != "report":
            _import_tensorflow_quietly()
        result = args.func(args)
    except KeyboardInterrupt as exc:  # Ctrl-C; a command may add what was saved and how to go on
        print(f"{PROG}: interrupted{exc.args[0] if exc.args else ''}", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:
        if os.environ.get("AEKIT_DEBUG"):
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    if result is not None:
        _emit(args, result)
    return 0


def _one_line(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}; check the path and its permissions"
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:500]


def _emit(args, result: dict) -> None:
    if args.json:
        print(json.dumps(result, default=str))
        return
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.6g}"
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key:16} {value}")


def _note(args, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


def _select_backend(backend: str | None) -> None:
    """Set ``KERAS_BACKEND`` before Keras is imported; refuse a backend that is not installed."""
    if backend is None:
        return
    module = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}[backend]
    if importlib.util.find_spec(module) is None:
        raise UsageError(f"the {backend} backend is not installed; install it (pip install {module}) or choose another --backend")
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise UsageError(f"Keras already runs on {current} in this process; start a new process for --backend {backend}")
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


# ---------------------------------------------------------------- train and demo


def cmd_train(args) -> dict:
    from aekit import runs

    if args.resume:
        given = [f"--{name.replace('_', '-')}" for name in (*OPTION_PARAMS, *DATA_OPTIONS, "sparsity_weight", "out", "force") if getattr(args, name, None)]
        if args.family:
            given.insert(0, args.family)
        if given:
            raise UsageError(f"--resume continues with the run's own settings; drop {', '.join(given)}")
        folder = Path(args.resume)
        settings = runs.read_settings(folder)
        if settings.get("status") == "complete":
            _note(args, f"{folder} is complete; nothing to resume")
            return {"run": str(folder), "status": "complete", **_read_metrics(folder)}
        return _train(args, folder, settings, resume=True)

    if not args.family:
        raise UsageError("name the model family to train, e.g. 'aekit train dense' (families: " + ", ".join(FAMILIES) + "), or continue a run with --resume FOLDER")
    if args.family == "stacked":
        raise UsageError("the stacked family is a classifier pretrained layer by layer on labelled data; train it from Python (aekit.models.StackedAutoencoder)")
    if args.family not in FAMILIES:
        raise UsageError(f"unknown model family {args.family!r}; choose one of: {', '.join(FAMILIES)}")
    settings = {
        "command": "train",
        "family": args.family,
        "params": _model_params(args),
        "data": {
            "source": args.data or "digits",
            "test_size": args.test_size if args.test_size is not None else 0.1,
            "split_seed": 0,
            "train_samples": args.train_samples,
        },
    }
    runs.training_arrays(settings, runs.load_data(settings))  # bad data fails before any folder is made
    folder = Path(args.out) if args.out else runs.default_folder(args.family)
    runs.prepare(folder, force=args.force)
    return _train(args, folder, settings, resume=False)


def cmd_demo(args) -> dict:
    """The README's first command: a small dense autoencoder on the digits, with its plots."""
    from aekit import runs

    folder = Path(args.out) if args.out else runs.default_folder("demo")
    runs.prepare(folder, force=args.force)
    settings = {
        "command": "demo",
        "family": "dense",
        "params": {**_family_defaults("dense"), "hidden_layers": [48], "latent_dim": 12, "epochs": args.epochs, "batch_size": 32, "learning_rate": 3e-3},
        "data": {"source": "digits", "test_size": 0.1, "split_seed": 0, "train_samples": None},
    }
    result = _train(args, folder, settings, resume=False)
    _note(args, f"open {folder / runs.REPORT} in a browser; the reconstructions are in {folder / runs.PLOTS / 'reconstructions.png'}")
    return result


def _train(args, folder: Path, settings: dict, resume: bool) -> dict:
    from aekit import runs, training

    epochs = settings["params"]["epochs"]
    callbacks = [] if args.quiet else [training.progress_bar(epochs)]
    _note(args, f"training a {settings['family']} autoencoder on {settings['data']['source']} into {folder}")
    try:
        metrics = runs.train(folder, settings, resume=resume, callbacks=callbacks, log=lambda m: _note(args, m))
    except KeyboardInterrupt:
        saved = f"the last completed epoch is saved in {folder / runs.MODEL}" if (folder / runs.MODEL).exists() else "no epoch was completed"
        raise KeyboardInterrupt(f"; {saved}; continue with: aekit train --resume {folder}") from None
    plots = sorted(str(p) for p in (folder / runs.PLOTS).glob("*.png"))
    _note(args, f"wrote {folder}/: settings.json, model.keras, history.csv, metrics.json, report.html and {len(plots)} plots")
    return {"run": str(folder), "status": "complete", "metrics": metrics, "model": str(folder / runs.MODEL), "report": str(folder / runs.REPORT), "plots": plots}


def _family_defaults(family: str) -> dict:
    from aekit import runs

    return runs.estimator_class(family)().get_params()


def _model_params(args) -> dict:
    """The family's default parameters overridden by the options given; refuse options it lacks."""
    defaults = _family_defaults(args.family)
    params = dict(defaults)
    for option, names in OPTION_PARAMS.items():
        value = getattr(args, option)
        if value is None:
            continue
        name = next((n for n in names if n in defaults), None)
        if name is None:
            raise UsageError(f"--{option.replace('_', '-')} does not apply to the {args.family} family; {_family_hint(args.family)}")
        params[name] = value
    if args.sparsity_weight is not None:
        kind = params.get("sparsity", "l1")
        name = "weight" if kind == "kl" else "l1"
        if name not in defaults:
            raise UsageError(f"--sparsity-weight does not apply to the {args.family} family; {_family_hint(args.family)}")
        params[name] = args.sparsity_weight
    if args.sparsity_target is not None and params.get("sparsity") != "kl":
        raise UsageError("--sparsity-target needs --sparsity kl (the L1 penalty has no target)")
    if "noise" in params:  # refuse an impossible level now, not after the run folder is made
        from aekit.models.denoising import make_corruption

        make_corruption(params["noise"], params.get("noise_level"))
    return params


def _family_hint(family: str) -> str:
    options = sorted(
        f"--{option.replace('_', '-')}"
        for option, names in OPTION_PARAMS.items()
        if any(n in _family_defaults(family) for n in names) and option not in ("epochs", "batch_size", "learning_rate", "seed")
    )
    return f"its options are {', '.join(options)} (see 'aekit train --help')"


# ---------------------------------------------------------------- using a model


def _load(args):
    """The estimator of a run folder or ``.keras`` file (Keras safe mode), once the outputs are free."""
    from aekit import runs, training

    for path in (getattr(args, "output", None), getattr(args, "plot", None)):
        if path:
            runs.refuse_overwrite(path, args.force)
    return training.load_checkpoint(runs.model_path(args.model))


def _samples(args, estimator, source, split="test"):
    """Samples shaped for ``estimator``: from ``source`` (a data set name or file), else the run's data."""
    import numpy as np

    from aekit import runs

    if source is None:
        folder = Path(args.model)
        if not folder.is_dir():
            raise UsageError(f"{args.model} is a model file, so --data is needed (a run folder remembers its data)")
        dataset, name = runs.load_data(runs.read_settings(folder)), f"{folder}'s data"
    else:
        dataset, name = _load_source(source), source
    if isinstance(dataset, tuple):  # a user's file, used whole
        x = dataset[0]
    else:
        parts = {"test": [dataset.x_test], "train": [dataset.x_train], "all": [dataset.x_train, dataset.x_test]}[split]
        x = np.concatenate(parts)
    return runs.fit_shape(x, estimator.input_shape_, name)


def _load_source(source: str):
    """A built-in data set, or a user's file read whole and in its own order (as a 1-tuple).

    An ``.npz`` file with its own ``x_train``/``x_test`` stays a data set, so ``--split`` applies.
    """
    from aekit import datasets

    if source.lower().replace("-", "_") in BUILTIN_DATA:
        return datasets.load_dataset(source)
    data = datasets.load_dataset(source, test_size=0.0)
    return data if len(data.x_test) else (data.x_train,)


def _write(args, array, what: str) -> str:
    from aekit import runs

    path = runs.write_array(args.output, array, force=args.force)
    _note(args, f"wrote {len(array)} {what} to {path}")
    return str(path)


def _plot(args, estimator, figure: str, *arrays, **kwargs) -> dict:
    """Draw ``plots.<figure>(*arrays, path, image_shape=...)`` to ``--plot`` when it was given."""
    if not getattr(args, "plot", None):
        return {}
    from aekit import plots

    image_shape = _image_shape(estimator)
    if image_shape is None:
        raise UsageError("--plot draws images, but this model works on feature vectors; drop --plot")
    return {"plot": str(getattr(plots, figure)(*arrays, args.plot, image_shape=image_shape, **kwargs))}


def _image_shape(estimator):
    shape = tuple(estimator.input_shape_)
    if len(shape) == 1:
        side = int(round(shape[0] ** 0.5))
        return (side, side) if side * side == shape[0] else None
    return shape


def cmd_evaluate(args) -> dict:
    from aekit import runs

    estimator = _load(args)
    x = _samples(args, estimator, args.data, args.split)
    return {"model": str(runs.model_path(args.model)), "family": estimator.family, **runs.evaluate(estimator, x)}


def cmd_encode(args) -> dict:
    estimator = _load(args)
    x = _samples(args, estimator, args.data, args.split)
    codes = estimator.encode(x)
    return {"output": _write(args, codes, "codes"), "samples": len(codes), "code_shape": list(codes.shape[1:])}


def cmd_reconstruct(args) -> dict:
    from aekit import evaluation

    estimator = _load(args)
    x = _samples(args, estimator, args.data, args.split)
    x_hat = estimator.reconstruct(x)
    plot = _plot(args, estimator, "plot_reconstructions", x, x_hat)
    result = {"output": _write(args, x_hat, "reconstructions"), "samples": len(x_hat)}
    result["mse"] = float(evaluation.reconstruction_error(x, x_hat, "mse").mean())
    return {**result, **plot}


def cmd_denoise(args) -> dict:
    from aekit import evaluation

    if args.noise_level is not None and args.add_noise is None:
        raise UsageError("--noise-level needs --add-noise KIND (without it the data is taken as already noisy)")
    estimator = _load(args)
    clean = _samples(args, estimator, args.data, args.split)
    noisy = clean
    if args.add_noise:
        from aekit.models.denoising import corrupt

        noisy = corrupt(clean, args.add_noise, args.noise_level, seed=args.seed)
    denoised = estimator.denoise(noisy) if hasattr(estimator, "denoise") else estimator.reconstruct(noisy)
    if args.add_noise:
        plot = _plot(args, estimator, "plot_denoising", clean, noisy, denoised)
    else:
        plot = _plot(args, estimator, "plot_image_rows", [noisy, denoised], titles=["noisy input", "denoised"])
    result = {"output": _write(args, denoised, "denoised samples"), "samples": len(denoised)}
    if args.add_noise:
        result["mse_noisy"] = float(evaluation.reconstruction_error(clean, noisy, "mse").mean())
        result["mse_denoised"] = float(evaluation.reconstruction_error(clean, denoised, "mse").mean())
    return {**result, **plot}


def cmd_generate(args) -> dict:
    estimator = _load(args)
    if not hasattr(estimator, "sample"):
        raise UsageError(f"{args.model} holds a {estimator.family} autoencoder, which cannot generate; train a vae or conv_vae")
    samples = estimator.sample(args.samples, seed=args.seed)
    plot = _plot(args, estimator, "plot_samples", samples)
    return {"output": _write(args, samples, "samples"), "samples": len(samples), **plot}


def cmd_interpolate(args) -> dict:
    import numpy as np

    estimator = _load(args)
    x = _samples(args, estimator, args.data, args.split)
    for index in (args.start, args.end):
        if index >= len(x):
            raise UsageError(f"sample index {index} is out of range: the data holds {len(x)} samples (0..{len(x) - 1})")
    a, b = x[args.start], x[args.end]
    if hasattr(estimator, "interpolate"):
        path = estimator.interpolate(a, b, steps=args.steps)
    else:  # any autoencoder: decode straight lines between the two codes
        codes = estimator.encode(np.stack([a, b]))
        weights = np.linspace(0.0, 1.0, args.steps, dtype=np.float32).reshape(-1, *([1] * (codes.ndim - 1)))
        path = estimator.decode((1 - weights) * codes[0] + weights * codes[1])
    plot = _plot(args, estimator, "plot_interpolation", path, titles=[f"sample {args.start} to sample {args.end}"])
    return {"output": _write(args, path, "interpolated samples"), "steps": args.steps, **plot}


def cmd_anomaly(args) -> dict:
    import numpy as np

    from aekit import runs
    from aekit.applications.anomaly import AnomalyDetector

    if Path(args.output).suffix.lower() != ".csv":
        raise UsageError(f"{args.output}: anomaly scores are written as CSV; name the output *.csv")
    estimator = _load(args)
    if args.normal is None and not Path(args.model).is_dir():
        raise UsageError(f"{args.model} is a model file, so --normal is needed (a run folder remembers its training data)")
    normal = _samples(args, estimator, args.normal, "train")
    new = _samples(args, estimator, args.data, args.split)
    detector = AnomalyDetector(estimator, contamination=args.contamination, prefit=True).fit(normal)
    scores = detector.anomaly_score(new)
    flags = detector.predict(new) == -1
    text = "index,score,anomaly\n" + "".join(f"{i},{score:.7g},{int(flag)}\n" for i, (score, flag) in enumerate(zip(scores, flags)))
    runs.write_atomic(args.output, text)
    plot = {}
    if args.plot:
        from aekit import plots

        plot = {"plot": str(plots.plot_anomaly_scores(scores, detector.threshold_, args.plot))}
    _note(args, f"wrote {len(scores)} scores to {args.output}: {int(flags.sum())} above the threshold {detector.threshold_:.4g}")
    result = {"output": str(args.output), "samples": len(scores), "threshold": detector.threshold_, "anomalies": int(np.sum(flags))}
    return {**result, **plot}


# ---------------------------------------------------------------- reports


def cmd_report(args) -> dict:
    from aekit import report, runs

    runs.read_settings(args.run)
    path = report.write_report(args.run)
    _note(args, f"open {path} in a browser")
    return {"report": str(path)}


def _read_metrics(folder: Path) -> dict:
    path = folder / "metrics.json"
    return {"metrics": json.loads(path.read_text())} if path.exists() else {}


if __name__ == "__main__":
    sys.exit(main())
