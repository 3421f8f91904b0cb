"""The explorer's local web server: one page, its script and style sheet, and a small JSON API.

It is the standard library's ``ThreadingHTTPServer`` bound to 127.0.0.1. The page and its two
files ship inside the package and are served from memory; every other answer is computed by an
:class:`~aekit.explorer.session.ExploreSession`, so no request can name a file. Each query
parameter is checked (integer or finite number, in range, from a known list) and a bad one gets
a 400 with a one-line JSON message; an unknown address gets a 404. Nothing a request sends can
stop the server: any other failure is logged and answered with a 500.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import threading
import time
import webbrowser
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from aekit.errors import AekitError
from aekit.explorer.session import MAX_GRID, MAX_IMAGES, ExploreSession, _can
from aekit.noise import NOISE_LIMITS

HOST = "127.0.0.1"
log = logging.getLogger("aekit.explorer")

#: the page's files: address -> (file in aekit/explorer/static, content type)
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/explore.js": ("explore.js", "text/javascript; charset=utf-8"),
    "/explore.css": ("explore.css", "text/css; charset=utf-8"),
}
#: the page loads nothing from elsewhere, and the browser is told to refuse anything that tries
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class ExploreError(AekitError, ValueError):
    """A run or model cannot be explored, or the server cannot start; the message says what to do."""


class BadRequest(Exception):
    """A request the explorer refuses: ``status`` (4xx) and a one-line message for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------- starting it


def explore(
    model, data, labels=None, *, history=None, metrics=None, image_shape=None, port=None, open_browser=True, block=True
):
    """Explore a trained autoencoder on ``data`` in the browser: latent map, interpolation, denoising, ...

    ``model`` is a fitted aekit estimator or the path of its ``.keras`` file. ``data`` is an aekit
    :class:`~aekit.datasets.Dataset` (its test split and labels are explored) or an array of
    samples, with ``labels`` (one per sample) to colour the map. ``history`` (per-epoch lists)
    defaults to the model's own; ``metrics`` is a dict of numbers to show. ``image_shape`` says how
    to draw flat samples that are not square images.

    The page is served on 127.0.0.1 at ``port`` (default: a free one) and its address printed.
    With ``block=True`` this serves until Ctrl-C, which stops the server (its port is free again)
    and is raised on as ``KeyboardInterrupt`` wherever it lands, as any interrupted call does (the
    command line's ``aekit explore`` ends with exit status 130); with ``block=False`` it returns the
    running :class:`Explorer` at once (``.url``, ``.stop()``), e.g. in a notebook.
    """
    estimator = _estimator(model)
    if hasattr(data, "x_test"):  # an aekit Dataset
        x, labels, image_shape = data.x_test, data.y_test if labels is None else labels, image_shape or data.image_shape
    else:
        x = data
    session = ExploreSession(
        estimator,
        _shaped(np.asarray(x, dtype=np.float32), estimator.input_shape_),
        labels,
        history=getattr(estimator, "history_", {}) if history is None else history,
        metrics=metrics,
        image_shape=image_shape,
    )
    return _serve(session, port, open_browser, block)


#: test samples of a streamed run the page shows (its data may not fit in memory)
STREAMED_SAMPLES = 10_000


def explore_run(folder, port=None, open_browser=True, block=True):
    """Explore the model of a run folder written by ``aekit train`` on that run's test samples.

    Refuses, with :class:`ExploreError` or the run's own one-line errors, a folder that is not a
    finished or stopped run, or whose model file is not aekit's. Otherwise as :func:`explore`.
    """
    return _serve(ExploreSession(**_run_inputs(folder)), port, open_browser, block)


def _run_inputs(folder) -> dict:
    """The estimator, test samples, labels, image shape, history, metrics and title of a run folder."""
    from aekit import runs
    from aekit.datasets import fit_shape
    from aekit.run_folder import RunFolder, model_path

    run = RunFolder(folder)
    settings = run.read_settings()
    if settings.get("status") == "running":
        raise ExploreError(f"{run.path}: still training; wait for it to finish or stop it (Ctrl-C), then explore it")
    estimator = _estimator(model_path(run.path))
    dataset = runs.load_data(settings)
    if dataset.streamed:  # data beyond memory: the page maps the first test samples, as many as a page can show
        dataset = dataset.subset(n_test=STREAMED_SAMPLES)
    return {
        "estimator": estimator,
        "x": fit_shape(dataset.x_test, estimator.input_shape_, dataset.name),
        "labels": dataset.y_test,
        "image_shape": dataset.image_shape,
        "history": run.read_history() or getattr(estimator, "history_", {}),
        "metrics": run.read_metrics(),
        "title": f"{settings['family']} autoencoder on {dataset.name} · {run.path.name}",
    }


def _estimator(model):
    """A fitted estimator: ``model`` itself, or the aekit model file it names."""
    if isinstance(model, (str, os.PathLike)):
        from aekit.persistence import load

        return load(model)
    if not hasattr(model, "encode") or not hasattr(model, "decode"):
        raise ExploreError(
            f"cannot explore a {type(model).__name__}; pass a fitted aekit autoencoder or its .keras file"
        )
    if not hasattr(model, "input_shape_"):
        raise ExploreError(f"this {type(model).__name__} is not fitted yet; call fit(X) before exploring it")
    return model


def _shaped(x: np.ndarray, input_shape) -> np.ndarray:
    """Samples reshaped to the model's sample shape when only the layout differs (flat vs image)."""
    from aekit.datasets import fit_shape

    if x.ndim < 2 or len(x) == 0:
        raise ExploreError(f"expected a non-empty array of samples (n, ...) to explore, got shape {x.shape}")
    return fit_shape(x, input_shape, "the data to explore")


def _serve(session: ExploreSession, port, open_browser: bool, block: bool) -> Explorer:
    explorer = Explorer(session, port)
    if not block:
        print(f"aekit explore: {explorer.url}", flush=True)
        if open_browser:
            webbrowser.open(explorer.url)
        return explorer
    try:  # from here a Ctrl-C, wherever it lands, stops the server and goes on as KeyboardInterrupt
        print(f"aekit explore: {explorer.url}  (Ctrl-C stops it)", flush=True)
        if open_browser:
            webbrowser.open(explorer.url)
        explorer.wait()
    except KeyboardInterrupt:
        explorer.stop()
        print("aekit explore: stopped", flush=True)
        raise
    finally:
        explorer.stop()
    return explorer


class Explorer:
    """A running explorer server: ``url`` to open, ``stop()`` to end it (also as a context manager)."""

    def __init__(self, session: ExploreSession, port=None):
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            raise ExploreError(f"port must be a whole number from 1 to 65535, got {port!r}")
        self.session = session
        try:
            self._server = _Server((HOST, port or 0), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ExploreError(
                    f"port {port} is in use; choose another --port or leave it out for a free one"
                ) from None
            raise
        self._server.session = session
        self._server.static = {address: (_static_file(name), kind) for address, (name, kind) in STATIC.items()}
        self.port = self._server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="aekit-explore", daemon=True
        )
        self._thread.start()

    def wait(self):
        """Serve until ``stop()`` (from another thread) or Ctrl-C; either way the server stops.

        Ctrl-C is raised on as ``KeyboardInterrupt`` once the port is free, so the caller (the
        command line: exit status 130) knows the wait was interrupted, not ended.
        """
        try:
            while not self._stopped.is_set():
                time.sleep(0.2)  # a sleep, not a join: Ctrl-C during Thread.join can leave the thread looking dead
        finally:
            self.stop()

    def stop(self):
        """Stop serving and free the port (again: nothing happens); a Ctrl-C meanwhile still frees the port."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        try:
            self._server.shutdown()
            self._thread.join()
        finally:
            self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def _repr_html_(self):
        return f'<a href="{self.url}" target="_blank">aekit explore: {self.url}</a>'


def _static_file(name: str) -> bytes:
    return (resources.files("aekit.explorer") / "static" / name).read_bytes()


# ---------------------------------------------------------------- answering requests


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    session: ExploreSession
    static: dict


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "aekit-explore"
    sys_version = ""
    timeout = 60  # seconds a connection may stay silent before its thread gives up on it

    def do_GET(self):
        self._answer(send_body=True)

    def do_HEAD(self):
        self._answer(send_body=False)

    def _refuse_method(self):
        self._send(405, "application/json", _error("only GET requests are answered here"), send_body=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _answer(self, send_body: bool):
        try:
            status, content_type, body = 200, *self._route()
        except BadRequest as exc:
            status, content_type, body = exc.status, "application/json", _error(exc.message)
        except Exception:
            log.exception("aekit explore: failed to answer %s", self.path[:200])
            status, content_type, body = 500, "application/json", _error("internal error; the server's log says more")
        self._send(status, content_type, body, send_body)

    def _route(self) -> tuple[str, bytes]:
        allowed_hosts = {f"{HOST}:{self.server.server_address[1]}", f"localhost:{self.server.server_address[1]}"}
        if self.headers.get("Host") not in allowed_hosts:  # a page of another site reached us by DNS rebinding
            raise BadRequest(403, f"this server answers only to http://{HOST}:{self.server.server_address[1]}/")
        address = urlsplit(self.path)
        if address.path in self.server.static:
            content, content_type = self.server.static[address.path]
            return content_type, content
        if address.path not in API:
            raise BadRequest(404, "no such page; the explorer lives at /")
        query = Query(address.query)
        compute = API[address.path](self.server.session, query)
        query.finish()
        return "application/json", json.dumps(_finite(compute()), allow_nan=False).encode()

    def _send(self, status: int, content_type: str, body: bytes, send_body: bool):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the page moved on before the answer came
                pass

    def log_message(self, format, *args):
        """Quiet: a click on the map is not worth a line on the terminal."""


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


def _finite(value):
    """``value`` with NaN and infinities as None, which JSON (and the page) can read."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class Query:
    """The query parameters of one request, each read once, converted and range-checked."""

    def __init__(self, text: str):
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=16)
        except ValueError:
            raise BadRequest(400, "too many query parameters") from None
        self.values: dict[str, str] = {}
        for name, value in pairs:
            if name in self.values:
                raise BadRequest(400, f"parameter {name[:40]!r} is given twice")
            self.values[name] = value
        self.read: set[str] = set()

    def integer(self, name: str, low: int, high: int, default: int | None = None) -> int:
        text = self._text(name, default)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise BadRequest(400, f"{name} must be a whole number, got {text[:20]!r}") from None
        if not low <= value <= high:
            raise BadRequest(400, f"{name} {value} is out of range; it must be from {low} to {high}")
        return value

    def number(self, name: str, low: float, high: float, default: float | None = None) -> float:
        text = self._text(name, default)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise BadRequest(400, f"{name} must be a number, got {text[:20]!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise BadRequest(400, f"{name} {text[:20]} is out of range; it must be from {low:.4g} to {high:.4g}")
        return value

    def choice(self, name: str, options, default: str | None = None) -> str:
        text = self._text(name, default)
        if text is None:
            return default
        if text not in options:
            raise BadRequest(400, f"{name} must be one of {', '.join(options)}, got {text[:20]!r}")
        return text

    def finish(self):
        """Refuse parameters the request does not take (a typo would otherwise pass unnoticed)."""
        unknown = sorted(set(self.values) - self.read)
        if unknown:
            takes = ", ".join(sorted(self.read)) or "none"
            raise BadRequest(400, f"unknown parameter {unknown[0][:40]!r}; this request takes: {takes}")

    def _text(self, name: str, default):
        self.read.add(name)
        if name in self.values:
            return self.values[name]
        if default is None:
            raise BadRequest(400, f"missing parameter {name!r}")
        return None


# ---------------------------------------------------------------- the JSON API
# Each entry reads and checks its parameters, then returns the computation to run once the
# request is known to hold nothing else.


def _index(session: ExploreSession, query: Query, name: str) -> int:
    return query.integer(name, 0, session.size - 1)


def _needs_sampling(session: ExploreSession):
    if not _can(session.estimator, "sample"):
        raise BadRequest(
            404, f"a {session.estimator.family} autoencoder cannot generate; only variational families generate"
        )


def api_overview(session, query):
    return session.overview


def api_sample(session, query):
    return partial(session.sample, _index(session, query, "index"))


def api_decode(session, query):
    (x_low, x_high), (y_low, y_high) = session.projection.limits
    return partial(session.decode_point, query.number("x", x_low, x_high), query.number("y", y_low, y_high))


def api_interpolate(session, query):
    a, b = _index(session, query, "a"), _index(session, query, "b")
    return partial(session.interpolation, a, b, query.integer("steps", 2, MAX_IMAGES))


def api_denoise(session, query):
    index, kind = _index(session, query, "index"), query.choice("kind", list(NOISE_LIMITS))
    level = query.number("level", 0.0, NOISE_LIMITS[kind])
    return partial(session.denoising, index, kind, level, query.integer("seed", 0, 2**31 - 1, default=0))


def api_generate(session, query):
    _needs_sampling(session)
    return partial(session.generation, query.integer("n", 1, MAX_IMAGES), query.integer("seed", 0, 2**31 - 1))


def api_grid(session, query):
    _needs_sampling(session)
    return partial(session.latent_grid, query.integer("n", 2, MAX_GRID), query.number("extent", 0.1, 10.0))


def api_anomalies(session, query):
    offset = query.integer("offset", 0, session.size - 1, default=0)
    return partial(session.anomalies, offset, query.integer("count", 1, MAX_IMAGES))


API = {
    "/api/overview": api_overview,
    "/api/sample": api_sample,
    "/api/decode": api_decode,
    "/api/interpolate": api_interpolate,
    "/api/denoise": api_denoise,
    "/api/generate": api_generate,
    "/api/grid": api_grid,
    "/api/anomalies": api_anomalies,
}
