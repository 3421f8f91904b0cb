"""``report.html``: one self-contained page per run, to open in a browser or send to someone.

The page embeds its plots as base64 PNGs and shows the metrics, the per-epoch history, the
model's parameters (with each one's help from the family's declaration) and every other setting
in tables, so it needs no other file and no network. It is rebuilt from the run folder's files
alone (``aekit report RUN``), without Keras.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from aekit import registry
from aekit.errors import AekitError
from aekit.files import write_text
from aekit.run_folder import HISTORY, MODEL, REPORT, RunFolder

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9rem; } \
td, th { padding: 0.2rem 0.8rem; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } figure { margin: 1rem 0; } img { max-width: 100%; }
figcaption { color: #666; font-size: 0.85rem; } .status { font-weight: bold; }
"""


def write_report(folder) -> Path:
    """Build ``folder/report.html`` from the run's settings, metrics, history and plots; return its path."""
    run = RunFolder(folder)
    settings = run.read_settings()
    if not (run / HISTORY).exists() and (run / MODEL).is_file():
        _rebuild_history(run)
    metrics, history, plots = run.read_metrics(), run.read_history(), run.plots()

    title = f"aekit run: {settings['family']} autoencoder on {settings['data']['source']}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Folder <code>{html.escape(str(run.path))}</code> · status "
        f'<span class="status">{html.escape(str(settings.get("status", "?")))}</span>'
        f" · updated {html.escape(str(settings.get('updated', '')))}</p>",
        "<h2>Metrics</h2>",
        _table(metrics) if metrics else "<p>No metrics yet: the run has not finished.</p>",
        "<h2>Plots</h2>",
    ]
    for path in plots:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = path.stem.replace("_", " ")
        parts.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    if not plots:
        parts.append("<p>No plots.</p>")
    others = {k: v for k, v in settings.items() if k != "params"}
    parts += [
        "<h2>History</h2>",
        _history_table(history),
        "<h2>Model parameters</h2>",
        _params_table(settings["family"], settings["params"]),
        "<h2>Settings</h2>",
        _table(_flatten(others)),
        "</body></html>",
    ]
    with run.writing(REPORT) as (path,):
        return write_text(path, "\n".join(parts) + "\n", force=True)


def _rebuild_history(run: RunFolder) -> None:
    """history.csv from the checkpoint, which holds the same per-epoch history (the one source of truth)."""
    from aekit._schema import field, numbers_list
    from aekit.errors import RunError
    from aekit.persistence import read_metadata

    document, _ = read_metadata(run / MODEL)
    where = f"{run / MODEL} (aekit.json)"
    history = {
        key: numbers_list(values, f"history.{key}", where, RunError)
        for key, values in field(document, "history", dict, where, RunError, optional=True, default={}).items()
    }
    run.write_history(history)


def _params_table(family: str, params: dict) -> str:
    """Each parameter's value beside its one line of help (from the family's declaration, when it loads)."""
    try:
        declared = registry.get(family).params
    except AekitError:  # a plug-in that is not installed here: the values alone
        declared = {}
    rows = "".join(
        f"<tr><th>params.{html.escape(name)}</th>{_cell(value)}"
        f"<td>{html.escape(declared[name].help) if name in declared else ''}</td></tr>"
        for name, value in params.items()
    )
    return f"<table>{rows}</table>"


def _flatten(mapping: dict, prefix: str = "") -> dict:
    """Nested settings as ``{"params.hidden_layers": ...}`` rows."""
    rows = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.update(_flatten(value, f"{name}."))
        else:
            rows[name] = value
    return rows


def _cell(value) -> str:
    if isinstance(value, float):
        return f'<td class="n">{value:.6g}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="n">{value}</td>'
    text = json.dumps(value) if isinstance(value, (list, bool)) or value is None else str(value)
    return f"<td>{html.escape(text)}</td>"


def _table(rows: dict) -> str:
    body = "".join(f"<tr><th>{html.escape(str(k))}</th>{_cell(v)}</tr>" for k, v in rows.items())
    return f"<table>{body}</table>"


def _history_table(history: dict) -> str:
    if not history.get("loss"):
        return "<p>No completed epoch.</p>"
    keys = list(history)
    head = "<tr><th>epoch</th>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>"
    rows = "".join(
        f'<tr><td class="n">{i + 1}</td>' + "".join(_cell(history[k][i]) for k in keys) + "</tr>"
        for i in range(len(history["loss"]))
    )
    return f"<table>{head}{rows}</table>"
