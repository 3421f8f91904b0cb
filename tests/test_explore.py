"""aekit explore: the JSON API over HTTP, its refusals, and the page in a real headless Chromium.

One tiny VAE run (2-D latent, trained by the command line) and one tiny convolutional denoiser
(PCA map, fitted here) are explored for the whole module. The browser tests drive Debian's
``chromium`` through ``chromedriver`` with Selenium; they skip, saying why, where none is installed.
"""

import _thread
import base64
import http.client
import io
import json
import shutil
import socket
import statistics
import tempfile
import threading
import time
import types
from urllib.parse import urlsplit

import numpy as np
import pytest

import aekit
from aekit import cli
from aekit.explorer import ExploreError, Explorer, explore, explore_run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "vae"
    status = cli.main(
        [
            "train",
            "vae",
            "--hidden",
            "32",
            "--latent",
            "2",
            "--epochs",
            "2",
            "--train-samples",
            "300",
            "--out",
            str(folder),
            "-q",
        ]
    )
    assert status == 0
    return folder


@pytest.fixture(scope="module")
def vae(vae_run):
    with explore_run(vae_run, open_browser=False, block=False) as explorer:
        yield explorer


@pytest.fixture(scope="module")
def conv_denoiser(digits):
    from aekit import ConvDenoisingAutoencoder

    model = ConvDenoisingAutoencoder(filters=(4,), noise="masking", epochs=1, batch_size=64).fit(digits.x_train[:256])
    with explore(model, digits, metrics={"note": "fitted in the test"}, open_browser=False, block=False) as explorer:
        yield explorer


def get(explorer, path, method="GET", host=None):
    """``(status, headers, body)`` of one request sent exactly as written (no path clean-up)."""
    address = urlsplit(explorer.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request(method, path, headers={"Host": host} if host else {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def get_json(explorer, path, status=200):
    code, _, body = get(explorer, path)
    assert code == status, body
    return json.loads(body)


def pixels(data_url):
    from PIL import Image

    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :]))))


# ---------------------------------------------------------------- the server and its API


def test_binds_loopback_only_on_a_free_port(vae):
    assert vae.url == f"http://127.0.0.1:{vae.port}/"
    assert vae._server.socket.getsockname()[0] == "127.0.0.1"


def test_serves_the_page_and_its_two_files(vae):
    status, headers, page = get(vae, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<canvas id="map"' in page and b"http" not in page.replace(
        b"http-equiv", b""
    )  # nothing fetched from elsewhere
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for path, kind in [("/explore.js", "text/javascript"), ("/explore.css", "text/css")]:
        status, headers, body = get(vae, path)
        assert status == 200 and headers["Content-Type"].startswith(kind) and len(body) > 1000


def test_overview_describes_the_run(vae):
    overview = get_json(vae, "/api/overview")
    assert overview["family"] == "vae" and overview["samples"] == 360 and overview["code_size"] == 2
    assert overview["map"]["kind"] == "latent" and overview["map"]["explained_variance"] is None
    assert len(overview["map"]["points"]) == len(overview["errors"]) == len(overview["label_index"]) == 360
    assert overview["classes"] == [str(d) for d in range(10)]
    assert overview["uses"] == {"denoise": False, "generate": True}
    assert len(overview["history"]["loss"]) == len(overview["history"]["val_loss"]) == 2
    assert overview["metrics"]["epochs"] == 2 and overview["metrics"]["samples"] == 360


def test_sample_shows_original_and_reconstruction(vae):
    sample = get_json(vae, "/api/sample?index=5")
    assert sample["index"] == 5 and sample["label"] in [str(d) for d in range(10)]
    assert pixels(sample["original"]).shape == pixels(sample["reconstruction"]).shape == (8, 8)
    assert sample["error"] == pytest.approx(get_json(vae, "/api/overview")["errors"][5], rel=1e-4)


def test_decoded_image_changes_with_the_map_position(vae):
    (x0, x1), (y0, y1) = get_json(vae, "/api/overview")["map"]["limits"]
    first = pixels(get_json(vae, f"/api/decode?x={x0 / 2}&y={y0 / 2}")["image"])
    second = pixels(get_json(vae, f"/api/decode?x={x1 / 2}&y={y1 / 2}")["image"])
    assert first.shape == second.shape == (8, 8)
    assert not np.array_equal(first, second)


def test_decoding_a_map_point_answers_within_100_ms(vae):
    (x0, x1), (y0, y1) = get_json(vae, "/api/overview")["map"]["limits"]
    times = []
    for x, y in np.random.default_rng(0).uniform([x0, y0], [x1, y1], size=(20, 2)):
        start = time.perf_counter()
        status, _, _ = get(vae, f"/api/decode?x={x:.4f}&y={y:.4f}")
        times.append(time.perf_counter() - start)
        assert status == 200
    print(f"decode round trip: median {statistics.median(times) * 1000:.1f} ms, slowest {max(times) * 1000:.1f} ms")
    # all but two: this machine's cores are shared, and another process can take one for a moment
    assert sorted(times)[-3] < 0.1


def test_interpolation_walks_from_one_code_to_the_other(vae):
    answer = get_json(vae, "/api/interpolate?a=3&b=7&steps=5")
    images = [pixels(image) for image in answer["images"]]
    assert len(images) == 5 and not np.array_equal(images[0], images[-1])
    reconstruction = pixels(get_json(vae, "/api/sample?index=3")["reconstruction"])
    np.testing.assert_allclose(images[0], reconstruction, atol=1)  # the walk starts at A's own decoded code


def test_generation_and_latent_grid_for_a_variational_model(vae):
    assert pixels(get_json(vae, "/api/generate?n=16&seed=1")["image"]).shape == (4 * 9 - 1, 4 * 9 - 1)
    assert pixels(get_json(vae, "/api/grid?n=5&extent=2.5")["image"]).shape == (5 * 9 - 1, 5 * 9 - 1)
    first, again = (get_json(vae, "/api/generate?n=4&seed=7")["image"] for _ in range(2))
    assert first == again != get_json(vae, "/api/generate?n=4&seed=8")["image"]
    grid = pixels(get_json(vae, "/api/grid?n=3&extent=1")["image"])
    for (x, y), (row, col) in {(-1, 1): (0, 0), (1, 1): (0, 2), (-1, -1): (2, 0)}.items():  # laid out as the map
        tile = grid[row * 9 : row * 9 + 8, col * 9 : col * 9 + 8]
        np.testing.assert_array_equal(tile, pixels(vae.session.decode_point(x, y)["image"]))


def test_anomalies_ranked_worst_first(vae):
    errors = get_json(vae, "/api/overview")["errors"]
    first_page = get_json(vae, "/api/anomalies?count=4")["samples"]
    second_page = get_json(vae, "/api/anomalies?offset=4&count=4")["samples"]
    ranked = [sample["error"] for sample in first_page + second_page]
    assert ranked == sorted(ranked, reverse=True) and ranked[0] == pytest.approx(max(errors), rel=1e-4)
    assert {s["index"] for s in first_page}.isdisjoint(s["index"] for s in second_page)


def test_denoising_panel_works_for_any_family(vae, conv_denoiser):
    overview = get_json(conv_denoiser, "/api/overview")
    assert overview["uses"]["denoise"] and overview["noise"]["default_kind"] == "masking"
    for explorer in (vae, conv_denoiser):
        answer = get_json(explorer, "/api/denoise?index=2&kind=salt_and_pepper&level=0.3&seed=4")
        assert not np.array_equal(pixels(answer["noisy"]), pixels(answer["original"]))
        assert pixels(answer["output"]).shape == (8, 8)
        assert answer["error_noisy"] > 0


def test_pca_map_decodes_the_code_on_the_pca_plane(conv_denoiser):
    overview = get_json(conv_denoiser, "/api/overview")
    assert overview["map"]["kind"] == "pca" and overview["code_size"] == 4 * 4 * 4
    explained = overview["map"]["explained_variance"]
    assert len(explained) == 2 and 0 < explained[1] <= explained[0] and sum(explained) <= 1
    projection = conv_denoiser.session.projection
    points = np.array([[0.3, -0.2], [1.5, 0.7]])
    codes = projection.to_code(points)
    np.testing.assert_allclose(
        projection.to_map(codes), points, atol=1e-6
    )  # the codes lie on the plane, at those points
    first, second = (pixels(get_json(conv_denoiser, f"/api/decode?x={x}&y={y}")["image"]) for x, y in points)
    assert first.shape == (8, 8) and not np.array_equal(first, second)


@pytest.mark.parametrize("width, kind", [(1, "latent-1d"), (2, "latent"), (5, "pca")])
def test_map_points_go_back_to_codes_that_land_on_them(width, kind):
    from aekit.explorer.session import MapProjection

    codes = np.random.default_rng(0).normal(size=(50, width)) * np.arange(1, width + 1)
    projection = MapProjection(codes)
    assert projection.kind == kind
    points = projection.to_map(codes)
    assert points.shape == (50, 2)
    clicked = np.array([[0.5, 0.0], [-1.0, 0.0]]) if width == 1 else np.array([[0.5, -0.25], [-1.0, 2.0]])
    back = projection.to_code(clicked)
    assert back.shape == (2, width)
    np.testing.assert_allclose(projection.to_map(back), clicked, atol=1e-9)
    for (low, high), values in zip(projection.limits, points.T):
        assert low < values.min() and values.max() < high


def test_generation_is_refused_for_other_families(conv_denoiser):
    for path in ("/api/generate?n=4&seed=0", "/api/grid?n=5&extent=3"):
        assert "cannot generate" in get_json(conv_denoiser, path, status=404)["error"]


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("/api/sample?index=360", 400, "out of range; it must be from 0 to 359"),
        ("/api/sample?index=-1", 400, "out of range"),
        ("/api/sample?index=seven", 400, "must be a whole number"),
        ("/api/sample?index=1.5", 400, "must be a whole number"),
        ("/api/sample", 400, "missing parameter 'index'"),
        ("/api/sample?index=1&index=2", 400, "given twice"),
        ("/api/sample?index=1&file=/etc/passwd", 400, "unknown parameter 'file'"),
        ("/api/decode?x=nan&y=0", 400, "out of range"),
        ("/api/decode?x=inf&y=0", 400, "out of range"),
        ("/api/decode?x=1e300&y=0", 400, "out of range"),
        ("/api/decode?x=0&y=", 400, "must be a number"),
        ("/api/grid?n=100000&extent=3", 400, "n 100000 is out of range; it must be from 2 to 30"),
        ("/api/grid?n=5&extent=-1", 400, "out of range"),
        ("/api/generate?n=1000000&seed=0", 400, "out of range"),
        ("/api/interpolate?a=0&b=1&steps=99999", 400, "out of range"),
        ("/api/denoise?index=0&kind=lasers&level=0.5", 400, "kind must be one of gaussian"),
        ("/api/denoise?index=0&kind=masking&level=1.5", 400, "out of range"),
        ("/api/anomalies?offset=0&count=0", 400, "out of range"),
        ("/api/" + "a" * 2000, 404, "no such page"),
        ("/api/sample?" + "&".join(f"p{i}=1" for i in range(50)), 400, "too many query parameters"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_message_and_the_server_keeps_working(vae, path, status, message):
    code, headers, body = get(vae, path)
    assert code == status and headers["Content-Type"] == "application/json"
    assert message in json.loads(body)["error"]
    assert get_json(vae, "/api/sample?index=0")["index"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/explore.js/../session.py",
        "/static/explore.js",
        "/settings.json",
        "/model.keras",
        "//etc/passwd",
        "/api/../server.py",
        "/index.html%00.js",
        "/plots/loss.png",
    ],
)
def test_no_file_path_reaches_the_disk(vae, path):
    status, _, body = get(vae, path)
    assert status == 404 and json.loads(body) == {"error": "no such page; the explorer lives at /"}


def test_other_methods_and_foreign_hosts_are_refused(vae):
    assert get(vae, "/api/overview", method="POST")[0] == 405
    assert get(vae, "/", method="DELETE")[0] == 405
    status, _, body = get(vae, "/api/overview", host="attacker.example:80")  # DNS rebinding
    assert status == 403 and "answers only to http://127.0.0.1" in json.loads(body)["error"]
    assert get(vae, "/api/overview", host=f"localhost:{vae.port}")[0] == 200


def test_a_taken_port_is_refused_in_one_line(vae):
    with pytest.raises(ExploreError, match=f"^port {vae.port} is in use; choose another --port"):
        Explorer(vae.session, port=vae.port)
    with pytest.raises(ExploreError, match="port must be a whole number from 1 to 65535"):
        Explorer(vae.session, port=70000)


def test_stop_frees_the_port(vae):
    explorer = Explorer(vae.session)
    assert get(explorer, "/api/sample?index=1")[0] == 200
    explorer.stop()
    explorer.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", explorer.port), timeout=2)


def test_blocking_explore_prints_its_address_and_stops_on_ctrl_c(vae, capsys, monkeypatch):
    with socket.socket() as probe:  # a port that is free now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    # Ctrl-C is pressed once the main thread is inside explore (it has begun Explorer.wait) and the
    # page answers: states, not a time. A press before explore is entered would reach pytest itself.
    waiting = threading.Event()
    original_wait = Explorer.wait

    def wait_and_signal(self):
        waiting.set()
        return original_wait(self)

    monkeypatch.setattr(Explorer, "wait", wait_and_signal)

    def press_ctrl_c_once_serving():
        try:  # the page answering shows the server thread serves; the test's assertions judge the rest
            waiting.wait(timeout=120)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
        finally:
            _thread.interrupt_main()  # wherever the main thread is inside explore, the server stops

    threading.Thread(target=press_ctrl_c_once_serving, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):  # an interrupted call says so, as any Python call does
        aekit.explore(vae.session.estimator, vae.session.x, port=port, open_browser=False, block=True)
    assert capsys.readouterr().out.splitlines() == [
        f"aekit explore: http://127.0.0.1:{port}/  (Ctrl-C stops it)",
        "aekit explore: stopped",
    ]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


@pytest.mark.parametrize("moment", ["loading the run", "opening the browser", "serving", "stopping"])
def test_aekit_explore_ends_with_status_130_wherever_ctrl_c_lands(vae_run, moment, capsys, monkeypatch):
    """Ctrl-C is raised exactly where the name says (no timing): the status is 130 each time, the port freed."""
    from aekit.explorer import server

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    started = []
    original_init = Explorer.__init__

    def remember(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(Explorer, "__init__", remember)
    if moment == "loading the run":
        monkeypatch.setattr(server, "_run_inputs", ctrl_c)
    elif moment == "opening the browser":
        monkeypatch.setattr(server.webbrowser, "open", ctrl_c)
    else:  # Ctrl-C in wait's loop; "stopping": a second one while the server shuts down
        monkeypatch.setattr(server, "time", types.SimpleNamespace(sleep=ctrl_c))
        if moment == "stopping":
            shutdown = server._Server.shutdown

            def shutdown_then_ctrl_c(self):
                shutdown(self)
                raise KeyboardInterrupt

            monkeypatch.setattr(server._Server, "shutdown", shutdown_then_ctrl_c)
    argv = ["explore", str(vae_run)] + ([] if moment == "opening the browser" else ["--no-browser"])
    assert cli.main(argv) == 130
    out, err = capsys.readouterr()
    assert err.strip().splitlines()[-1] == "aekit: interrupted"
    assert len(started) == (0 if moment == "loading the run" else 1)
    for explorer in started:
        assert out.splitlines()[-1] == "aekit explore: stopped"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", explorer.port), timeout=2)


def test_a_run_still_training_is_refused(vae_run, tmp_path):
    folder = tmp_path / "running"
    shutil.copytree(vae_run, folder)
    settings = json.loads((folder / "settings.json").read_text())
    (folder / "settings.json").write_text(json.dumps({**settings, "status": "running"}))
    with pytest.raises(ExploreError) as caught:
        explore_run(folder, open_browser=False, block=False)
    assert str(caught.value) == f"{folder}: still training; wait for it to finish or stop it (Ctrl-C), then explore it"


def test_a_model_file_not_made_by_aekit_is_refused(vae_run, tmp_path):
    import keras

    from aekit.errors import DataError, ModelFileError

    folder = tmp_path / "foreign"
    shutil.copytree(vae_run, folder)
    keras.Sequential([keras.Input((64,)), keras.layers.Dense(2)]).save(folder / "model.keras")
    with pytest.raises(ModelFileError, match="a Keras file not written by aekit"):
        explore_run(folder, open_browser=False, block=False)
    with pytest.raises(DataError, match="samples have shape \\(3,\\), but the model expects \\(8, 8, 1\\)"):
        explore(vae_run / "model.keras", np.zeros((4, 3)), open_browser=False, block=False)


def test_only_fitted_aekit_models_are_explored(digits):
    with pytest.raises(
        ExploreError, match="^cannot explore a list; pass a fitted aekit autoencoder or its .keras file$"
    ):
        explore([1, 2], digits, open_browser=False, block=False)
    with pytest.raises(ExploreError, match="^this DenseAutoencoder is not fitted yet; call fit"):
        explore(aekit.DenseAutoencoder(), digits, open_browser=False, block=False)


# ---------------------------------------------------------------- the page in a real browser


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not shutil.which(path):
            pytest.skip(
                f"no {path}: install Debian's {package} (apt-get install chromium chromium-driver) "
                "to run the browser tests"
            )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="aekit-chromium-")
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=Service(CHROMEDRIVER), options=options
    )  # an explicit driver: Selenium Manager stays off
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def load_page(driver, explorer):
    """Open the explorer's page (with an empty console log) and wait until every panel has its first images."""
    driver.get_log("browser")
    driver.get(explorer.url)
    wait_for(driver, lambda: driver.execute_script("return document.body.dataset.ready") == "true", timeout=30)
    return driver


def open_page(driver, explorer):
    load_page(driver, explorer)
    driver.get_log("browser")  # start with an empty console log
    return driver


def wait_for(driver, condition, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition())


def src(driver, element_id):
    return driver.find_element("id", element_id).get_attribute("src")


def on_map(driver, x, y):
    """An action chain at canvas pixel ``(x, y)`` of the map (Selenium offsets count from the centre)."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element("id", "map")
    return ActionChains(driver).move_to_element_with_offset(
        canvas, round(x - canvas.size["width"] / 2), round(y - canvas.size["height"] / 2)
    )


def empty_spots(driver, clearance=20):
    """Map pixels at least ``clearance`` pixels from every sample, farthest apart first and last."""
    positions = np.array(driver.execute_script("return window.aekitExplorer.samplePositions()"))
    canvas = driver.find_element("id", "map")
    grid = np.stack(
        np.meshgrid(np.arange(10, canvas.size["width"] - 10, 15), np.arange(10, canvas.size["height"] - 10, 15)), -1
    ).reshape(-1, 2)
    distances = np.linalg.norm(grid[:, None, :] - positions[None, :, :], axis=-1).min(axis=1)
    spots = grid[distances >= clearance]
    assert len(spots) >= 2
    return spots[np.argsort(spots.sum(axis=1))]


def test_page_loads_with_every_panel_and_no_console_error(browser, vae):
    driver = load_page(browser, vae)
    assert (
        driver.find_element("id", "title").text == f"vae autoencoder on digits · {vae.session.title.split(' · ')[-1]}"
    )
    assert len(driver.find_elements("css selector", "#legend span")) == 10
    assert driver.find_element("id", "generation-card").is_displayed()
    assert src(driver, "generated").startswith("data:image/png") and src(driver, "grid").startswith("data:image/png")
    assert len(driver.find_elements("css selector", "#anomaly-list .anomaly")) == 12
    assert "of 360 samples" in driver.find_element("id", "threshold-caption").text
    assert len(driver.find_elements("css selector", "#metrics tr")) > 3
    assert driver.find_element("id", "status").text == ""
    assert [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_clicking_two_empty_spots_decodes_two_different_images(browser, vae):
    driver = open_page(browser, vae)
    spots = empty_spots(driver)
    decoded = []
    for x, y in (spots[0], spots[-1]):
        before = src(driver, "decoded-image")
        on_map(driver, x, y).click().perform()
        wait_for(driver, lambda before=before: src(driver, "decoded-image") not in (None, before))
        decoded.append(src(driver, "decoded-image"))
    assert decoded[0] != decoded[1]
    assert driver.find_element("id", "decoded-caption").text.startswith("decoded at (")


def test_hovering_a_sample_shows_its_reconstruction(browser, vae):
    driver = open_page(browser, vae)
    positions = np.array(driver.execute_script("return window.aekitExplorer.samplePositions()"))
    gaps = np.linalg.norm(positions[:, None] - positions[None], axis=-1) + np.eye(len(positions)) * 1e9
    index = int(np.argmax(gaps.min(axis=1)))  # the most isolated sample: nothing else under the pointer
    on_map(driver, *positions[index]).perform()
    wait_for(driver, lambda: driver.find_element("id", "sample-caption").text.startswith(f"#{index} "))
    expected = get_json(vae, f"/api/sample?index={index}")
    assert src(driver, "sample-reconstruction") == expected["reconstruction"]
    assert src(driver, "sample-original") == expected["original"]


def test_picking_two_samples_and_moving_the_slider_changes_the_image(browser, vae):
    from selenium.webdriver.common.keys import Keys

    driver = open_page(browser, vae)
    positions = np.array(driver.execute_script("return window.aekitExplorer.samplePositions()"))
    start, end = int(np.argmin(positions[:, 0])), int(np.argmax(positions[:, 0]))  # the leftmost and rightmost samples
    on_map(driver, *positions[start]).click().perform()
    on_map(driver, *positions[end]).key_down(Keys.SHIFT).click().key_up(Keys.SHIFT).perform()
    caption = driver.find_element("id", "interp-caption")
    wait_for(driver, lambda: caption.text.endswith(f"from #{start} to #{end}"))
    first = src(driver, "interp-image")
    driver.find_element("id", "interp-step").send_keys(Keys.END)
    wait_for(driver, lambda: caption.text.startswith("step 10 of 10"))
    assert src(driver, "interp-image") != first


def test_a_bad_request_from_the_page_gets_a_4xx_and_the_page_keeps_working(browser, vae):
    from selenium.webdriver.common.keys import Keys

    driver = open_page(browser, vae)
    field = driver.find_element("id", "interp-a")
    field.clear()
    field.send_keys("99999", Keys.ENTER)
    status = driver.find_element("id", "status")
    wait_for(driver, lambda: status.text.startswith("400: a 99999 is out of range"))
    assert any("400" in entry["message"] for entry in driver.get_log("browser"))

    spots = empty_spots(driver)
    before = src(driver, "decoded-image")
    on_map(driver, *spots[len(spots) // 2]).click().perform()
    wait_for(driver, lambda: src(driver, "decoded-image") not in (None, before))
    assert status.text == ""
    field.clear()
    field.send_keys("4", Keys.ENTER)
    wait_for(driver, lambda: driver.find_element("id", "interp-caption").text.endswith("from #4 to #1"))


def test_a_pca_map_of_a_denoiser_in_the_browser(browser, conv_denoiser):
    driver = load_page(browser, conv_denoiser)
    assert "64-D codes on their first two principal components" in driver.find_element("id", "map-caption").text
    assert "trained on masking noise" in driver.find_element("id", "denoise-note").text
    assert not driver.find_element("id", "generation-card").is_displayed()
    assert src(driver, "denoise-output").startswith("data:image/png")
    assert [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"] == []
