// aekit explore: the page's behaviour. Plain browser JavaScript, no libraries; it talks only to
// the server that sent it (/api/...), which computes every image with the model.
"use strict";

const $ = (id) => document.getElementById(id);
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const HOVER_RADIUS = 6; // CSS pixels within which the pointer is on a sample
const MAP_MARGIN = 0.06; // share of the samples' range left empty around them on the map
const INTERP_STEPS = 11;
const ANOMALY_PAGE = 12;

const state = {
  overview: null,
  view: null, // the map's data range {x0, x1, y0, y1}
  pixels: null, // each sample's position on the map canvas, in CSS pixels: x0, y0, x1, y1, ...
  pointLayer: null, // the samples drawn once, copied under the overlays on each redraw
  hovered: -1,
  a: 0,
  b: 1,
  decoded: null, // [x, y] of the last decoded map point
  interpolation: [], // the decoded steps, as PNG data URLs
  noiseSeed: 0,
  threshold: 0,
  sortedErrors: [],
  anomaliesShown: 0,
};
const sampleCache = new Map();

class RequestError extends Error {}

/** GET /api/<name>?params; a 4xx answer shows its message in the status line and throws. */
async function api(name, params = {}) {
  const response = await fetch(`/api/${name}?${new URLSearchParams(params)}`);
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) {
    showStatus(`${response.status}: ${body.error}`, true);
    throw new RequestError(body.error);
  }
  return body;
}

function showStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

/** An event handler that clears the last message, and reports failures instead of throwing. */
function action(handler) {
  return (...args) => {
    showStatus("");
    Promise.resolve(handler(...args)).catch(report);
  };
}

function report(error) {
  if (!(error instanceof RequestError)) showStatus(`error: ${error.message}`, true);
}

/** ``run`` coalesced: calls made while one is in flight collapse into a single call after it. */
function latestOnly(run) {
  let busy = false;
  let again = false;
  const go = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        await run();
      } while (again);
    } finally {
      busy = false;
    }
  };
  return action(go);
}

const fmt = (value) => (typeof value === "number" ? Number(value.toPrecision(4)).toString() : String(value));

function colourOf(i) {
  const { classes, label_index: labels } = state.overview;
  if (!labels) return PALETTE[0];
  return classes.length <= PALETTE.length ? PALETTE[labels[i]] : `hsl(${(labels[i] * 360) / classes.length}, 65%, 45%)`;
}

// ---------------------------------------------------------------- the latent map

function setUpMap() {
  const canvas = $("map");
  const width = canvas.width;
  const height = canvas.height;
  const ratio = window.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
  state.size = { width, height, ratio };

  const points = state.overview.map.points;
  const range = (k) => {
    let low = Math.min(...points.map((p) => p[k]));
    let high = Math.max(...points.map((p) => p[k]));
    if (high <= low) [low, high] = [low - 0.5, high + 0.5];
    const pad = (high - low) * MAP_MARGIN;
    return [low - pad, high + pad];
  };
  const [x0, x1] = range(0);
  const [y0, y1] = range(1);
  state.view = { x0, x1, y0, y1 };
  state.pixels = new Float32Array(points.length * 2);
  points.forEach((p, i) => {
    const [px, py] = toPixel(p);
    state.pixels[2 * i] = px;
    state.pixels[2 * i + 1] = py;
  });

  canvas.addEventListener("mousemove", onMapHover);
  canvas.addEventListener("click", action(onMapClick));
  drawPointLayer();
}

function toPixel([x, y]) {
  const { x0, x1, y0, y1 } = state.view;
  return [((x - x0) / (x1 - x0)) * state.size.width, ((y1 - y) / (y1 - y0)) * state.size.height];
}

function toData(px, py) {
  const { x0, x1, y0, y1 } = state.view;
  return [x0 + (px / state.size.width) * (x1 - x0), y1 - (py / state.size.height) * (y1 - y0)];
}

function pointerOf(event) {
  const box = $("map").getBoundingClientRect();
  return [event.clientX - box.left, event.clientY - box.top];
}

function nearestSample(px, py) {
  let best = -1;
  let bestDistance = HOVER_RADIUS * HOVER_RADIUS;
  for (let i = 0; i < state.pixels.length / 2; i++) {
    const dx = state.pixels[2 * i] - px;
    const dy = state.pixels[2 * i + 1] - py;
    const distance = dx * dx + dy * dy;
    if (distance <= bestDistance) [best, bestDistance] = [i, distance];
  }
  return best;
}

/** The samples, coloured by label and ringed when above the anomaly threshold, drawn off screen once. */
function drawPointLayer() {
  const { width, height, ratio } = state.size;
  const layer = document.createElement("canvas");
  layer.width = width * ratio;
  layer.height = height * ratio;
  const ctx = layer.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const errors = state.overview.errors;
  for (let i = 0; i < errors.length; i++) {
    const x = state.pixels[2 * i];
    const y = state.pixels[2 * i + 1];
    ctx.beginPath();
    ctx.arc(x, y, 3, 0, 2 * Math.PI);
    ctx.fillStyle = colourOf(i);
    ctx.globalAlpha = 0.75;
    ctx.fill();
    if (errors[i] > state.threshold) {
      ctx.globalAlpha = 1;
      ctx.strokeStyle = "#b00020";
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      ctx.arc(x, y, 5, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
  state.pointLayer = layer;
  drawMap();
}

function drawMap() {
  const { width, height } = state.size;
  const ctx = $("map").getContext("2d");
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  const [zeroX, zeroY] = toPixel([0, 0]);
  ctx.strokeStyle = "#e4e4e4";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(zeroX, 0);
  ctx.lineTo(zeroX, height);
  ctx.moveTo(0, zeroY);
  ctx.lineTo(width, zeroY);
  ctx.stroke();
  ctx.drawImage(state.pointLayer, 0, 0, width, height);

  const at = (i) => [state.pixels[2 * i], state.pixels[2 * i + 1]];
  ctx.strokeStyle = "#222";
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(...at(state.a));
  ctx.lineTo(...at(state.b));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.font = "bold 12px system-ui, sans-serif";
  ctx.fillStyle = "#222";
  for (const [i, name] of [[state.a, "A"], [state.b, "B"]]) {
    const [x, y] = at(i);
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(x, y, 7, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.fillText(name, x + 9, y - 7);
  }
  if (state.hovered >= 0) {
    const [x, y] = at(state.hovered);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#000";
    ctx.beginPath();
    ctx.arc(x, y, 6, 0, 2 * Math.PI);
    ctx.stroke();
  }
  if (state.decoded) {
    const [x, y] = toPixel(state.decoded);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x - 7, y);
    ctx.lineTo(x + 7, y);
    ctx.moveTo(x, y - 7);
    ctx.lineTo(x, y + 7);
    ctx.stroke();
  }
  const { kind, explained_variance: explained } = state.overview.map;
  const names = kind === "pca" ? explained.map((r, k) => `PC ${k + 1} (${Math.round(r * 100)}% of variance)`) : ["z[0]", kind === "latent" ? "z[1]" : ""];
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#666";
  ctx.fillText(names[0], width - ctx.measureText(names[0]).width - 6, height - 6);
  ctx.save();
  ctx.translate(12, 6 + ctx.measureText(names[1]).width);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(names[1], 0, 0);
  ctx.restore();
}

function onMapHover(event) {
  const i = nearestSample(...pointerOf(event));
  $("map").style.cursor = i >= 0 ? "pointer" : "crosshair";
  if (i < 0 || i === state.hovered) return;
  state.hovered = i;
  drawMap();
  fetchSample(i)
    .then((sample) => state.hovered === i && showSample(i, sample)) // unless the pointer has moved on
    .catch(report);
}

async function onMapClick(event) {
  const [px, py] = pointerOf(event);
  const i = nearestSample(px, py);
  if (i >= 0) {
    await (event.shiftKey ? setEnds(state.a, i) : setEnds(i, state.b));
    return;
  }
  const [x, y] = toData(px, py);
  const answer = await api("decode", { x: x.toFixed(5), y: y.toFixed(5) });
  state.decoded = [answer.x, answer.y];
  $("decoded-image").src = answer.image;
  $("decoded-caption").textContent = `decoded at (${fmt(answer.x)}, ${fmt(answer.y)})`;
  drawMap();
}

async function fetchSample(i) {
  if (!sampleCache.has(i)) sampleCache.set(i, await api("sample", { index: i }));
  return sampleCache.get(i);
}

function showSample(i, sample) {
  $("sample-original").src = sample.original;
  $("sample-reconstruction").src = sample.reconstruction;
  const label = sample.label === null ? "" : ` · label ${sample.label}`;
  $("sample-caption").textContent = `#${i}${label} · error ${fmt(sample.error)} (original, reconstruction)`;
}

function drawLegend() {
  const { classes } = state.overview;
  const legend = $("legend");
  legend.replaceChildren();
  if (!classes) return;
  classes.forEach((name, k) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = classes.length <= PALETTE.length ? PALETTE[k] : `hsl(${(k * 360) / classes.length}, 65%, 45%)`;
    item.append(swatch, name);
    legend.append(item);
  });
}

// ---------------------------------------------------------------- interpolation

async function setEnds(a, b) {
  $("interp-a").value = a;
  $("interp-b").value = b;
  $("denoise-index").value = a;
  await Promise.all([loadInterpolation(), loadDenoising()]);
}

async function loadInterpolation() {
  const answer = await api("interpolate", { a: $("interp-a").value, b: $("interp-b").value, steps: INTERP_STEPS });
  Object.assign(state, { a: answer.a, b: answer.b, interpolation: answer.images });
  const strip = $("interp-strip");
  strip.replaceChildren(
    ...answer.images.map((src, k) => {
      const image = new Image();
      image.src = src;
      image.className = "pixels small";
      image.alt = `step ${k}`;
      image.addEventListener("click", () => {
        $("interp-step").value = k;
        showStep();
      });
      return image;
    }),
  );
  showStep();
  drawMap();
}

function showStep() {
  const step = Number($("interp-step").value);
  $("interp-image").src = state.interpolation[step];
  [...$("interp-strip").children].forEach((image, k) => image.classList.toggle("current", k === step));
  $("interp-caption").textContent = `step ${step} of ${INTERP_STEPS - 1}: ${Math.round((100 * step) / (INTERP_STEPS - 1))}% of the way from #${state.a} to #${state.b}`;
}

// ---------------------------------------------------------------- denoising

function setUpDenoising() {
  const { noise, uses, family } = state.overview;
  const menu = $("denoise-kind");
  for (const kind of Object.keys(noise.kinds)) menu.add(new Option(kind.replaceAll("_", " "), kind, false, kind === noise.default_kind));
  setLevelRange(noise.default_level);
  $("denoise-note").textContent = uses.denoise
    ? `Noise on a sample and what the model makes of it. It was trained on ${noise.default_kind.replaceAll("_", " ")} noise of level ${fmt(noise.default_level)}.`
    : `This ${family} model was not trained to denoise: its output on noisy input is shown as a comparison.`;
  menu.addEventListener("change", () => setLevelRange($("denoise-level").value));
  const reload = latestOnly(loadDenoising);
  for (const id of ["denoise-index", "denoise-kind", "denoise-level"]) $(id).addEventListener(id === "denoise-level" ? "input" : "change", reload);
  $("denoise-reseed").addEventListener("click", () => {
    state.noiseSeed += 1;
    reload();
  });
}

function setLevelRange(level) {
  const slider = $("denoise-level");
  slider.max = state.overview.noise.kinds[$("denoise-kind").value];
  slider.value = Math.min(Number(level), Number(slider.max));
  $("denoise-level-value").textContent = fmt(Number(slider.value));
}

async function loadDenoising() {
  $("denoise-level-value").textContent = fmt(Number($("denoise-level").value));
  const answer = await api("denoise", {
    index: $("denoise-index").value,
    kind: $("denoise-kind").value,
    level: $("denoise-level").value,
    seed: state.noiseSeed,
  });
  $("denoise-original").src = answer.original;
  $("denoise-noisy").src = answer.noisy;
  $("denoise-output").src = answer.output;
  $("denoise-noisy-caption").textContent = `noisy input · error ${fmt(answer.error_noisy)}`;
  $("denoise-output-caption").textContent = `output · error ${fmt(answer.error_output)}`;
}

// ---------------------------------------------------------------- generation

function setUpGeneration() {
  if (!state.overview.uses.generate) return;
  $("generation-card").hidden = false;
  $("grid-size").max = state.overview.max_grid;
  $("generate").addEventListener("click", action(generate));
  for (const id of ["grid-size", "grid-extent"]) $(id).addEventListener("change", action(loadGrid));
  return Promise.all([generate(), loadGrid()]);
}

async function generate() {
  const answer = await api("generate", { n: 16, seed: Math.floor(Math.random() * 2 ** 31) });
  $("generated").src = answer.image;
}

async function loadGrid() {
  const answer = await api("grid", { n: $("grid-size").value, extent: $("grid-extent").value });
  $("grid").src = answer.image;
}

// ---------------------------------------------------------------- anomalies

function setUpThreshold() {
  state.sortedErrors = [...state.overview.errors].sort((p, q) => p - q);
  const slider = $("threshold");
  const { low, high } = errorRange();
  const ninetyFifth = state.sortedErrors[Math.floor(0.95 * (state.sortedErrors.length - 1))];
  slider.value = Math.round((1000 * (ninetyFifth - low)) / (high - low || 1));
  slider.addEventListener("input", () => {
    setThreshold();
    drawPointLayer();
  });
  setThreshold();
}

function errorRange() {
  return { low: state.sortedErrors[0], high: state.sortedErrors[state.sortedErrors.length - 1] };
}

function setThreshold() {
  const { low, high } = errorRange();
  state.threshold = low + ((high - low) * Number($("threshold").value)) / 1000;
  const above = state.sortedErrors.filter((e) => e > state.threshold).length;
  const share = (100 * above) / state.sortedErrors.length;
  $("threshold-caption").textContent = `${above} of ${state.sortedErrors.length} samples (${share.toFixed(1)}%) above ${fmt(state.threshold)}, ringed in red on the map`;
  drawErrorHistogram();
}

function drawErrorHistogram() {
  const canvas = $("errors");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const { low, high } = errorRange();
  const bins = new Array(40).fill(0);
  for (const e of state.sortedErrors) bins[Math.min(bins.length - 1, Math.floor(((e - low) / (high - low || 1)) * bins.length))] += 1;
  const tallest = Math.max(...bins);
  const barWidth = width / bins.length;
  ctx.clearRect(0, 0, width, height);
  bins.forEach((count, k) => {
    const start = low + ((high - low) * k) / bins.length;
    ctx.fillStyle = start >= state.threshold ? "#b00020" : "#7a9cc6";
    const barHeight = ((height - 12) * count) / tallest;
    ctx.fillRect(k * barWidth, height - barHeight, barWidth - 1, barHeight);
  });
  const x = ((state.threshold - low) / (high - low || 1)) * width;
  ctx.fillStyle = "#000";
  ctx.fillRect(Math.min(x, width - 2), 0, 2, height);
}

async function loadAnomalies() {
  const total = state.overview.samples;
  if (state.anomaliesShown >= total) return;
  const answer = await api("anomalies", { offset: state.anomaliesShown, count: ANOMALY_PAGE });
  for (const sample of answer.samples) {
    const card = document.createElement("figure");
    card.className = "anomaly";
    const original = Object.assign(new Image(), { src: sample.original, className: "pixels small", alt: "original" });
    const reconstruction = Object.assign(new Image(), { src: sample.reconstruction, className: "pixels small", alt: "reconstruction" });
    const caption = document.createElement("figcaption");
    caption.textContent = `#${sample.index} · ${fmt(sample.error)}`;
    card.append(original, reconstruction, caption);
    card.title = "click: start the interpolation and the denoising here";
    card.addEventListener("click", action(() => setEnds(sample.index, state.b)));
    $("anomaly-list").append(card);
  }
  state.anomaliesShown += answer.samples.length;
  $("anomaly-more").hidden = state.anomaliesShown >= total;
}

// ---------------------------------------------------------------- training

function drawHistory() {
  const history = state.overview.history || {};
  const canvas = $("history");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const keys = Object.keys(history).filter((k) => history[k].length);
  ctx.font = "11px system-ui, sans-serif";
  if (!keys.length) {
    ctx.fillText("no training history", 10, 20);
    return;
  }
  const values = keys.flatMap((k) => history[k]).filter(Number.isFinite);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const epochs = Math.max(...keys.map((k) => history[k].length));
  const box = { left: 44, right: width - 8, top: 8, bottom: height - 22 };
  const px = (epoch) => box.left + ((box.right - box.left) * epoch) / Math.max(epochs - 1, 1);
  const py = (v) => box.bottom - ((box.bottom - box.top) * (v - low)) / (high - low || 1);
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  ctx.fillStyle = "#666";
  ctx.fillText(fmt(high), 2, box.top + 8);
  ctx.fillText(fmt(low), 2, box.bottom);
  ctx.fillText(`epoch 1 … ${epochs}`, box.left, height - 6);
  keys.forEach((key, k) => {
    ctx.strokeStyle = PALETTE[k % PALETTE.length];
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    history[key].forEach((v, epoch) => (epoch ? ctx.lineTo(px(epoch), py(v)) : ctx.moveTo(px(epoch), py(v))));
    ctx.stroke();
    if (epochs === 1) ctx.fillRect(px(0) - 2, py(history[key][0]) - 2, 4, 4);
    ctx.fillText(key, box.right - 70, box.top + 12 + 12 * k);
  });
}

function fillMetrics() {
  const table = $("metrics");
  for (const [name, value] of Object.entries(state.overview.metrics || {})) {
    const row = table.insertRow();
    row.insertCell().textContent = name.replaceAll("_", " ");
    const cell = row.insertCell();
    cell.textContent = fmt(value);
    cell.className = "number";
  }
}

// ---------------------------------------------------------------- start

async function start() {
  state.overview = await api("overview");
  const { overview } = state;
  document.title = `aekit explore · ${overview.title}`;
  $("title").textContent = overview.title;
  $("subtitle").textContent = `${overview.samples} test samples · ${overview.code_size}-D code`;
  const { kind, explained_variance: explained } = overview.map;
  $("map-caption").textContent =
    kind === "pca"
      ? `The ${overview.code_size}-D codes on their first two principal components (${explained.map((r) => `${Math.round(r * 100)}%`).join(" + ")} of the variance). Hover a sample; click an empty spot to decode the code on this plane there.`
      : `The latent space itself: each point is a test sample's code${overview.classes ? ", coloured by label" : ""}. Hover a sample; click an empty spot to decode that point.`;
  for (const id of ["interp-a", "interp-b", "denoise-index"]) $(id).max = overview.samples - 1;
  $("interp-b").value = Math.min(1, overview.samples - 1);
  state.b = Number($("interp-b").value);

  drawLegend();
  setUpThreshold(); // before the map: the map rings the samples above the threshold
  setUpMap();
  setUpDenoising();
  drawHistory();
  fillMetrics();
  $("interp-step").addEventListener("input", showStep);
  for (const id of ["interp-a", "interp-b"]) $(id).addEventListener("change", action(loadInterpolation));
  $("anomaly-more").addEventListener("click", action(loadAnomalies));
  await Promise.all([loadAnomalies(), loadInterpolation(), loadDenoising(), setUpGeneration(), fetchSample(0).then((s) => showSample(0, s))]);
  document.body.dataset.ready = "true";
}

start().catch(report);

/** For scripts and tests: where each sample is drawn on the map canvas, in CSS pixels. */
window.aekitExplorer = {
  samplePositions: () => Array.from({ length: state.pixels.length / 2 }, (_, i) => [state.pixels[2 * i], state.pixels[2 * i + 1]]),
};
