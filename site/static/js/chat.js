// /chat: pick a model, load it in the worker, stream answers, stop on demand.
// Model output is only ever inserted as text (textContent), never as HTML.
import * as msg from "./protocol.js";

const $ = (id) => document.getElementById(id);
const root = document.body.dataset.root;
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let models = [];
let answerNode = null;

function setBusy(busy) {
  $("send").disabled = busy;
  $("prompt").disabled = busy;
  $("stop").disabled = !busy;
}

function addTurn(role, text) {
  const node = document.createElement("div");
  node.className = `turn ${role}`;
  node.textContent = text;
  $("conversation").append(node);
  return node;
}

const onMessage = {
  [msg.PROGRESS]: ({ phase, loaded, total }) => {
    $("progress").hidden = false;
    $("progress").value = total ? loaded / total : 0;
    $("status").textContent = `${phase}: ${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`;
  },
  [msg.READY]: ({ info, simd128, cached }) => {
    document.body.dataset.simd128 = String(simd128);
    document.body.dataset.ready = "true";
    $("progress").hidden = true;
    $("status").textContent = `${info.name || info.architecture} ready${cached ? " (from this device)" : ""}`;
    $("prompt").disabled = false;
    $("send").disabled = false;
    $("prompt").focus();
  },
  [msg.TOKEN]: ({ text }) => {
    answerNode.textContent += text;
  },
  [msg.THINKING]: ({ text }) => {
    let details = answerNode.previousElementSibling;
    if (!details || details.tagName !== "DETAILS") {
      details = document.createElement("details");
      details.className = "thinking";
      const summary = document.createElement("summary");
      summary.textContent = "thinking…";
      details.append(summary, document.createElement("div"));
      answerNode.before(details);
    }
    details.lastElementChild.textContent += text;
  },
  [msg.TOOL]: ({ app, params }) => {
    const card = document.createElement("div");
    card.className = "app-card";
    card.dataset.app = app;
    card.dataset.params = JSON.stringify(params);
    card.textContent = `${app}`;
    answerNode.after(card);
  },
  [msg.DONE]: (done) => {
    answerNode.dataset.done = done.reason;
    window.__tabtwinLastDone = done;  // read by the benchmark
    const rate = done.decode_tok_s ? `${done.decode_tok_s.toFixed(1)} tok/s` : "";
    $("stats").textContent = `${done.tokens} tokens ${rate}`;
    setBusy(false);
  },
  [msg.ERROR]: ({ message }) => {
    $("status").textContent = `Error: ${message}`;
    document.body.dataset.error = message;
    setBusy(false);
  },
};
worker.onmessage = ({ data }) => onMessage[data.type]?.(data);

async function init() {
  const registryUrl = new URL(`${root}models.json`, location.href);
  const registry = await (await fetch(registryUrl)).json();
  // Shard URLs are relative to models.json; the worker needs absolute ones.
  models = registry.models.map((m) => ({
    ...m,
    cache_key: new URL(m.cache_key, location.origin).href,
    shards: m.shards.map((s) => ({ ...s, url: new URL(s.url, registryUrl).href })),
  }));
  for (const model of models) {
    const option = document.createElement("option");
    option.value = model.id;
    option.textContent = `${model.label} (${(model.bytes / 1e6).toFixed(0)} MB)`;
    option.selected = model.default;
    $("model").append(option);
  }
  const wanted = new URLSearchParams(location.search).get("model");
  if (wanted) $("model").value = wanted;
}

$("load").addEventListener("click", () => {
  const model = models.find((m) => m.id === $("model").value);
  const wasm = {
    js: new URL(document.body.dataset.wasm, location.href).href,
    bin: new URL(document.body.dataset.wasmBin, location.href).href,
  };
  worker.postMessage({ type: msg.LOAD, model, wasm });
});

$("ask").addEventListener("submit", (event) => {
  event.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt) return;
  addTurn("user", prompt);
  answerNode = addTurn("assistant", "");
  $("prompt").value = "";
  setBusy(true);
  const model = models.find((m) => m.id === $("model").value);
  worker.postMessage({ type: msg.GENERATE, prompt, options: model?.sampling || {} });
});

$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("ask").requestSubmit();
  }
});

$("stop").addEventListener("click", () => worker.postMessage({ type: msg.STOP }));

init();
