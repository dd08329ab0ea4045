// The inference worker: owns the wasm core and the model. One reply at a time;
// between tokens it yields to its event loop so a STOP message lands at once.
// Every message it posts answers one request and carries that request's id (protocol.js).
import * as msg from "./protocol.js";
import { loadModelInto } from "./downloads.js";

// The wasm-bindgen module's types: tsc writes them from ../wasm/tabtwin_web.js and the type check
// names them "tabtwin-web" (scripts/typecheck/check.sh), so this module is held to the binding's API.
/** @typedef {typeof import("tabtwin-web")} Core */
/** @type {Core|null} */
let core = null;  // the wasm-bindgen module, imported on first LOAD (its URL is content-hashed)
/** @type {InstanceType<Core["Chat"]>|null} */
let chat = null;
/** @type {InstanceType<Core["Transcriber"]>|null} */
let transcriber = null;
/** @type {InstanceType<Core["Grounding"]>|null} */
let grounding = null;  // the site's index of the author's pages, when it has one
let stopRequested = false;
let generating = false;  // a GENERATE is streaming: a PREPARE now would feed into its reply
// The visitor's questions of this conversation, as typed: a follow-up ("what's its name?") is
// matched with the one before it. Emptied on RESET, the last one dropped on REWIND.
/** @type {string[]} */
let asked = [];
const CONTEXT_LIMIT = 2048;

/**
 * @template {keyof msg.Replies} T
 * @param {T} type  a reply type of protocol.js
 * @param {msg.Replies[T]} body  its payload as the type's typedef declares it, id included
 */
const post = (type, body) => self.postMessage({ type, ...body });

// A zero-delay yield (setTimeout clamps to 4 ms after a few nestings).
// A GENERATE and a PREPARE may both be waiting on one: each message wakes the longest waiting.
const channel = new MessageChannel();
/** @type {((value?: unknown) => void)[]} */  // the waiting yields' resolves
const waiting = [];
channel.port1.onmessage = () => waiting.shift()();
const yieldToEvents = () => new Promise((resolve) => {
  waiting.push(resolve);
  channel.port2.postMessage(null);
});

/** @param {msg.WasmUrls} wasm */
async function ensureCore(wasm) {
  if (!core) {
    core = await import(wasm.js);
    await core.default({ module_or_path: wasm.bin });
  }
}

// Where a model's bytes land: wasm memory, used in place by the model (see downloads.js).
/** @type {(total: number, hash: boolean) => InstanceType<Core["ModelBytes"]>} */
const newSink = (total, hash) => new core.ModelBytes(total, hash);

/** @param {import("./protocol.js").LoadVoiceRequest} request */
async function loadVoice({ id, voice, wasm }) {
  await ensureCore(wasm);
  if (!transcriber) {
    const { sink } = await loadModelInto(voice, newSink, (p) => post(msg.PROGRESS, { id, ...p }));
    transcriber = new core.Transcriber(sink);
  }
  post(msg.VOICE_READY, { id });
}

/** @param {import("./protocol.js").TranscribeRequest} request */
async function transcribe({ id, samples, options = null }) {
  if (!transcriber) throw new Error("the speech model is not loaded yet: load_voice first");
  const started = performance.now();
  const { text, nothing_heard, audio_seconds, window_seconds } =
    JSON.parse(transcriber.transcribe(samples, options ? JSON.stringify(options) : undefined));
  const seconds = (performance.now() - started) / 1000;
  post(msg.TRANSCRIPT, { id, text, nothing_heard, audio_seconds, window_seconds, seconds });
}

/** @param {import("./protocol.js").LoadRequest} request */
async function load({ id, model, wasm, grounding: index = null }) {
  await ensureCore(wasm);
  if (chat) chat.free();  // before the next model's bytes arrive: wasm memory never shrinks
  chat = null;
  // The index (tens of KB) and its embedding model (~25 MB) serve every model: loaded once, first.
  if (index && !grounding) {
    const { sink } = await loadModelInto(index, newSink, () => {});
    const loadedIndex = new core.Grounding(sink);
    if (index.embedder) {
      const embedder = await loadModelInto(index.embedder, newSink, (p) => post(msg.PROGRESS, { id, ...p }));
      loadedIndex.attach_embedder(embedder.sink);
    }
    grounding = loadedIndex;
  }
  const { sink, cached } = await loadModelInto(model, newSink, (p) => post(msg.PROGRESS, { id, ...p }));
  post(msg.PROGRESS, { id, phase: "starting", loaded: model.bytes, total: model.bytes });
  chat = new core.Chat(sink);
  // Ephemeral, capped conversations: the core drops the oldest turns past this window.
  chat.set_context_limit(CONTEXT_LIMIT);  // the core caps it at the model's own context
  const passages = grounding ? grounding.passages() : null;
  post(msg.READY, { id, info: JSON.parse(chat.info()), simd128: core.with_simd128(), cached, passages });
}

/**
 * One event of the core's reply stream, passed on exactly as step() yielded it.
 * @param {number} id  the GENERATE request's
 * @param {import("./protocol.js").CoreEvent} event
 */
function emit(id, event) {
  post(msg.EVENT, { id, event });
}

// The prompt of the question being typed, fed ahead (PREPARE): the notes retrieved for the words so
// far go into the cache while the visitor types, and the GENERATE that follows feeds what changed.
// One read-ahead runs, a chunk at a time, with the worker's messages read between chunks. A PREPARE
// that arrives meanwhile only leaves its text for the next chunk (keys come faster than the notes
// are read: running each would queue work in front of Enter); a GENERATE stops it after the chunk
// at hand. What was fed stays useful as far as the next prompt shares it.
const PREPARE_CHUNK = 16;  // tokens: ~0.15 s for the 135M twin in one wasm thread
/** @type {msg.PrepareRequest|null} */
let newestPrepare = null;  // the latest PREPARE not yet taken up
let readingAhead = false;

/** @param {msg.PrepareRequest} request */
function prepare(request) {
  if (newestPrepare) post(msg.PREPARED, { id: newestPrepare.id, tokens: 0 });  // superseded unread
  newestPrepare = request;
  if (!readingAhead) return readAhead();  // awaited by onmessage: a trap in it is reported as one
}

async function readAhead() {
  readingAhead = true;
  /** @type {msg.PrepareRequest|null} */
  let current = null;
  let text = "";
  let tokens = 0;
  const end = () => post(msg.PREPARED, { id: current.id, tokens });
  try {
    for (;;) {
      if (newestPrepare) {
        if (current) end();
        current = newestPrepare;
        newestPrepare = null;
        const { prompt, ground = false } = current;
        text = chat && ground && grounding ? groundTurn(prompt).text : prompt;
        tokens = 0;
      }
      if (!chat || generating) break;
      const { fed, left } = JSON.parse(chat.prepare(text, JSON.stringify(current.options || {}), PREPARE_CHUNK));
      tokens += fed;
      if (left === 0) break;
      await yieldToEvents();
    }
  } finally {
    readingAhead = false;
    end();
    if (newestPrepare) post(msg.PREPARED, { id: newestPrepare.id, tokens: 0 });  // came as Enter did
    newestPrepare = null;
  }
}

// The turn as the model sees it, the passages in it, and the generation options the core's
// judgement of them sets (its verdict on whether they answer, told_only): JSON from the core.
/** @param {string} prompt */
function groundTurn(prompt) {
  const previous = asked.length ? asked[asked.length - 1] : undefined;
  return JSON.parse(grounding.ground(prompt, undefined, previous));
}

/** @param {msg.GenerateRequest} request */
async function generate(request) {
  generating = true;
  try {
    await streamReply(request);
  } finally {
    generating = false;
  }
}

/** @param {msg.GenerateRequest} request */
async function streamReply({ id, prompt, options = {}, ground = false }) {
  stopRequested = false;
  // Overrides arrive as models.toml writes them ([model.sampling], snake_case); the core
  // fills in the model's own defaults for whatever is not given.
  const started = performance.now();
  // Grounded: the core picks the passages and renders them into the turn in the format the twin
  // was trained on; the visitor sees their own words, the model sees the notes too.
  const grounded = ground && grounding ? groundTurn(prompt) : { text: prompt, sources: [], options: {} };
  const { text, sources } = grounded;
  chat.start(text, JSON.stringify({ ...options, ...grounded.options }));
  asked.push(prompt);
  let tokens = 0;
  let firstTokenAt = 0;
  let lastTokenAt = 0;
  for (;;) {
    if (stopRequested) chat.stop();
    const events = chat.step();
    if (events === undefined) break;
    const generated = chat.generated_tokens();
    if (generated > tokens) {
      lastTokenAt = performance.now();
      if (tokens === 0) firstTokenAt = lastTokenAt;
      tokens = generated;
    }
    for (const event of JSON.parse(events)) emit(id, event);
    await yieldToEvents();
  }
  // Decode speed excludes the prompt: time from the first token to the last.
  const decodeSeconds = (lastTokenAt - firstTokenAt) / 1000;
  post(msg.DONE, {
    id,
    reason: chat.stop_reason(),
    tokens,
    seconds: (performance.now() - started) / 1000,
    first_token_s: tokens > 0 ? (firstTokenAt - started) / 1000 : null,
    decode_tok_s: tokens > 1 ? (tokens - 1) / decodeSeconds : null,
    sources,
    refused: chat.refused(),
    // Checked only on a grounded turn: without notes every name would be "not in its notes".
    unsupported: ground && grounding && !chat.refused() ? JSON.parse(chat.unsupported()) : [],
    prefill_tokens: chat.prefill_tokens(),
  });
}

/** @type {{[T in keyof msg.Requests]: (request: msg.Requests[T]) => unknown}} */
const handlers = {
  [msg.LOAD]: load,
  [msg.GENERATE]: generate,
  [msg.PREPARE]: prepare,
  [msg.STOP]: () => { stopRequested = true; },
  [msg.RESET]: () => { asked = []; if (chat) chat.reset(); },
  // regenerate: ask the last question again
  [msg.REWIND]: () => { asked.pop(); if (chat) chat.forget_last_exchange(); },
  [msg.LOAD_VOICE]: loadVoice,
  [msg.TRANSCRIBE]: transcribe,
  [msg.PING]: ({ id }) => post(msg.PONG, { id }),
};

// A trap (a WebAssembly.RuntimeError: the core aborted, out of memory among other causes) leaves the
// core's memory in no known state: nothing may run in it again. The error says so (fatal), and the
// page replaces this worker with a fresh one; until then every request gets the same answer.
/** @type {string|null} */
let trapped = null;
const isTrap = (/** @type {any} */ err) => err instanceof WebAssembly.RuntimeError || err?.cause instanceof WebAssembly.RuntimeError;

self.onmessage = async ({ data }) => {
  const id = data.id ?? null;
  const handler = handlers[/** @type {keyof msg.Requests} */ (data.type)];
  if (trapped) return post(msg.ERROR, { id, message: trapped, fatal: true });
  if (!handler) return post(msg.ERROR, { id, message: `unknown message type '${data.type}'` });
  try {
    await handler(data);
  } catch (err) {
    const message = String(err && err.message ? err.message : err);
    if (!isTrap(err)) return post(msg.ERROR, { id, message });
    trapped = `the model engine crashed (WebAssembly trap: ${(err.cause || err).message})`;
    post(msg.ERROR, { id, message: trapped, fatal: true });
  }
};
