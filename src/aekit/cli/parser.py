"""The ``aekit`` command line's arguments: commands, their options, help and examples.

A family's options come from its declaration (:mod:`aekit.params`): ``aekit train FAMILY`` adds
exactly that family's parameters, each with its flag, type, default and help, so the command line
cannot drift from the Python API. Only the family named on the command line is looked up, so
``aekit --help`` imports nothing heavy (no Keras, no scikit-learn).
"""

from __future__ import annotations

import argparse

from aekit.noise import NOISE_KINDS
from aekit.params import Flag, Integer, Optional, Real, Sizes

PROG = "aekit"
BACKENDS = ("jax", "tensorflow", "torch")
#: the train command's own options, not a family's parameters
DATA_OPTIONS = ("data", "test_size", "train_samples", "image_size", "color_mode", "skip_bad_files", "impute", "stream")
OUTPUT_OPTIONS = ("out", "force")


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as aekit's one-line ``aekit: error: ...`` and status 2."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message}; see '{self.prog} --help'\n")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the examples' line breaks; show the defaults that say something."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def type_from(check, name: str):
    """An argparse type that runs ``check(text)`` and reports its ``ValueError`` as argparse does."""

    def parse(text):
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name
    return parse


# the command's own options (not a family's parameters) use the same kinds as the declarations
fraction = Real(0, 1, min_open=True, max_open=True).parse
positive_int = Integer(1).parse
non_negative_int = Integer(0).parse
non_negative_float = Real(0).parse


def image_size(text: str) -> tuple[int, int]:
    """``"64"`` -> ``(64, 64)``, ``"64,48"`` -> ``(64, 48)``: height and width in pixels."""
    sizes = Sizes(min_len=1).parse(text)
    if len(sizes) > 2:
        raise ValueError(f"{text!r} is not H or H,W")
    return (sizes[0], sizes[-1])


def devices(text: str):
    """``"all"`` or a positive number of devices."""
    if text.strip().lower() == "all":
        return "all"
    return positive_int(text)


def first_positionals(argv: list[str], n: int = 2) -> list[str]:
    """The first ``n`` arguments that are not options: the command, and for ``train`` its family."""
    found = []
    for arg in argv:
        if arg.startswith("-"):
            if found:  # options after the command: the family must come right after it
                break
            continue
        found.append(arg)
        if len(found) == n:
            break
    return found


def build_parser(family_class=None) -> argparse.ArgumentParser:
    """The whole command line; with ``family_class``, ``train`` also takes that family's parameters."""
    common = Parser(add_help=False)
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        default=argparse.SUPPRESS,
        help="Keras backend (default: $KERAS_BACKEND, else jax)",
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress or notes on standard error"
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the result as one JSON object on standard output",
    )

    parser = Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Autoencoders on Keras 3: train them into run folders, "
        "then encode, reconstruct, denoise, generate and score data with them.",
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

    def command(name, help, examples):
        return commands.add_parser(
            name,
            parents=[common],
            help=help,
            description=help[0].upper() + help[1:] + ".",
            epilog="examples:\n" + examples,
            formatter_class=Formatter,
        )

    _add_train(command, family_class)

    def model_command(name, help, examples, data=True):
        sub = command(name, help, examples)
        sub.add_argument("model", metavar="RUN_OR_MODEL", help="a run folder or a .keras file written by aekit")
        if data:
            sub.add_argument("--data", help="data set name or file (default: the run's own data)")
            sub.add_argument(
                "--split",
                choices=("test", "train", "all"),
                default="test",
                help="which part of a built-in or run data set to use (files are used whole)",
            )
        return sub

    def output(sub, what="results", required=True):
        sub.add_argument(
            "-o", "--output", required=required, metavar="FILE", help=f"write the {what} to FILE (.npy or .csv)"
        )
        sub.add_argument("--force", action="store_true", help="replace existing output files")

    def plot(sub, what):
        sub.add_argument("--plot", metavar="PNG", help=f"also draw {what} (.png is added to a name without one)")

    level = type_from(non_negative_float, "level")
    model_command(
        "evaluate",
        "score a model's reconstructions (MSE, cross-entropy, PSNR, SSIM)",
        "  aekit evaluate runs/digits                 # on the run's test split\n"
        "  aekit evaluate model.keras --data new_samples.npy --json",
    )
    output(
        model_command(
            "encode",
            "write the code (latent representation) of each sample",
            "  aekit encode runs/digits -o codes.npy\n  aekit encode runs/digits --data samples.csv -o codes.csv",
        ),
        what="codes, one row per sample",
    )
    recon = model_command(
        "reconstruct",
        "write each sample as the model reproduces it",
        "  aekit reconstruct runs/digits -o recon.npy --plot recon.png",
    )
    output(recon, what="reconstructions")
    plot(recon, "originals over reconstructions")
    denoise = model_command(
        "denoise",
        "clean noisy samples with a (denoising) autoencoder",
        "  aekit denoise runs/denoise --data noisy.npy -o clean.npy\n"
        "  aekit denoise runs/denoise --add-noise gaussian --noise-level 0.5 -o clean.npy --plot rows.png",
    )
    output(denoise, what="denoised samples")
    denoise.add_argument(
        "--add-noise", choices=NOISE_KINDS, help="corrupt the (clean) data first, to see the model undo it"
    )
    denoise.add_argument("--noise-level", type=level, help="level of --add-noise")
    denoise.add_argument("--seed", type=type_from(non_negative_int, "seed"), default=0, help="seed of --add-noise")
    denoise.add_argument(
        "--shift-average",
        action="store_true",
        help="also denoise each image shifted one pixel up, down, left and right and average the "
        "outputs shifted back: five times the work, clearer images (denoising models only)",
    )
    plot(denoise, "noisy, denoised and original rows")
    generate = model_command(
        "generate",
        "draw new samples from a variational model's prior",
        "  aekit generate runs/vae -n 16 -o samples.npy --plot samples.png",
        data=False,
    )
    generate.add_argument("-n", "--samples", type=type_from(positive_int, "count"), default=16, help="how many samples")
    generate.add_argument("--seed", type=type_from(non_negative_int, "seed"), default=0)
    output(generate, what="samples")
    plot(generate, "the samples")
    interp = model_command(
        "interpolate",
        "decode evenly spaced codes between two samples",
        "  aekit interpolate runs/vae --from 0 --to 1 --steps 9 -o path.npy --plot path.png",
    )
    interp.add_argument(
        "--from",
        dest="start",
        type=type_from(non_negative_int, "index"),
        default=0,
        metavar="I",
        help="index of the first sample",
    )
    interp.add_argument(
        "--to",
        dest="end",
        type=type_from(non_negative_int, "index"),
        default=1,
        metavar="J",
        help="index of the second sample",
    )
    interp.add_argument("--steps", type=type_from(positive_int, "steps"), default=7)
    output(interp, what="decoded path")
    plot(interp, "the path")
    anomaly = model_command(
        "anomaly",
        "flag samples the model reconstructs worse than normal data",
        "  aekit anomaly runs/normal --normal normal.npy --data new.npy -o scores.csv\n"
        "  aekit anomaly runs/digits --contamination 0.05 -o scores.csv   # threshold from the run's training data\n"
        "  aekit anomaly runs/sensors --data today.csv --percentile 99.5 -o flags.csv --plot scores.png",
    )
    anomaly.add_argument("--normal", help="normal data that sets the threshold (default: the run's training data)")
    anomaly.add_argument(
        "--contamination",
        type=type_from(fraction, "fraction"),
        help="share of the normal data that falls above the threshold (default: 0.01)",
    )
    anomaly.add_argument(
        "--percentile",
        type=type_from(Real(0, 100).parse, "percentile"),
        metavar="P",
        help="threshold at this percentile of the normal data's scores (instead of --contamination)",
    )
    anomaly.add_argument(
        "--top",
        type=type_from(non_negative_int, "count"),
        default=3,
        metavar="N",
        help="for a table: name the N columns that make each flagged row's score, each with the share "
        "of the score that goes away when that column is replaced by the value the model expects",
    )
    output(anomaly, what="scores and flags (CSV: index,score,anomaly and, for a table, top_columns)")
    plot(anomaly, "the histogram of scores with the threshold")

    report = command("report", "rebuild a run folder's report.html", "  aekit report runs/digits")
    report.add_argument("run", metavar="RUN", help="a run folder written by 'aekit train'")
    explore = command(
        "explore",
        "open a trained run in the browser: latent map, interpolation, denoising, generation, anomalies",
        "  aekit explore runs/vae                     # prints the address and opens a browser; Ctrl-C stops it\n"
        "  aekit explore runs/vae --port 8765 --no-browser",
    )
    explore.add_argument("run", metavar="RUN", help="a run folder written by 'aekit train'")
    explore.add_argument(
        "--port",
        type=type_from(Integer(1, 65535).parse, "port"),
        help="port on 127.0.0.1 to serve on (default: a free one)",
    )
    explore.add_argument("--no-browser", action="store_true", help="print the address only; do not open a browser")
    command(
        "info",
        "show the Keras backend, where that choice came from, versions and devices",
        "  aekit info\n  aekit info --json",
    )
    demo = command(
        "demo",
        "train a small autoencoder on the built-in digits and write its run folder",
        "  aekit demo\n  aekit demo --out my-demo --epochs 30",
    )
    demo.add_argument("--out", metavar="FOLDER", help="run folder to write (default: a new runs/demo-<UTC time>)")
    demo.add_argument("--epochs", type=type_from(positive_int, "epochs"), default=30)
    demo.add_argument("--force", action="store_true", help="replace the run already in --out (only aekit's files)")
    return parser


def _add_train(command, family_class) -> None:
    from aekit import registry

    examples = """  aekit train dense --data digits --hidden 64 --latent 16 --epochs 20 --out runs/digits
  aekit train conv --filters 16,8,8 --data mnist --out runs/conv
  aekit train sparse --sparsity kl --sparsity-target 0.05 --sparsity-weight 5e-3 --out runs/sparse
  aekit train denoising --noise gaussian --noise-level 0.5 --out runs/denoise
  aekit train vae --latent 2 --beta 1 --data my_images/ --out runs/vae
  aekit train conv --data photos/ --image-size 64 --out runs/photos   # a folder larger than memory streams
  aekit train dense --data 'shards/part-*.npy' --devices all          # .npy shards, data-parallel
  aekit train --resume runs/digits              # continue an interrupted run

"""
    if family_class is None:
        examples += (
            "families (run 'aekit train FAMILY --help' for a family's options):\n  "
            + ", ".join(registry.names())
            + "\n\n"
        )
    examples += (
        "The run folder holds settings.json, model.keras (rewritten after every epoch), history.csv,\n"
        "metrics.json, plots/*.png and report.html."
    )
    train = command("train", "train an autoencoder and write a run folder", examples)
    train.add_argument("family", nargs="?", metavar="FAMILY", help="model family: " + ", ".join(registry.names()))
    data = train.add_argument_group("data")
    data.add_argument(
        "--data",
        help="built-in data set (digits, mnist, fashion_mnist) or a .npy/.npz/.csv file or image folder "
        "(default: digits)",
    )
    data.add_argument(
        "--test-size",
        type=type_from(fraction, "fraction"),
        help="fraction of a file's samples held out for validation and test (default: 0.1)",
    )
    data.add_argument(
        "--train-samples", type=type_from(positive_int, "count"), help="train on the first N training samples only"
    )
    data.add_argument(
        "--image-size",
        type=type_from(image_size, "size"),
        metavar="H[,W]",
        help="resize a folder's images to H x W (needed when their sizes differ)",
    )
    data.add_argument(
        "--color-mode",
        choices=("L", "RGB", "RGBA"),
        help="read a folder's images as grayscale, RGB or RGB with transparency (default: as they are)",
    )
    data.add_argument(
        "--skip-bad-files",
        action="store_true",
        default=None,
        help="leave out files of an image folder that cannot be read (and say how many)",
    )
    data.add_argument("--impute", choices=("mean",), help="fill a CSV's missing values with their column's mean")
    data.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read the samples batch by batch while training instead of loading them whole (default: "
        "only data larger than 2 GiB as float32, or an eighth of the memory, and .npy shards); "
        "the numbers are the same either way",
    )
    hardware = train.add_argument_group("devices")
    hardware.add_argument(
        "--devices",
        type=type_from(devices, "devices"),
        metavar="N|all",
        help="train data-parallel over N devices or all of them (jax: GPUs, or CPU devices "
        "made with XLA_FLAGS=--xla_force_host_platform_device_count=N); the batch is split "
        "over them (default: one device); with --resume, continue on these devices",
    )
    if family_class is not None:
        add_family_options(train, family_class)
    out = train.add_argument_group("output")
    out.add_argument("--out", metavar="FOLDER", help="run folder to write (default: runs/<family>-<time>)")
    out.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="replace the run already in --out (only files aekit wrote there are removed)",
    )
    out.add_argument("--resume", metavar="FOLDER", help="continue the run in FOLDER from its last completed epoch")


def add_family_options(parser, family_class) -> None:
    """One option per declared parameter of ``family_class`` (its model group, then the training group)."""
    groups = {
        "model": parser.add_argument_group(f"{family_class.family} model (defaults: the family's)"),
        "training": parser.add_argument_group("training"),
    }
    for param in family_class.params.values():
        if param.option is None:
            continue
        group = groups[param.group]
        kind = param.kind
        default = f" (default: {_shown(param.default)})"
        if isinstance(kind, Flag):
            group.add_argument(
                param.option,
                dest=param.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=param.help + default,
            )
            continue
        inner = kind.kind if isinstance(kind, Optional) and not hasattr(kind, "options") else kind
        choices = getattr(inner, "options", None)
        group.add_argument(
            param.option,
            dest=param.name,
            default=None,
            choices=choices,
            type=None if choices else type_from(kind.parse, param.name),
            metavar=None if choices else inner.metavar,
            help=param.help + default,
        )


def _shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return "unset" if value is None else str(value)


def _version() -> str:
    from aekit._version import version

    return version()
