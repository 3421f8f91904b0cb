"""``report.html``: one self-contained page per run, to open in a browser or send to someone.

The page embeds its plots as base64 PNGs and shows the metrics, the per-epoch history and every
setting in tables, so it needs no other file and no network. It is rebuilt from the run folder's
files alone (``aekit report RUN``), without Keras.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from aekit import runs

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9rem; } td, th { padding: 0.2rem 0.8rem; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } figure { margin: 1rem 0; } img { max-width: 100%; }
figcaption { color: #666; font-size: 0.85rem; } .status { font-weight: bold; }
"""


def write_report(folder) -> Path:
    """Build ``folder/report.html`` from the run's settings, metrics, history and plots; return its path."""
    folder = Path(folder)
    settings = runs.read_settings(folder)
    metrics = _read_json(folder / runs.METRICS)
    history = runs.read_history(folder / runs.HISTORY) if (folder / runs.HISTORY).exists() else {}
    plots = sorted((folder / runs.PLOTS).glob("*.png")) if (folder / runs.PLOTS).is_dir() else []

    title = f"aekit run: {settings['family']} autoencoder on {settings.get('data', {}).get('source', '?')}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p>Folder <code>{html.escape(str(folder))}</code> · status <span class="status">{html.escape(str(settings.get("status", "?")))}</span>'
        f" · updated {html.escape(str(settings.get('updated', '')))}</p>",
        "<h2>Metrics</h2>",
        _table(metrics) if metrics else "<p>No metrics yet: the run has not finished.</p>",
        "<h2>Plots</h2>",
    ]
    for path in plots:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = path.stem.replace("_", " ")
        parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    if not plots:
        parts.append("<p>No plots.</p>")
    parts += ["<h2>History</h2>", _history_table(history), "<h2>Settings</h2>", _table(_flatten(settings)), "</body></html>"]
    return runs.write_atomic(folder / runs.REPORT, "\n".join(parts) + "\n")


def _read_json(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise runs.RunError(f"{path}: unreadable JSON ({exc.msg}); delete it and run 'aekit evaluate' on the run") from exc


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
