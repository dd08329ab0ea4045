// The messages between the page and the inference worker, written down once: each type with the
// typedef of its message just above it. Both sides import this module; nothing else names a message
// type. Every request carries an `id` the page chose; every reply carries the id of the request it
// answers, so the page matches replies and errors to requests by id alone.
// (tests/browser/test_protocol.py checks the messages the worker really posts against these typedefs.)

/**
 * models.json as the build writes it, and a chat model of it: generated from the schema the build is
 * tested against (site/schema/models.schema.json -> models.d.ts, scripts/schema_types.py).
 * @typedef {import("../../schema/models.js").ModelsJson} ModelsJson
 * @typedef {import("../../schema/models.js").ChatModel} ChatModel
 */

/**
 * What a download needs of a models.json entry (a chat model, the voice model, the embedder, or the
 * grounding index made one by downloads.js groundingEntry), its URLs made absolute by the page
 * (downloads.js resolveEntry).
 * @typedef {Pick<import("../../schema/models.js").ModelFile, "id" | "bytes" | "sha256" | "cache_key" | "shards">} ModelEntry
 */

/**
 * The site's index of the author's pages, and the embedding model that matches questions to its
 * passages by meaning (null: by words alone).
 * @typedef {ModelEntry & {embedder: ModelEntry|null}} GroundingEntry
 */

/**
 * The wasm-bindgen module's URLs (content-hashed, absolute).
 * @typedef {object} WasmUrls
 * @property {string} js
 * @property {string} bin
 */

/**
 * One event of the core's reply stream, exactly as the core's step() yields it.
 * @typedef {{kind: "text", text: string}
 *         | {kind: "thinking", text: string}
 *         | {kind: "tool", app: string, params: Object<string, *>}} CoreEvent
 */

/**
 * A passage of the author's pages that a grounded turn carried (the core's grounding::Source).
 * @typedef {object} Source
 * @property {string} id
 * @property {string} source  about, projects, books, musings, talks or qa
 * @property {string} title   the page's name
 * @property {string} url     relative to the site root; "" when the passage has no page (Q&A)
 * @property {number} score   0..1
 */

// ---- page -> worker: requests

/**
 * Fetch the model (or read it from this device), verify it and start the core with it.
 * Answered by PROGRESS..., then READY.
 * @typedef {object} LoadRequest
 * @property {number} id
 * @property {ModelEntry} model
 * @property {WasmUrls} wasm
 * @property {GroundingEntry|null} grounding  the site's index of the author's pages (models.json
 *   "grounding"), loaded (verified, cached) with the model; null when the site has none
 */
export const LOAD = "load";

/**
 * Stream a reply to `prompt` in the running conversation. Answered by EVENT..., then DONE.
 * @typedef {object} GenerateRequest
 * @property {number} id
 * @property {string} prompt
 * @property {Object<string, number>} options  the model's sampling table from models.json (snake_case)
 * @property {boolean} ground  put the passages of the author's pages that match `prompt` into the turn
 */
export const GENERATE = "generate";

/**
 * Feed the prompt a GENERATE of `prompt` would start from, while the visitor is still typing it:
 * the GENERATE then feeds only what changed (with grounding, the notes retrieved for the words so
 * far are often the notes of the whole question). A newer PREPARE or a GENERATE stops it after the
 * chunk of the prompt it is feeding; ignored while a reply is being generated or before a model is
 * loaded. Answered by PREPARED.
 * @typedef {object} PrepareRequest
 * @property {number} id
 * @property {string} prompt  the question as typed so far
 * @property {Object<string, number>} options  as GENERATE's
 * @property {boolean} ground  as GENERATE's
 */
export const PREPARE = "prepare";

/**
 * End the reply being generated now; its DONE says "stopped". No reply of its own.
 * @typedef {object} StopRequest
 * @property {number} id
 */
export const STOP = "stop";

/**
 * Forget the conversation. No reply of its own.
 * @typedef {object} ResetRequest
 * @property {number} id
 */
export const RESET = "reset";

/**
 * Forget the last exchange of the conversation (the last question and the reply to it), so that a
 * GENERATE can answer that question again ("regenerate"). No reply of its own.
 * @typedef {object} RewindRequest
 * @property {number} id
 */
export const REWIND = "rewind";

/**
 * Fetch (or read from this device) and verify the speech model. Answered by PROGRESS..., then VOICE_READY.
 * @typedef {object} LoadVoiceRequest
 * @property {number} id
 * @property {ModelEntry} voice
 * @property {WasmUrls} wasm
 */
export const LOAD_VOICE = "load_voice";

/**
 * Transcribe speech. Answered by TRANSCRIPT.
 * @typedef {object} TranscribeRequest
 * @property {number} id
 * @property {Float32Array} samples  mono, at constants.js SAMPLE_RATE
 * @property {object} [options]  the core's TranscribeOptions: {window: "fitted" | "full" | {seconds}};
 *   absent, the core's defaults (the encoder window fitted to the clip)
 */
export const TRANSCRIBE = "transcribe";

// ---- worker -> page: replies

/**
 * How far a LOAD or LOAD_VOICE has come.
 * @typedef {object} ProgressReply
 * @property {number} id
 * @property {"waiting"|"cached"|"download"|"verify"|"not-cached"|"starting"} phase  "waiting": another
 *   tab is downloading the same model, and this one reads it from the cache once that tab is done
 * @property {number} loaded  bytes
 * @property {number} total   bytes
 * @property {string} [warning]  something the visitor should know, to keep in view once the model runs
 *   ("It was not kept for next time: ...")
 * @property {string} [note]  a line to show in place of the byte counts ("another tab is downloading this model…")
 */
export const PROGRESS = "progress";

/**
 * The model runs; ends a LOAD.
 * @typedef {object} ReadyReply
 * @property {number} id
 * @property {{tools: (string|string[]|null), context_length: number}} info  the core's Chat.info(), as it is
 *   (more fields pass through); `tools` is the twin's tabtwin.tools list (a JSON text), null when any app
 * @property {boolean} simd128  whether the core was built with wasm simd128
 * @property {boolean} cached   whether the bytes came from this device
 * @property {number|null} passages  passages in the grounding index; null when the site has none
 */
export const READY = "ready";

/**
 * One event of the reply a GENERATE asked for.
 * @typedef {object} EventReply
 * @property {number} id
 * @property {CoreEvent} event
 */
export const EVENT = "event";

/**
 * The reply is over; ends a GENERATE.
 * @typedef {object} DoneReply
 * @property {number} id
 * @property {string} reason  the core's stop reason: end_of_turn, max_tokens, context_full, stopped
 * @property {number} tokens  tokens the core generated for this reply
 * @property {number} seconds  from the request to the end, prompt included
 * @property {number|null} first_token_s  from the request to the first token (prompt processing); null when none
 * @property {number|null} decode_tok_s  decode speed from the first token to the last; null under two tokens
 * @property {Source[]} sources  the passages the turn carried, best first; empty when ungrounded
 * @property {number} prefill_tokens  prompt tokens read for this reply (what a PREPARE or the
 *   conversation so far left in the cache is not read again)
 * @property {boolean} refused  the core marks the reply as the twin saying it does not know (it opens
 *   like a refusal its GGUF lists): the passages were looked in, not used
 * @property {string[]} unsupported  on a grounded answer, its names and numbers that nothing the
 *   model was told states (its system prompt, the conversation's questions and notes): most of a
 *   small twin's inventions; empty when ungrounded or refused
 */
export const DONE = "done";

/**
 * The prompt so far is in the cache; ends a PREPARE.
 * @typedef {object} PreparedReply
 * @property {number} id
 * @property {number} tokens  prompt tokens read for it (0 when ignored, or all was cached)
 */
export const PREPARED = "prepared";

/**
 * The speech model is ready; ends a LOAD_VOICE.
 * @typedef {object} VoiceReadyReply
 * @property {number} id
 */
export const VOICE_READY = "voice_ready";

/**
 * What was heard; ends a TRANSCRIBE.
 * @typedef {object} TranscriptReply
 * @property {number} id
 * @property {string} text
 * @property {boolean} nothing_heard
 * @property {number} audio_seconds
 * @property {number} window_seconds  the encoder window the clip was heard in
 * @property {number} seconds  time spent transcribing
 */
export const TRANSCRIPT = "transcript";

/**
 * The request failed; ends any request.
 * @typedef {object} ErrorReply
 * @property {number|null} id  the failed request's (null when the message had none)
 * @property {string} message  what went wrong and what to do, for the visitor
 * @property {boolean} [fatal]  the worker cannot go on (its wasm core trapped and is unusable, or it
 *   died): the page's end (connect below) replaces it with a fresh worker
 */
export const ERROR = "error";

/**
 * Whether the worker is still there: asked when a request has waited a while with no word from it.
 * Answered by PONG as soon as the worker is back at its event loop (between two steps of any work).
 * @typedef {object} PingRequest
 * @property {number} id
 */
export const PING = "ping";

/**
 * The worker is alive; answers a PING.
 * @typedef {object} PongReply
 * @property {number} id
 */
export const PONG = "pong";

/**
 * Every request by its type: a message is its typedef's fields and `type`. The type check
 * (scripts/typecheck) holds the page's `send` and the worker's handlers to these.
 * @typedef {object} Requests
 * @property {LoadRequest} load
 * @property {GenerateRequest} generate
 * @property {PrepareRequest} prepare
 * @property {StopRequest} stop
 * @property {ResetRequest} reset
 * @property {RewindRequest} rewind
 * @property {LoadVoiceRequest} load_voice
 * @property {TranscribeRequest} transcribe
 * @property {PingRequest} ping
 */

/**
 * Every reply by its type, as Requests: the worker's `post` and the page's handlers are held to these.
 * @typedef {object} Replies
 * @property {ProgressReply} progress
 * @property {ReadyReply} ready
 * @property {EventReply} event
 * @property {DoneReply} done
 * @property {PreparedReply} prepared
 * @property {VoiceReadyReply} voice_ready
 * @property {TranscriptReply} transcript
 * @property {ErrorReply} error
 * @property {PongReply} pong
 */

/**
 * A reply as the worker posts it: its typedef's fields and its `type`.
 * @typedef {{[R in keyof Replies]: Replies[R] & {type: R}}[keyof Replies]} Reply
 */

/**
 * A request's handlers on the page's end: reply type -> what to do with that reply.
 * @typedef {{[R in keyof Replies]?: (reply: Replies[R]) => unknown}} ReplyHandlers
 */

// The reply that ends each request (ERROR ends any); the others get no reply unless they fail.
/** @type {{[T in keyof Requests]?: keyof Replies}} */
const LAST_REPLY = {
  [LOAD]: READY,
  [GENERATE]: DONE,
  [PREPARE]: PREPARED,
  [LOAD_VOICE]: VOICE_READY,
  [TRANSCRIBE]: TRANSCRIPT,
};

// A worker is taken for dead when a request waits on it and it says nothing, not even a PONG, for
// SILENT_CHECKS checks CHECK_MS apart (three minutes). That long, because one step of the core keeps
// the worker from its messages: reading a long prompt takes tens of seconds on a slow phone.
const CHECK_MS = 5_000;
const SILENT_CHECKS = 36;

/**
 * Why the page's end gave a worker up, and what it took with it.
 * @typedef {object} LostWorker
 * @property {"trap"|"crash"|"no-script"|"unreadable"|"silent"} reason  its core trapped (an ERROR
 *   marked fatal), it threw outside any request, its script did not load, a reply from it could not be
 *   read, or it stopped answering
 * @property {string} message  what happened, in words for the visitor
 * @property {{type: keyof Requests, payload: object}[]} pending  the requests that were waiting on it (each
 *   was answered by an ERROR marked fatal)
 */

/**
 * The page's end of the worker: `send` gives each request a fresh id and hands every reply to the
 * handler its request registered for that reply type. An ERROR that no handler of its request takes
 * goes to `onError`, so no failure is dropped.
 * A worker that dies (a trap in its core, an uncaught error, a reply that cannot be read, three minutes
 * of silence) is terminated, every request waiting on it gets an ERROR marked fatal, then `onLost`
 * hears why. The next request starts a fresh worker from `createWorker`: started on demand, so a
 * worker whose script cannot load is not restarted in a loop. Given a Worker rather than a function
 * there is no second worker: every later request fails at once. `epoch` counts the workers started,
 * so a caller can tell that what it loaded into one is gone.
 * @param {(() => Worker) | Worker} createWorker
 * @param {(reply: ErrorReply) => void} onError
 * @param {(lost: LostWorker) => void} [onLost]
 */
export function connect(createWorker, onError, onLost = () => {}) {
  const replaceable = typeof createWorker === "function";
  /** @type {Worker|null} */
  let worker = null;
  let lastId = 0;
  /** @type {string|null} */
  let failure = null;         // why no request can be answered any more (a lost Worker given as such)
  /** @type {Map<number, {type: keyof Requests, payload: object, handlers: ReplyHandlers}>} */
  const pending = new Map();  // id -> {type, payload, handlers}, until the request's last reply
  let heard = false;          // the worker posted something since the last check
  let silentChecks = 0;
  /** @type {ReturnType<typeof setTimeout>|null} */
  let watch = null;           // the next check's timer while requests wait

  /** @param {Reply} data */
  function deliver(data) {
    const request = pending.get(data.id);
    if (data.type === ERROR || data.type === LAST_REPLY[/** @type {keyof Requests} */ (request?.type)]) pending.delete(data.id);
    // (the handler registered for this reply's type takes this reply: tsc cannot pair the two itself)
    const handler = /** @type {((reply: Reply) => unknown)|undefined} */ (request?.handlers[data.type]);
    if (handler) handler(data);
    else if (data.type === ERROR) onError(data);
  }

  /**
   * @param {Worker} from
   * @param {LostWorker["reason"]} reason
   * @param {string} message
   */
  function lose(from, reason, message) {
    if (from !== worker) return;  // given up already
    from.terminate();
    worker = null;
    clearTimeout(watch);
    watch = null;
    if (!replaceable) failure = message;
    const waiting = [...pending];
    for (const [id] of waiting) deliver({ type: ERROR, id, message, fatal: true });
    if (!waiting.length) onError({ id: null, message, fatal: true });
    onLost({ reason, message, pending: waiting.map(([, { type, payload }]) => ({ type, payload })) });
  }

  function start() {
    const current = replaceable ? createWorker() : createWorker;
    worker = current;
    connection.epoch += 1;
    current.addEventListener("message", ({ data }) => {
      if (current !== worker) return;  // a late word from a worker given up
      heard = true;
      if (data.type === ERROR && data.fatal) lose(current, "trap", data.message);
      else deliver(data);
    });
    current.addEventListener("error", (event) => {
      event.preventDefault();  // reported here, in words, rather than as an uncaught error
      // (a script that did not load fires a plain Event; an uncaught exception an ErrorEvent with its message)
      lose(current, event.message ? "crash" : "no-script",
        `the inference worker failed: ${event.message || "its script did not load"}`);
    });
    current.addEventListener("messageerror", () => {
      lose(current, "unreadable", "the inference worker failed: a reply from it could not be read");
    });
  }

  function check() {
    watch = null;
    if (!worker || !pending.size) return;
    if (heard) {
      heard = false;
      silentChecks = 0;
    } else if (++silentChecks >= SILENT_CHECKS) {
      lose(worker, "silent", `the inference worker stopped answering (not a word for ${(CHECK_MS * SILENT_CHECKS) / 1000} s)`);
      return;
    } else {
      worker.postMessage({ type: PING, id: ++lastId });
    }
    watch = setTimeout(check, CHECK_MS);
  }

  /**
   * @template {keyof Requests} T
   * @param {T} type  a request type above
   * @param {Omit<Requests[T], "id">} payload  the request's fields but `id`
   * @param {ReplyHandlers} handlers  reply type -> handler
   * @param {Transferable[]} transfer
   * @returns {number} the request's id
   */
  function send(type, payload = /** @type {Omit<Requests[T], "id">} */ ({}), handlers = {}, transfer = []) {
    const id = ++lastId;
    if (LAST_REPLY[type] || failure) pending.set(id, { type, payload, handlers });
    if (failure) {
      queueMicrotask(() => deliver({ type: ERROR, id, message: failure, fatal: true }));
      return id;
    }
    if (!worker) start();
    worker.postMessage({ type, id, ...payload }, transfer);
    if (LAST_REPLY[type] && !watch) {
      heard = false;
      silentChecks = 0;
      watch = setTimeout(check, CHECK_MS);
    }
    return id;
  }

  const connection = { epoch: 0, send };
  start();
  return connection;
}
