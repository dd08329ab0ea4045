// /chat: picker, verified downloads, streaming answers with Stop, inline apps, the
// keyword router and scripted mode. Model output is only ever inserted as text (answers as Markdown
// built into DOM nodes, markdown.js).
// What the page shows is also what tests and the benchmark read: body[data-ready|data-error|data-busy],
// .turn.assistant[data-done], #stats[data-done] (the last DONE's figures as JSON).
import * as msg from "./protocol.js";
import { APPS } from "./constants.js";
import { renderApp, appData } from "./apps.js";
import { route } from "./router.js";
import { scriptedAnswer } from "./scripted.js";
import { foldPicker, renderPicker, selectedModelId, unfoldPicker } from "./picker.js";
import { groundingEntry, isCached, removeCached, resolveEntry } from "./downloads.js";
import { setupVoice } from "./voice.js";
import { answerActions, showAnswer, showThinking } from "./answer.js";
import { showSuggestions } from "./suggestions.js";
import { rememberForTheVisit } from "./preferences.js";
import { deviceRoom, downloadFacts, formatBytes, keepOnDevice, showDownloadFacts, smallerModel, timeLeft } from "./device.js";

/**
 * The elements of chat.html whose kind the code uses beyond HTMLElement's, by id.
 * @typedef {{send: HTMLButtonElement, stop: HTMLButtonElement, load: HTMLButtonElement,
 *   ask: HTMLFormElement, prompt: HTMLTextAreaElement, progress: HTMLProgressElement,
 *   speak: HTMLInputElement, ground: HTMLInputElement, "send-transcript": HTMLInputElement,
 *   talk: HTMLButtonElement, level: HTMLMeterElement}} Elements
 */
/**
 * @template {string} K
 * @param {K} id
 * @returns {K extends keyof Elements ? Elements[K] : HTMLElement}
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
const root = document.body.dataset.root;
const siteUrl = new URL(root, location.href).href;  // what "this site" is to an answer's links
const site = JSON.parse($("site-data").textContent);
const suggestions = JSON.parse($("suggestions-data").textContent);
// The worker imports the wasm by URL and lives at another one: hand it absolute URLs.
const wasm = {
  js: new URL(document.body.dataset.wasm, location.href).href,
  bin: new URL(document.body.dataset.wasmBin, location.href).href,
};
// Chromium applies the page's <meta> Content-Security-Policy to a worker only when the worker is made
// from a blob: URL (a worker loaded from its own URL takes the policy of its HTTP response, and a static
// host sends none). So the worker starts as a one-line blob that imports worker.js: its model downloads
// then obey connect-src, redirects included.
const workerUrl = new URL("./worker.js", import.meta.url).href;
const workerBlob = new Blob([`import ${JSON.stringify(workerUrl)};`], { type: "text/javascript" });
const workerBlobUrl = URL.createObjectURL(workerBlob);
// A worker that dies is replaced by a fresh one from the same blob at the next request (protocol.js
// connect); engineLost says what happened.
const worker = msg.connect(() => new Worker(workerBlobUrl, { type: "module" }), showError, engineLost);

/** @type {msg.ChatModel[]} */
let models = [];
/** @type {msg.GroundingEntry|null} */
let grounding = null;     // the site's index of its pages (a ModelEntry), null when it has none
/** @type {msg.ChatModel|null} */
let loaded = null;        // the model entry running in the worker
let twinApps = APPS;      // the apps the running model may open: its tools, else all
/** @type {import("./router.js").AppsData} */
const appsData = {};      // app -> items, for the router's parameter words

/**
 * One exchange on screen: the question and its node, the answer's node and its text so far, the app
 * cards it opens (pending until rendered) and its thinking, if the model shows any.
 * @typedef {object} Turn
 * @property {string} question
 * @property {HTMLElement} asked
 * @property {HTMLElement|null} answer
 * @property {string} text
 * @property {Promise<HTMLElement>[]} opened
 * @property {HTMLElement|null} thinking
 */

// While an answer streams, Stop takes Send's place: one button in reach, whichever is wanted (a model
// loading is busy too, but there is no answer to stop).
/**
 * @param {boolean} busy
 * @param {boolean} [answering]
 */
function setBusy(busy, answering = busy) {
  document.body.dataset.busy = String(busy);
  $("send").disabled = busy;
  $("send").hidden = answering;
  $("stop").disabled = !answering;
  $("stop").hidden = !answering;
  $("load").disabled = busy;
}

/**
 * @param {string} text
 * @param {string} [kind]  "", "warning" or "error"
 */
function status(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

/** @param {{message: string}} error */
function showError({ message }) {
  document.body.dataset.error = message;
  status(`Error: ${message}`, "error");
  setBusy(false);
}

// The worker died: its core trapped (out of memory, most often: a model too large for the tab), it threw,
// a reply could not be read, or it went silent (protocol.js LostWorker). The model it held is gone and
// scripted answers take over; like a model that will not fit (device.js), the model it was loading or
// running is named and a smaller one offered, which a fresh worker loads without a page reload.
/** @param {msg.LostWorker} lost */
async function engineLost({ reason, message, pending }) {
  const loading = pending.find((request) => request.type === msg.LOAD);
  // (this page's LOAD carries one of its models: a ChatModel)
  const model = reason === "no-script" ? null : /** @type {{model: msg.ChatModel}} */ (loading?.payload)?.model || loaded;
  loaded = null;
  twinApps = APPS;
  delete document.body.dataset.ready;
  delete document.body.dataset.model;
  $("download").hidden = true;
  document.querySelector("#conversation .turn-actions [data-regenerate]")?.remove();  // no model to ask
  if (!model) {
    showError({ message: `${message}. A fresh one starts with the next request.` });
    return;
  }
  const smaller = smallerModel(model, models, await deviceRoom());
  const size = formatBytes(model.bytes);
  showError({
    message: `${message}. ${model.label} (${size}) may need more memory than this tab can give it. ` +
      `A fresh engine starts with the next load: ${smaller ? `try a smaller model, ${smaller.label}` : "load a model to go on"}.`,
  });
  unfoldPicker();
  const warning = `${model.label} stopped the model engine${loading ? " while loading" : ""}: ` +
    `this tab may not have the memory a ${size} model needs.`;
  showDownloadFacts($("download-facts"), { lines: [], warnings: [warning], smaller }, pickModel);
}

// Whether the visitor is reading the end of the conversation (then new words scroll into view; a
// visitor scrolled up to reread is left where they are).
const atTheEnd = () => $("conversation").getBoundingClientRect().bottom <= innerHeight + 200;

/** @param {Element} node */
function follow(node) {
  node.scrollIntoView({ block: "end" });
}

/**
 * @param {string} className
 * @param {string} [text]
 */
function addNode(className, text = "") {
  const node = document.createElement("div");
  node.className = className;
  node.textContent = text;
  $("conversation").append(node);
  follow(node);
  return node;
}

function offerSuggestions() {
  showSuggestions($("suggestions"), suggestions, (question) => {
    $("prompt").value = question;
    $("ask").requestSubmit();
  });
}

// The answer, whole and once, for screen readers (the conversation itself is not a live region).
/** @param {string} text */
function announce(text) {
  $("announcer").textContent = text;
}

// Opens an app (or a notice saying why it cannot) under the turn's answer; `turn.opened` holds the
// pending cards so the turn's end knows whether anything was opened.
/**
 * @param {Turn} turn
 * @param {{app: string, params?: Object<string, any>}} tool
 * @param {"model"|"router"|"scripted"} source
 * @param {string[]} [allowed]
 */
function openApp(turn, tool, source, allowed = APPS) {
  const opening = renderApp(root, tool, source, allowed).then((card) => {
    turn.answer.after(card);
    return card;
  });
  turn.opened.push(opening);
  return opening;
}

/**
 * @param {Turn} turn
 * @param {string} reason  the core's stop reason
 */
async function finishTurn(turn, reason) {
  showAnswer(turn.answer, turn.text, siteUrl, true);
  turn.answer.dataset.done = reason;
  const cards = await Promise.all(turn.opened);
  if (!cards.some((card) => card.classList.contains("app-card"))) {
    // The model opened nothing: the router may open what the question plainly asks for.
    const routed = route(turn.question, appsData);
    if (routed) await openApp(turn, routed, "router");
  }
  if ($("speak").checked && "speechSynthesis" in window && turn.text.trim()) {
    speechSynthesis.speak(new SpeechSynthesisUtterance(turn.text));
  }
  if (turn.answer.isConnected) {  // not cleared by "New chat" while it was ending
    addActions(turn);
    announce(turn.text);
  }
  setBusy(false);
  if (!document.activeElement || document.activeElement === document.body || $("ask").contains(document.activeElement)) {
    $("prompt").focus();
  }
}

// Copy under every answer; regenerate under the last answer of a model only (one button at a time:
// the one before goes when a new answer ends).
/** @param {Turn} turn */
function addActions(turn) {
  document.querySelector("#conversation .turn-actions [data-regenerate]")?.remove();
  const redo = loaded ? () => regenerate(turn) : null;
  const row = answerActions(turn.answer, turn.text, redo);
  row.lastElementChild.toggleAttribute("data-regenerate", Boolean(redo));
  const following = atTheEnd();
  $("conversation").append(row);
  if (following) follow(row);
}

// The last answer again: the worker forgets the last exchange and the same question is asked anew.
/** @param {Turn} turn */
function regenerate(turn) {
  if (document.body.dataset.busy === "true") return;
  $("prompt").focus();  // the button pressed goes with the answer it was under
  while (turn.asked.nextSibling) turn.asked.nextSibling.remove();
  worker.send(msg.REWIND);
  generateAnswer(turn.asked, turn.question);
}

// How each kind of the core's events shows in a turn (protocol.js CoreEvent).
/** @type {{[K in msg.CoreEvent["kind"]]: (turn: Turn, event: Extract<msg.CoreEvent, {kind: K}>) => void}} */
const showEvent = {
  text(turn, { text }) {
    const following = atTheEnd();
    turn.text += text;
    showAnswer(turn.answer, turn.text, siteUrl);
    if (following) follow(turn.answer);
  },
  thinking(turn, { text }) {
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
  tool(turn, { app, params }) {
    openApp(turn, { app, params }, "model", twinApps);
  },
};

/**
 * @param {Turn} turn
 * @param {msg.CoreEvent} event  (a kind this page does not know, from a newer core, gets a notice)
 */
function showCoreEvent(turn, event) {
  // (each kind's function takes that kind's event: tsc cannot pair the two itself)
  if (showEvent[event.kind]) return showEvent[event.kind](turn, /** @type {any} */ (event));
  const notice = document.createElement("p");
  notice.className = "notice";
  notice.textContent = `This page cannot show a "${event.kind}" event from the model.`;
  turn.answer.after(notice);
}

// Under a grounded answer: where its notes came from, each page once, linked when it has a page.
// Under a refusal (the core marks it) the same pages were looked in and did not answer: saying
// "from" there would credit them with an answer the twin did not give.
/**
 * @param {Turn} turn
 * @param {msg.Source[]} sources
 * @param {boolean} refused
 */
function showSources(turn, sources, refused) {
  if (!sources.length) return;
  const line = document.createElement("p");
  line.className = refused ? "sources looked-in" : "sources";
  line.append(refused ? "looked in: " : "from: ");
  const seen = new Set();
  for (const { title, url } of sources) {
    if (seen.has(title + url)) continue;
    if (seen.size) line.append(" · ");
    seen.add(title + url);
    const part = document.createElement(url ? "a" : "span");
    part.textContent = title;
    if (url) /** @type {HTMLAnchorElement} */ (part).href = `${root}${url}`;
    line.append(part);
  }
  turn.answer.after(line);
}

// Under a grounded answer, the names and numbers that neither its notes nor the conversation
// gave the twin (the core checks): where a small twin invents, it is mostly these.
/**
 * @param {Turn} turn
 * @param {string[]} unsupported
 */
function showUnsupported(turn, unsupported) {
  if (!unsupported.length) return;
  const line = document.createElement("p");
  line.className = "unsupported";
  line.textContent = `not in its notes, may be invented: ${unsupported.join(" · ")}`;
  turn.answer.after(line);
}

// `waited_s`: from the visitor's Enter to the first word, as the page saw it. The worker's
// first_token_s starts when it takes the request up, after a PREPARE it was still feeding.
/**
 * @param {msg.DoneReply} done
 * @param {number|null} waited_s
 */
function showDone({ reason, tokens, seconds, first_token_s, decode_tok_s, prefill_tokens }, waited_s) {
  const rate = decode_tok_s ? ` · ${decode_tok_s.toFixed(1)} tok/s` : "";
  $("stats").textContent = `${tokens} tokens${rate}`;
  $("stats").dataset.done = JSON.stringify(
    { reason, tokens, seconds, first_token_s, decode_tok_s, prefill_tokens, waited_s },
  );
}

// The apps a model may open: the site's, narrowed by its tabtwin.tools list (a JSON text in the
// core's info). Like the core, a twin without a readable list may open any.
/** @param {msg.ReadyReply["info"]} info */
function allowedApps(info) {
  let tools = info.tools ?? null;
  if (typeof tools === "string") {
    try { tools = JSON.parse(tools); } catch { tools = null; }
  }
  return Array.isArray(tools) ? APPS.filter((app) => tools.includes(app)) : APPS;
}

async function startLoad() {
  const model = models.find((m) => m.id === selectedModelId($("models")));
  if (!model) return;
  delete document.body.dataset.error;  // the last load's failure is not this one's (said at once, before any await)
  // Asked before the download: a model the browser may evict is downloaded again on the next visit.
  const kept = await keepOnDevice();
  document.body.dataset.persisted = String(kept);
  $("retry").hidden = true;
  delete document.body.dataset.ready;
  const startedAt = performance.now();
  status(`Preparing ${model.label}…`);
  setBusy(true, false);
  let storageNote = "";  // why the model was not kept on this device, said again once it runs
  worker.send(msg.LOAD, { model, wasm, grounding }, {
    [msg.PROGRESS]: ({ phase, loaded: bytes, total, warning, note }) => {
      $("download").hidden = false;
      $("progress").value = total ? bytes / total : 0;
      const seconds = Math.max((performance.now() - startedAt) / 1000, 0.001);
      const speed = phase === "download" ? ` · ${(bytes / 1e6 / seconds).toFixed(1)} MB/s` : "";
      const eta = phase === "download" ? timeLeft(bytes, total, seconds) : "";
      const pct = total ? ` (${Math.floor((100 * bytes) / total)}%)` : "";
      $("progress-text").textContent = note || `${phase}: ${(bytes / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB${pct}${speed}${eta ? ` · ${eta}` : ""}`;
      if (warning) status(warning, "warning");
      storageNote = warning || storageNote;  // kept in view once the model runs
    },
    [msg.READY]: async ({ info, simd128, cached, passages }) => {
      loaded = model;
      $("ground-toggle").hidden = !passages;
      twinApps = allowedApps(info);
      document.body.dataset.simd128 = String(simd128);
      document.body.dataset.model = model.id;
      delete document.body.dataset.error;
      $("download").hidden = true;
      const running = `${model.label} is running on this device${cached ? " (loaded from this device, no download)" : ""}.`;
      status(storageNote ? `${running} ${storageNote}` : running, storageNote ? "warning" : "");
      await renderPicker($("models"), models, model.id);
      foldPicker(model.label);
      setBusy(false);
      // the button that started it is folded away: the next thing to do is to ask
      if (document.activeElement === document.body || $("picker").contains(document.activeElement)) $("prompt").focus();
      document.body.dataset.ready = "true";  // last: everything above is on screen when a reader sees it
    },
    [msg.ERROR]: (error) => {
      loaded = null;  // the worker let the previous model go before this load: answers are scripted now
      delete document.body.dataset.model;
      $("download").hidden = true;
      $("retry").hidden = false;
      showError(error);
    },
  });
}

/** @param {string} question */
async function ask(question) {
  $("suggestions").hidden = true;
  const asked = addNode("turn user", question);
  if (loaded) return generateAnswer(asked, question);
  /** @type {Turn} */
  const turn = { question, asked, answer: null, text: "", opened: [], thinking: null };
  const { text, tool } = scriptedAnswer(question, site, appsData);
  turn.answer = addNode("turn assistant scripted", text);
  turn.text = text;
  const note = addNode("scripted-note", "Scripted answer — start a model above for the real twin.");
  turn.answer.after(note);
  if (tool) await openApp(turn, tool, "scripted");
  turn.answer.dataset.done = "scripted";
  const actions = answerActions(turn.answer, text, null);
  $("conversation").append(actions);
  follow(actions);
  announce(text);
}

// While the visitor types, the question so far goes to the worker (PREPARE), which feeds its prompt
// (with grounding, the notes retrieved for it) ahead: after Enter only what changed is read, and most
// of a grounded turn's prompt is the notes. Each change supersedes the last (the worker drops an older
// read-ahead after the chunk it is on). A hint: never while an answer streams.
const groundingOn = () => !$("ground-toggle").hidden && $("ground").checked;
let readingAhead = 0;  // PREPAREs with the worker (also body[data-reading-ahead])
let readAhead = "";  // the text of the last one

// The words typed so far: a word still being typed is left out ("sourdo" retrieves other notes than
// "sourdough" would, and each key would start them over); punctuation ends a word too.
const settledWords = (/** @type {string} */ text) => (/[\s.,;:!?]$/.test(text) ? text : text.replace(/\S+$/, "")).trim();

function prepareWhileTyping() {
  const typed = settledWords($("prompt").value);
  if (!loaded || !typed || typed === readAhead || document.body.dataset.busy === "true") return;
  readAhead = typed;
  readingAhead += 1;
  document.body.dataset.readingAhead = "true";
  const ended = () => {
    readingAhead -= 1;
    if (!readingAhead) document.body.dataset.readingAhead = "false";
  };
  worker.send(msg.PREPARE, { prompt: typed, options: loaded.sampling || {}, ground: groundingOn() }, {
    [msg.PREPARED]: ended,
    [msg.ERROR]: (error) => {
      ended();
      showError(error);
    },
  });
}

// The model's answer to `question` (already shown as `asked`), streamed into a new answer node.
/**
 * @param {HTMLElement} asked
 * @param {string} question
 */
function generateAnswer(asked, question) {
  readAhead = "";  // the conversation moves on: the next question is read ahead afresh
  /** @type {Turn} */
  const turn = { question, asked, answer: null, text: "", opened: [], thinking: null };  // this turn, for its replies
  turn.answer = addNode("turn assistant");
  showThinking(turn.answer);
  setBusy(true);
  const sentAt = performance.now();
  /** @type {number|null} */
  let firstAt = null;
  worker.send(msg.GENERATE, { prompt: question, options: loaded.sampling || {}, ground: groundingOn() }, {
    [msg.EVENT]: ({ event }) => {
      firstAt ??= performance.now();
      showCoreEvent(turn, event);
    },
    [msg.DONE]: async (done) => {
      showDone(done, firstAt === null ? null : (firstAt - sentAt) / 1000);
      showUnsupported(turn, done.unsupported);  // first: it ends up below the sources line
      showSources(turn, done.sources, done.refused);
      await finishTurn(turn, done.reason);
      prepareWhileTyping();  // the next question, if typed while this answer streamed
    },
    [msg.ERROR]: (error) => {
      if (!turn.answer.dataset.done) {
        showAnswer(turn.answer, turn.text, siteUrl, true);
        turn.answer.dataset.done = "error";
      }
      showError(error);
    },
  });
}

// What downloading the selected model costs and whether this device can take it (device.js).
async function describeDownload() {
  const model = models.find((m) => m.id === selectedModelId($("models")));
  if (!model) return;
  const facts = downloadFacts(model, models, await deviceRoom(), await isCached(model));
  showDownloadFacts($("download-facts"), facts, pickModel);
}

// The smaller model offered (download facts, a lost engine) becomes the picker's choice.
/** @param {msg.ChatModel} smaller */
async function pickModel(smaller) {
  await renderPicker($("models"), models, smaller.id);
  await describeDownload();
  /** @type {HTMLInputElement|null} */ ($("models").querySelector("input:checked"))?.focus();
}

// The composer is pinned over the end of the page: answers scroll into view above it.
function trackComposerHeight() {
  const set = () => document.documentElement.style.setProperty("--composer-height", `${$("ask").offsetHeight + 16}px`);
  new ResizeObserver(set).observe($("ask"));
  set();
}

// The box grows with what is typed, up to the height the stylesheet allows, then scrolls.
function fitPrompt() {
  const box = $("prompt");
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight + 2}px`;
}

async function init() {
  const registryUrl = new URL(`${root}models.json`, location.href);
  /** @type {msg.ModelsJson} */
  const registry = await (await fetch(registryUrl)).json();
  models = registry.models.map((entry) => resolveEntry(entry, registryUrl));
  grounding = groundingEntry(registry.grounding, registryUrl);
  const wanted = new URLSearchParams(location.search).get("model");
  const initial = models.find((m) => m.id === wanted) || models.find((m) => m.default) || models[0];
  await renderPicker($("models"), models, initial?.id);
  describeDownload();
  offerSuggestions();
  rememberForTheVisit([$("send-transcript"), $("speak"), $("ground")]);
  trackComposerHeight();
  setupVoice({
    worker,
    voice: registry.voice && resolveEntry(registry.voice, registryUrl),
    wasm,
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
  await Promise.all(APPS.map(async (app) => {
    appsData[app] = await appData(root, app).catch(() => /** @type {import("./apps.js").AppItem[]} */ ([]));
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
  await describeDownload();
});
$("models").addEventListener("change", describeDownload);
$("change-model").addEventListener("click", unfoldPicker);
$("picker").addEventListener("keydown", (event) => {
  if (event.key === "Escape" && loaded && !$("picker-body").hidden) {
    foldPicker(loaded.label);
    $("change-model").focus();
  }
});
$("ask").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("prompt").value.trim();
  if (!question || document.body.dataset.busy === "true") return;
  $("prompt").value = "";
  fitPrompt();
  ask(question);
});
$("prompt").addEventListener("input", fitPrompt);
$("prompt").addEventListener("input", prepareWhileTyping);
$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("ask").requestSubmit();
  } else if (event.key === "Escape" && document.body.dataset.busy === "true") {
    worker.send(msg.STOP);
  }
});
$("stop").addEventListener("click", () => worker.send(msg.STOP));
$("new-chat").addEventListener("click", () => {
  if (document.body.dataset.busy === "true") worker.send(msg.STOP);
  if (loaded) worker.send(msg.RESET);
  $("conversation").replaceChildren();
  $("stats").textContent = "";
  delete $("stats").dataset.done;
  announce("");
  offerSuggestions();
  $("prompt").focus();
});

init();
