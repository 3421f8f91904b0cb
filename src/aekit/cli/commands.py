"""The commands: each turns parsed arguments into calls of aekit's library and returns a result dict.

:func:`aekit.cli.main` prints the dict (as text, or as JSON with ``--json``). Notes and progress go
to standard error through ``note``. Heavy modules (Keras, the models) are imported inside the
commands, after ``--backend`` has taken effect.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aekit.cli.parser import DATA_OPTIONS, OUTPUT_OPTIONS
from aekit.errors import ParameterError, UsageError


def note(args, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


# ---------------------------------------------------------------- train and demo


def train(args, family_class) -> dict:
    from aekit import runs
    from aekit.run_folder import RunFolder

    if args.resume:
        given = [
            f"--{name.replace('_', '-')}"
            for name in (*DATA_OPTIONS, *OUTPUT_OPTIONS)
            if getattr(args, name, None) is not None
        ]
        if args.family:
            given.insert(0, args.family)
        if given:
            raise UsageError(f"--resume continues with the run's own settings; drop {', '.join(given)}")
        folder = Path(args.resume).expanduser()
        epochs = RunFolder(folder).read_settings()["params"].get("epochs")
        try:
            metrics = _training(
                args,
                folder,
                epochs,
                lambda callbacks, log: runs.resume(folder, callbacks=callbacks, log=log, devices=args.devices),
            )
        except ParameterError as exc:
            raise UsageError(exc.render(_spelled(None))) from None
        if metrics is None:
            metrics = RunFolder(folder).read_metrics()
            note(args, f"{folder} is complete; nothing to resume")
            return {"run": str(folder), "status": "complete", "metrics": metrics}
        return _trained(args, folder, metrics)

    if family_class is None:
        from aekit import registry

        raise UsageError(
            "name the model family to train, e.g. 'aekit train dense' (families: "
            + ", ".join(registry.names())
            + "), or continue a run with --resume FOLDER"
        )
    if getattr(family_class, "needs_labels", False):
        raise UsageError(
            f"the {family_class.family} family is a classifier trained on labelled data; "
            f"train it from Python ({family_class.__module__}.{family_class.__name__})"
        )
    given = {name: getattr(args, name) for name in family_class.params if getattr(args, name, None) is not None}
    if args.out is not None and not args.out.strip():
        raise UsageError("--out is empty; name the run folder (an unset shell variable?)")
    data = runs.data_settings(
        args.data or "digits",
        args.test_size if args.test_size is not None else 0.1,
        0,
        args.train_samples,
        image_size=args.image_size,
        color_mode=args.color_mode,
        impute=args.impute,
        skip_bad_files=bool(args.skip_bad_files),
        stream=args.stream,
    )
    settings = _checked_settings(family_class, given, data, devices=args.devices)
    try:
        prepared = runs.prepare(settings)  # bad data fails here, before any folder is made
    except ParameterError as exc:
        raise UsageError(exc.render(_spelled(family_class))) from None
    if prepared.dataset.skipped:
        note(
            args,
            f"skipped {len(prepared.dataset.skipped)} unreadable files: {', '.join(prepared.dataset.skipped[:5])}"
            + (", ..." if len(prepared.dataset.skipped) > 5 else ""),
        )
    folder = Path(args.out).expanduser() if args.out else default_folder(family_class.family)
    metrics = _training(
        args,
        folder,
        settings["params"]["epochs"],
        lambda callbacks, log: runs.train(prepared, folder, force=bool(args.force), callbacks=callbacks, log=log),
    )
    return _trained(args, folder, metrics)


def demo(args) -> dict:
    """The README's first command: a small dense autoencoder on the digits, with its plots."""
    from aekit import registry, runs
    from aekit.run_folder import PLOTS, REPORT

    params = {"hidden_layers": (48,), "latent_dim": 12, "epochs": args.epochs, "batch_size": 32, "learning_rate": 3e-3}
    settings = _checked_settings(registry.get("dense"), params, runs.data_settings("digits"), command="demo")
    prepared = runs.prepare(settings)
    folder = Path(args.out).expanduser() if args.out else default_folder("demo")
    metrics = _training(
        args,
        folder,
        args.epochs,
        lambda callbacks, log: runs.train(prepared, folder, force=args.force, callbacks=callbacks, log=log),
    )
    result = _trained(args, folder, metrics)
    note(
        args,
        f"open {folder / REPORT} in a browser; the reconstructions are in {folder / PLOTS / 'reconstructions.png'}",
    )
    note(args, f"explore it in the browser: aekit explore {folder}")
    return result


def _checked_settings(family_class, given: dict, data: dict, command: str = "train", devices=None) -> dict:
    """Settings from the options given, every value checked by the family's declaration."""
    from aekit import runs

    try:
        settings = runs.new_settings(family_class.family, given, data, command=command, devices=devices)
    except ParameterError as exc:
        raise UsageError(exc.render(lambda name: _option(family_class, name))) from None
    params = settings["params"]
    for name in given:
        for other, needed in family_class.params[name].requires.items():
            if params[other] != needed:
                raise UsageError(
                    f"{_option(family_class, name)} needs {_option(family_class, other)} {needed} "
                    "(it has no effect otherwise)"
                )
    return settings


def _spelled(family_class):
    """How a parameter's name reads on the command line (``devices`` is the train command's own option)."""
    return lambda name: (
        "--devices"
        if name == "devices"
        else (_option(family_class, name) if family_class is not None else f"--{name.replace('_', '-')}")
    )


def _option(family_class, name: str) -> str:
    param = family_class.params.get(name)
    return (param.option if param is not None else None) or name


def _training(args, folder: Path, epochs: int, start):
    """Run ``start(callbacks, log)`` with a progress bar; Ctrl-C says what was saved and how to go on."""
    from aekit.cli.progress import progress_bar
    from aekit.run_folder import MODEL

    callbacks = [] if getattr(args, "quiet", False) else [progress_bar(epochs)]
    try:
        return start(callbacks, lambda message: note(args, message))
    except KeyboardInterrupt:
        if not (folder / MODEL).exists():
            raise KeyboardInterrupt("; no epoch was completed, so nothing was kept") from None
        raise KeyboardInterrupt(
            f"; the last completed epoch is saved in {folder / MODEL}; continue with: aekit train --resume {folder}"
        ) from None


def _trained(args, folder: Path, metrics: dict) -> dict:
    from aekit.run_folder import MODEL, REPORT, RunFolder

    plots = [str(p) for p in RunFolder(folder).plots()]
    note(
        args,
        f"wrote {folder}/: settings.json, model.keras, history.csv, metrics.json, report.html and {len(plots)} plots",
    )
    return {
        "run": str(folder),
        "status": "complete",
        "metrics": metrics,
        "model": str(folder / MODEL),
        "report": str(folder / REPORT),
        "plots": plots,
    }


def default_folder(family: str, root="runs") -> Path:
    """``runs/<family>-<UTC time>``, with a counter if two runs start in the same second."""
    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = Path(root) / f"{family}-{stamp}"
    n = 2
    while folder.exists():
        folder = Path(root) / f"{family}-{stamp}-{n}"
        n += 1
    return folder


# ---------------------------------------------------------------- using a model


def _open(args, output_suffixes=(".npy", ".csv")):
    """The estimator of a run folder or ``.keras`` file, once its outputs are known to be free and well named."""
    from aekit import runs
    from aekit.files import final_path, refuse_existing

    if getattr(args, "output", None) is not None:
        refuse_existing(final_path(args.output, output_suffixes), args.force)
    if getattr(args, "plot", None):
        refuse_existing(final_path(args.plot, (".png",), default_suffix=".png"), args.force)
    return runs.open_model(args.model)


def _samples(args, estimator, source, split="test"):
    from aekit import runs

    return runs.samples_for(estimator, args.model, source, split)


def _write(args, array, what: str, estimator=None) -> str:
    """Write ``array`` to ``-o``; samples of a model trained on a table get its header in a CSV."""
    from aekit.files import write_array

    columns = None
    if (
        estimator is not None
        and getattr(estimator, "columns_", None)
        and array.ndim == 2
        and array.shape[1] == len(estimator.columns_)
    ):
        columns = list(estimator.columns_)
    path = write_array(args.output, array, force=args.force, columns=columns)
    note(args, f"wrote {len(array)} {what} to {path}")
    return str(path)


def _plot(args, estimator, figure: str, *arrays, **kwargs) -> dict:
    """Draw ``plots.<figure>(*arrays, path, image_shape=...)`` to ``--plot`` when it was given."""
    if not getattr(args, "plot", None):
        return {}
    from aekit import plots

    shape = tuple(estimator.input_shape_)
    try:
        image_shape = shape if len(shape) > 1 else plots.square_shape(shape[0])
    except ValueError:
        raise UsageError("--plot draws images, but this model works on feature vectors; drop --plot") from None
    return {
        "plot": str(getattr(plots, figure)(*arrays, args.plot, image_shape=image_shape, overwrite=args.force, **kwargs))
    }


def evaluate(args) -> dict:
    from aekit import runs
    from aekit.run_folder import model_path

    estimator = _open(args)
    x = _samples(args, estimator, args.data, args.split)
    return {"model": str(model_path(args.model)), "family": estimator.family, **runs.evaluate(estimator, x)}


def encode(args) -> dict:
    estimator = _open(args)
    codes = estimator.encode(_samples(args, estimator, args.data, args.split))
    return {"output": _write(args, codes, "codes"), "samples": len(codes), "code_shape": list(codes.shape[1:])}


def reconstruct(args) -> dict:
    from aekit import runs

    estimator = _open(args)
    x = _samples(args, estimator, args.data, args.split)
    x_hat = estimator.reconstruct(x)
    plot = _plot(args, estimator, "plot_reconstructions", x, x_hat)
    scores = runs.evaluate(
        estimator, x, x_hat
    )  # evaluate's numbers: the MSE in the data's units (and in the model's, if it scales)
    errors = {key: scores[key] for key in ("mse", "mse_scaled") if key in scores}
    return {"output": _write(args, x_hat, "reconstructions", estimator), "samples": len(x_hat), **errors, **plot}


def denoise(args) -> dict:
    from aekit import evaluation

    if args.noise_level is not None and args.add_noise is None:
        raise UsageError("--noise-level needs --add-noise KIND (without it the data is taken as already noisy)")
    estimator = _open(args)
    clean = _samples(args, estimator, args.data, args.split)
    noisy = clean
    if args.add_noise:
        from aekit.noise import corrupt, noise_level

        try:
            noise_level(args.add_noise, args.noise_level)
        except ValueError as exc:
            raise UsageError(f"--noise-level: {exc}") from None
        noisy = corrupt(clean, args.add_noise, args.noise_level, seed=args.seed)
    if args.shift_average and "denoise" not in estimator.uses:
        raise UsageError(
            f"--shift-average: {args.model} holds a {estimator.family} autoencoder, not a denoiser; "
            "leave the option out"
        )
    denoised = (
        estimator.denoise(noisy, shift_average=args.shift_average)
        if "denoise" in estimator.uses
        else estimator.reconstruct(noisy)
    )
    if args.add_noise:
        plot = _plot(args, estimator, "plot_denoising", clean, noisy, denoised)
    else:
        plot = _plot(args, estimator, "plot_image_rows", [noisy, denoised], titles=["noisy input", "denoised"])
    result = {"output": _write(args, denoised, "denoised samples", estimator), "samples": len(denoised)}
    if args.add_noise:
        result["mse_noisy"] = float(evaluation.reconstruction_error(clean, noisy, "mse").mean())
        result["mse_denoised"] = float(evaluation.reconstruction_error(clean, denoised, "mse").mean())
    return {**result, **plot}


def generate(args) -> dict:
    estimator = _open(args)
    if "sample" not in estimator.uses:
        raise UsageError(
            f"{args.model} holds a {estimator.family} autoencoder, which cannot generate; train a vae or conv_vae"
        )
    samples = estimator.sample(args.samples, seed=args.seed)
    plot = _plot(args, estimator, "plot_samples", samples)
    return {"output": _write(args, samples, "samples", estimator), "samples": len(samples), **plot}


def interpolate(args) -> dict:
    estimator = _open(args)
    x = _samples(args, estimator, args.data, args.split)
    for index in (args.start, args.end):
        if index >= len(x):
            raise UsageError(f"sample index {index} is out of range: the data holds {len(x)} samples (0..{len(x) - 1})")
    path = estimator.interpolate(x[args.start], x[args.end], steps=args.steps)
    plot = _plot(args, estimator, "plot_interpolation", path, titles=[f"sample {args.start} to sample {args.end}"])
    return {"output": _write(args, path, "interpolated samples", estimator), "steps": args.steps, **plot}


def anomaly(args) -> dict:
    """Score each sample, flag those above the threshold and, for a table, name the columns that made each flag."""
    from aekit.applications.anomaly import AnomalyDetector, find_anomalies, write_scores
    from aekit.files import final_path

    output = final_path(args.output)
    if output.suffix.lower() != ".csv":
        raise UsageError(f"{output}: anomaly scores are written as CSV; name the output *.csv")
    if args.percentile is not None and args.contamination is not None:
        raise UsageError("--contamination and --percentile both set the threshold; give one of them")
    estimator = _open(args, (".csv",))
    if args.normal is None and not Path(args.model).expanduser().is_dir():
        raise UsageError(
            f"{args.model} is a model file, so --normal is needed (a run folder remembers its training data)"
        )
    normal = _samples(args, estimator, args.normal, "train")
    new = _samples(args, estimator, args.data, args.split)
    contamination = 0.01 if args.contamination is None else args.contamination
    detector = AnomalyDetector(estimator, contamination=contamination, percentile=args.percentile, prefit=True).fit(
        normal
    )
    findings = find_anomalies(detector, new, top=args.top)
    write_scores(output, findings, force=args.force)
    scores, flagged = findings.scores, findings.flagged()
    plot = {}
    if args.plot:
        from aekit import plots

        plot = {"plot": str(plots.plot_anomaly_scores(scores, detector.threshold_, args.plot, overwrite=args.force))}
    rule = (
        f"percentile {args.percentile:g} of the normal data's scores"
        if args.percentile is not None
        else f"{contamination:g} of the normal data above it"
    )
    note(
        args,
        f"wrote {len(scores)} scores to {output}: "
        f"{len(flagged)} above the threshold {detector.threshold_:.4g} ({rule})",
    )
    for row in flagged[:10]:
        columns = ", ".join(f"{c['column']} ({c['share']:.0%})" for c in row.get("top_columns", []))
        note(args, f"  row {row['index']}: score {row['score']:.4g}" + (f"; {columns}" if columns else ""))
    if len(flagged) > 10:
        note(args, f"  ... and {len(flagged) - 10} more in {output}")
    result = {
        "output": str(output),
        "samples": len(scores),
        "threshold": detector.threshold_,
        "anomalies": len(flagged),  # the rows, with their columns in JSON (the notes show them as text)
        "flagged": flagged if getattr(args, "json", False) else [row["index"] for row in flagged],
    }
    return {**result, **plot}


def report(args) -> dict:
    from aekit import report as reports

    path = reports.write_report(args.run)
    note(args, f"open {path} in a browser")
    return {"report": str(path)}


def explore(args) -> None:
    """Serve the run's explorer page until Ctrl-C (the explorer prints its address)."""
    from aekit.explorer import explore_run

    explore_run(args.run, port=args.port, open_browser=not args.no_browser)


def info(args) -> dict:
    from aekit._backend import describe_backend

    return describe_backend()
