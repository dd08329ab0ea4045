// /chat: picker, verified downloads, streaming answers with Stop, inline apps, the
// keyword router and scripted mode. Model output is only ever inserted as text.
import * as msg from "./protocol.js";
import { renderApp, appData, KNOWN_APPS } from "./apps.js";
import { route } from "./router.js";
import { scriptedAnswer } from "./scripted.js";
import { renderPicker, selectedModelId } from "./picker.js";
import { removeCached } from "./downloads.js";
import { setupVoice } from "./voice.js";

const $ = (id) => document.getElementById(id);
const root = document.body.dataset.root;
const site = JSON.parse($("site-data").textContent);
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
window.__tabtwinWorker = worker;  // for `tabtwin bench` (voice timing); the page never relies on it

let models = [];
let loaded = null;        // the model entry running in the worker
let turn = null;          // {question, answer, text, tool}
let download = null;      // {startedAt, lastLoaded}
const appsData = {};      // app -> items, for the router's parameter words

function setBusy(busy) {
  document.body.dataset.busy = String(busy);
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  $("load").disabled = busy;
}

function status(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

function addNode(className, text = "") {
  const node = document.createElement("div");
  node.className = className;
  node.textContent = text;
  $("conversation").append(node);
  node.scrollIntoView({ block: "end" });
  return node;
}

async function openApp(tool, source) {
  const card = await renderApp(root, tool, source);
  turn.answer.after(card);
  return card;
}

async function finishTurn(reason) {
  const t = turn;
  t.answer.dataset.done = reason;
  if (!t.tool) {
    // The model opened nothing: the router may open what the question plainly asks for.
    const routed = route(t.question, appsData);
    if (routed) await openApp(routed, "router");
  }
  if ($("speak").checked && "speechSynthesis" in window && t.text.trim()) {
    speechSynthesis.speak(new SpeechSynthesisUtterance(t.text));
  }
  setBusy(false);
  $("prompt").focus();
}

const onMessage = {
  [msg.PROGRESS]: ({ phase, loaded: bytes, total, warning }) => {
    $("download").hidden = false;
    $("progress").value = total ? bytes / total : 0;
    const now = performance.now();
    const seconds = Math.max((now - download.startedAt) / 1000, 0.001);
    const speed = phase === "download" ? ` · ${(bytes / 1e6 / seconds).toFixed(1)} MB/s` : "";
    const pct = total ? ` (${Math.floor((100 * bytes) / total)}%)` : "";
    $("progress-text").textContent = `${phase}: ${(bytes / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB${pct}${speed}`;
    if (warning) status(warning, "warning");
  },
  [msg.READY]: async ({ info, simd128, cached }) => {
    loaded = models.find((m) => m.id === download.modelId);
    document.body.dataset.simd128 = String(simd128);
    document.body.dataset.ready = "true";
    document.body.dataset.model = loaded.id;
    delete document.body.dataset.error;
    $("download").hidden = true;
    status(`${loaded.label} is running on this device${cached ? " (loaded from this device, no download)" : ""}.`);
    await renderPicker($("models"), models, loaded.id);
    setBusy(false);
  },
  [msg.TOKEN]: ({ text }) => {
    turn.text += text;
    turn.answer.textContent = turn.text;
  },
  [msg.THINKING]: ({ text }) => {
    if (!turn.thinking) {
      const details = document.createElement("details");
      details.className = "thinking";
      const summary = document.createElement("summary");
      summary.textContent = "thinking…";
      turn.thinking = document.createElement("div");
      details.append(summary, turn.thinking);
      turn.answer.before(details);
    }
    turn.thinking.textContent += text;
  },
  [msg.TOOL]: async (tool) => {
    if (!KNOWN_APPS.includes(tool.app)) return;
    turn.tool = tool;
    await openApp(tool, "model");
  },
  [msg.DONE]: async (done) => {
    window.__tabtwinLastDone = done;  // read by the benchmark
    const rate = done.decode_tok_s ? ` · ${done.decode_tok_s.toFixed(1)} tok/s` : "";
    $("stats").textContent = `${done.tokens} tokens${rate}`;
    await finishTurn(done.reason);
  },
  [msg.ERROR]: ({ message, during }) => {
    if (during === msg.LOAD_VOICE || during === msg.TRANSCRIBE) return;  // voice.js reports those
    document.body.dataset.error = message;
    status(`Error: ${message}`, "error");
    if (during === msg.LOAD) {
      $("download").hidden = true;
      $("retry").hidden = false;
    }
    if (turn && !turn.answer.dataset.done) turn.answer.dataset.done = "error";
    setBusy(false);
  },
};
worker.onmessage = ({ data }) => onMessage[data.type]?.(data);

function wasmUrls() {
  return {
    js: new URL(document.body.dataset.wasm, location.href).href,
    bin: new URL(document.body.dataset.wasmBin, location.href).href,
  };
}

function startLoad() {
  const model = models.find((m) => m.id === selectedModelId($("models")));
  if (!model) return;
  $("retry").hidden = true;
  delete document.body.dataset.ready;
  download = { modelId: model.id, startedAt: performance.now() };
  status(`Preparing ${model.label}…`);
  setBusy(true);
  worker.postMessage({ type: msg.LOAD, model, wasm: wasmUrls() });
}

async function ask(question) {
  addNode("turn user", question);
  turn = { question, answer: null, text: "", tool: null, thinking: null };
  if (!loaded) {
    const { text, tool } = scriptedAnswer(question, site, appsData);
    turn.answer = addNode("turn assistant scripted", text);
    turn.text = text;
    turn.tool = tool;
    const note = addNode("scripted-note", "Scripted answer — start a model above for the real twin.");
    turn.answer.after(note);
    if (tool) await openApp(tool, "scripted");
    turn.answer.dataset.done = "scripted";
    return;
  }
  turn.answer = addNode("turn assistant");
  setBusy(true);
  worker.postMessage({ type: msg.GENERATE, prompt: question, options: loaded.sampling || {} });
}

async function init() {
  const registryUrl = new URL(`${root}models.json`, location.href);
  const registry = await (await fetch(registryUrl)).json();
  // Shard URLs are relative to models.json; the worker needs absolute ones.
  models = registry.models.map((m) => ({
    ...m,
    cache_key: new URL(m.cache_key, location.origin).href,
    shards: m.shards.map((s) => ({ ...s, url: new URL(s.url, registryUrl).href })),
  }));
  const wanted = new URLSearchParams(location.search).get("model");
  const initial = models.find((m) => m.id === wanted) || models.find((m) => m.default) || models[0];
  await renderPicker($("models"), models, initial?.id);
  window.__tabtwinVoice = registry.voice && {
    ...registry.voice,
    cache_key: new URL(registry.voice.cache_key, location.origin).href,
    shards: registry.voice.shards.map((s) => ({ ...s, url: new URL(s.url, registryUrl).href })),
  };
  window.__tabtwinWasm = wasmUrls();
  setupVoice({
    worker,
    voice: registry.voice && {
      ...registry.voice,
      cache_key: new URL(registry.voice.cache_key, location.origin).href,
      shards: registry.voice.shards.map((s) => ({ ...s, url: new URL(s.url, registryUrl).href })),
    },
    wasm: wasmUrls(),
    button: $("talk"),
    meter: $("level"),
    input: $("prompt"),
    status: $("voice-status"),
    onTranscript: (text) => {
      $("prompt").value = text;
      if ($("send-transcript").checked) $("ask").requestSubmit();
      else $("prompt").focus();
    },
  });
  await Promise.all(KNOWN_APPS.map(async (app) => {
    appsData[app] = await appData(root, app).catch(() => []);
  }));
  document.body.dataset.initialized = "true";
}

$("load").addEventListener("click", startLoad);
$("retry").addEventListener("click", startLoad);
$("remove").addEventListener("click", async () => {
  const model = models.find((m) => m.id === selectedModelId($("models")));
  if (!model) return;
  await removeCached(model);
  status(`${model.label} was removed from this device.`);
  await renderPicker($("models"), models, model.id);
});
$("ask").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("prompt").value.trim();
  if (!question || document.body.dataset.busy === "true") return;
  $("prompt").value = "";
  ask(question);
});
$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("ask").requestSubmit();
  }
});
$("stop").addEventListener("click", () => worker.postMessage({ type: msg.STOP }));
$("new-chat").addEventListener("click", () => {
  if (document.body.dataset.busy === "true") worker.postMessage({ type: msg.STOP });
  if (loaded) worker.postMessage({ type: msg.RESET });
  $("conversation").replaceChildren();
  $("stats").textContent = "";
});

init();
