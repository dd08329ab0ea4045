// Model bytes, shard by shard: from this device's Cache API when a shard is there, else fetched with
// progress. A downloaded shard is kept on the device only once its own sha256 is the registry's, so a
// download cut off midway resumes from the shards already verified; the whole file is checked against
// the registry's sha256 too, and nothing is used before every shard has arrived. One tab at a time
// downloads a model (Web Locks): another tab that wants it waits, then reads what the first one kept.
const CACHE_NAME = "tabtwin-models-v1";

/**
 * @typedef {import("./protocol.js").ModelEntry} ModelEntry
 * @typedef {import("./protocol.js").ProgressReply} ProgressReply
 * @typedef {(progress: Omit<ProgressReply, "id">) => void} OnProgress  what the worker posts, id added
 */

/**
 * Where a model's bytes go (the core's ModelBytes, worker.js newSink): pushed a shard at a time, each
 * shard's sha256 checked at its end (when hashing), the whole file's at the end.
 * @typedef {object} Sink
 * @property {(piece: Uint8Array) => void} push
 * @property {() => number} received  bytes pushed so far (a dropped shard's taken back)
 * @property {(sha256: string) => void} end_piece  throws when the shard just pushed is not that sha256
 * @property {(sha256: string) => void} verify  throws when the whole file is not that sha256
 * @property {() => void} free
 */

/** @typedef {(total: number, hashing: boolean) => Sink} MakeSink */

/**
 * One model's load in progress, as its steps share it.
 * @typedef {object} Loading
 * @property {ModelEntry} model
 * @property {Sink} sink
 * @property {boolean} hashing  some shard comes from the network: every shard's sha256 is checked
 * @property {Cache|null} cache  this device's storage for models; null when there is none
 * @property {Error|null} notStored  why the model is not kept on this device (null: it is)
 * @property {(phase: ProgressReply["phase"]) => void} report
 */

// fetch() rejects a cross-origin download that the host does not allow (no CORS headers) with the
// same TypeError as a dropped connection. A second, opaque request tells them apart: it succeeds
// when the host answered but would not share the bytes with this site.
/**
 * @param {string} url
 * @param {Error} err
 */
async function explainFailure(url, err) {
  const target = new URL(url, self.location.href);
  const name = target.pathname.split("/").pop();
  if (target.origin !== self.location.origin) {
    try {
      await fetch(target, { mode: "no-cors", cache: "no-store" });
      return `the model host does not allow downloads from this site (CORS): ${target.host} answered but ` +
             `sent no Access-Control-Allow-Origin header for ${name}; the site's author must serve the model ` +
             `from a host that allows cross-origin downloads`;
    } catch {
      // unreachable too: a network problem (or a host the page's Content-Security-Policy does not list)
    }
  }
  return `network error while downloading ${name} from ${target.host} (${err.message}); ` +
         `check the connection and retry`;
}

// A trap in the core (out of memory, say) is no verdict on the bytes: it passes through untouched, so
// that the worker sees it for what it is.
const isTrap = (/** @type {unknown} */ err) => err instanceof WebAssembly.RuntimeError;

// A read that failed: the connection (or the disk) broke off, as opposed to a chunk the caller refused.
class BrokenOff extends Error {}

// A stored shard that is not the registry's (cut short, or changed on disk): forgotten, then fetched.
class DamagedCopy extends Error {
  /**
   * @param {string} key  its Cache API key
   * @param {string} part  its name for the visitor (partName)
   */
  constructor(key, part) {
    super(`the copy of ${part} stored on this device is damaged; press Retry to download it again`);
    this.key = key;
  }
}

// Reads `body` to its end. A chunk that `onChunk` refuses (it throws) cancels the rest of the download.
/**
 * @param {ReadableStream<Uint8Array>} body
 * @param {(chunk: Uint8Array) => unknown} onChunk
 */
async function pump(body, onChunk) {
  const reader = body.getReader();
  try {
    for (;;) {
      let next;
      try {
        next = await reader.read();
      } catch (err) {
        throw new BrokenOff(err.message);
      }
      if (next.done) return;
      await onChunk(next.value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  }
}

// models.json's URLs are relative to models.json (a cache key is an absolute path, a remote shard a
// full URL); the worker lives at another URL, so the page hands it every URL absolute.
/**
 * @template {import("./protocol.js").ModelEntry} E
 * @param {E} entry  a models.json entry
 * @param {URL} registryUrl  where models.json is
 * @returns {E}
 */
export function resolveEntry(entry, registryUrl) {
  return {
    ...entry,
    cache_key: new URL(entry.cache_key, registryUrl).href,
    shards: entry.shards.map((shard) => ({ ...shard, url: new URL(shard.url, registryUrl).href })),
  };
}

// models.json "grounding" ({file, sha256, bytes, passages, embedder: a model entry | null}) as an entry
// loadModelInto fetches, verifies and caches like a one-shard model.
/**
 * @param {import("./protocol.js").ModelsJson["grounding"]} grounding
 * @param {URL} registryUrl  where models.json is
 * @returns {import("./protocol.js").GroundingEntry|null}
 */
export function groundingEntry(grounding, registryUrl) {
  if (!grounding) return null;
  const url = new URL(grounding.file, registryUrl).href;
  const { bytes, sha256 } = grounding;
  return {
    id: "the site's index of its pages",
    bytes,
    sha256,
    cache_key: url,
    shards: [{ url, bytes, sha256 }],
    embedder: grounding.embedder ? resolveEntry(grounding.embedder, registryUrl) : null,
  };
}

// A shard's own Cache API key: the model's, with the shard's index and sha256 (a rebuilt model's
// shards never meet an older build's).
/**
 * @param {ModelEntry} model
 * @param {number} index
 */
function shardKey(model, index) {
  const key = new URL(model.cache_key);
  key.searchParams.set("shard", String(index));
  key.searchParams.set("sha256", model.shards[index].sha256);
  return key.href;
}

// How the visitor hears of a shard: "part 2 of 5 (twin.gguf.part2)", or the file's name alone.
/**
 * @param {ModelEntry} model
 * @param {number} index
 */
function partName(model, index) {
  const name = new URL(model.shards[index].url).pathname.split("/").pop();
  return model.shards.length > 1 ? `part ${index + 1} of ${model.shards.length} (${name})` : name;
}

// This device's storage for models, or why there is none (a private window, site data blocked): a
// model then runs for the visit without being kept, and the page must not fail for it.
/** @returns {Promise<{cache: Cache|null, problem: Error|null}>} */
async function openStore() {
  try {
    if (!self.caches) throw new Error("this browser offers the site no Cache API");
    return { cache: await caches.open(CACHE_NAME), problem: null };
  } catch (err) {
    return { cache: null, problem: err };
  }
}

/** @type {(cache: Cache, model: ModelEntry) => Promise<(Response|undefined)[]>} */
const matchShards = (cache, model) => Promise.all(model.shards.map((_, index) => cache.match(shardKey(model, index))));

// On this device means every shard is (or the whole file, as an earlier version of this page kept
// it): a model partly downloaded is not.
/** @param {ModelEntry} model */
export async function isCached(model) {
  const { cache } = await openStore();
  if (!cache) return false;
  if (await cache.match(model.cache_key)) return true;
  return (await matchShards(cache, model)).every(Boolean);
}

/**
 * @param {Cache} cache
 * @param {ModelEntry} model
 */
async function deleteShards(cache, model) {
  const deleted = await Promise.all(model.shards.map((_, index) => cache.delete(shardKey(model, index))));
  return deleted.some(Boolean);
}

/** @param {ModelEntry} model */
export async function removeCached(model) {
  const { cache } = await openStore();
  if (!cache) return false;
  const whole = await cache.delete(model.cache_key);
  return (await deleteShards(cache, model)) || whole;
}

// A model kept whole by an earlier version of this page (one entry under its cache_key): still read,
// so a returning visitor does not download it again; a damaged one is forgotten (null).
/**
 * @param {Cache} cache
 * @param {ModelEntry} model
 * @param {MakeSink} makeSink
 * @param {OnProgress} onProgress
 */
async function readWholeFile(cache, model, makeSink, onProgress) {
  const hit = await cache.match(model.cache_key);
  if (!hit) return null;
  const sink = makeSink(model.bytes, false);
  try {
    await pump(hit.body, (chunk) => {
      sink.push(chunk);
      onProgress({ phase: "cached", loaded: sink.received(), total: model.bytes });
    });
    if (sink.received() === model.bytes) return { sink, cached: true };
  } catch (err) {
    if (isTrap(err)) throw err;
    // too long, or unreadable: forgotten below, and the model fetched shard by shard
  }
  sink.free();
  await cache.delete(model.cache_key);
  return null;
}

// What Retry will do, said after a failure that a second try can cure.
/**
 * @param {Loading} loading
 * @param {number} index  the shard that failed
 */
function retryHint(loading, index) {
  if (index === 0 || !loading.cache || loading.notStored) return "press Retry to try again";
  const before = index === 1 ? "the part before it is" : `the ${index} parts before it are`;
  return `${before} verified and kept on this device: press Retry to continue from part ${index + 1}`;
}

/** @type {(part: string, found: string, bytes: number) => string} */
const sizeMismatch = (part, found, bytes) =>
  `${part} is ${found}, but the site's models.json says ${bytes} bytes: the site's files do not match its ` +
  "list of models; reload the page to get the current list, and if this happens again tell the site's author";

/**
 * @param {Loading} loading
 * @param {number} index
 * @param {RequestCache} cacheMode
 */
async function fetchShard(loading, index, cacheMode) {
  const { url } = loading.model.shards[index];
  const part = partName(loading.model, index);
  let response;
  try {
    response = await fetch(url, { cache: cacheMode });
  } catch (err) {
    throw new Error(await explainFailure(url, err));
  }
  if (response.status === 404) {
    throw new Error(`${part} is not on the server (HTTP 404): the site has probably changed since this page ` +
                    "was opened; reload the page and start the model again");
  }
  if (!response.ok) {
    throw new Error(`the server could not send ${part} (HTTP ${response.status}), perhaps only for a moment; ` +
                    retryHint(loading, index));
  }
  return response;
}

// A same-origin answer's Content-Length is the shard's size unless it was compressed on the way; a
// cross-origin answer hides Content-Encoding, so there only the bytes counted as they come decide.
/**
 * @param {Response} response
 * @param {ModelEntry["shards"][number]} shard
 * @param {string} part
 */
function checkAnnouncedSize(response, shard, part) {
  const announced = response.headers.get("content-length");
  if (response.type !== "basic" || announced === null || response.headers.get("content-encoding")) return;
  if (Number(announced) !== shard.bytes) throw new Error(sizeMismatch(part, `${announced} bytes on the server`, shard.bytes));
}

// Where a downloaded shard goes on this device: written as it arrives, and stored only once verified
// (a Cache API entry whose body never completes is never stored). A full quota or failing storage
// must not cost the visitor the download: the failure is noted and the bytes still reach the sink.
/**
 * @typedef {object} PendingEntry
 * @property {(chunk: Uint8Array) => Promise<void>} write
 * @property {() => Promise<void>} keep  stored, unless storing failed (then loading.notStored says why)
 * @property {(reason: unknown) => Promise<void>} drop
 */

/**
 * @param {Loading} loading
 * @param {string} key
 * @returns {PendingEntry}
 */
function pendingEntry(loading, key) {
  if (!loading.cache || loading.notStored) return { write: async () => {}, keep: async () => {}, drop: async () => {} };
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  /** @type {Error|null} */
  let failure = null;
  const fail = (/** @type {Error} */ err) => { failure = failure || err; };
  const stored = loading.cache
    .put(key, new Response(readable, { headers: { "content-type": "application/octet-stream" } }))
    .catch(fail);
  return {
    async write(chunk) {
      if (failure) return;
      try {
        await writer.ready;  // the cache's pace: the download waits rather than queue the shard in memory
        writer.write(chunk).catch(fail);
      } catch (err) {
        fail(err);
      }
    },
    async keep() {
      await writer.close().catch(fail);
      await stored;
      if (failure) loading.notStored = loading.notStored || failure;
    },
    async drop(reason) {
      await writer.abort(reason).catch(() => {});
      await stored;
    },
  };
}

// One download of a shard into the sink (and the pending cache entry), its length checked as it comes.
/**
 * @param {Loading} loading
 * @param {number} index
 * @param {PendingEntry} entry
 * @param {RequestCache} cacheMode
 */
async function streamShard(loading, index, entry, cacheMode) {
  const shard = loading.model.shards[index];
  const part = partName(loading.model, index);
  const response = await fetchShard(loading, index, cacheMode);
  checkAnnouncedSize(response, shard, part);
  let received = 0;
  try {
    await pump(response.body, async (chunk) => {
      received += chunk.length;
      if (received > shard.bytes) throw new Error(sizeMismatch(part, "longer on the server", shard.bytes));
      loading.sink.push(chunk);
      loading.report("download");
      await entry.write(chunk);
    });
  } catch (err) {
    if (!(err instanceof BrokenOff)) throw err;
    throw new Error(`the connection broke off during ${part} after ${received} of its ${shard.bytes} bytes ` +
                    `(${err.message}); ${retryHint(loading, index)}`);
  }
  if (received < shard.bytes) {
    throw new Error(`${part} ended after ${received} of its ${shard.bytes} bytes: the download was cut short, ` +
                    `or the site's copy does not match its models.json; ${retryHint(loading, index)}`);
  }
}

// The sink's verdict on the shard just pushed: null when kept, else why it was dropped.
/**
 * @param {Sink} sink
 * @param {string} sha256
 */
function endPiece(sink, sha256) {
  try {
    sink.end_piece(sha256);
    return null;
  } catch (err) {
    if (isTrap(err)) throw err;
    return String(err && err.message ? err.message : err);
  }
}

// A shard from the network: kept on this device once its sha256 is the registry's. A wrong one is
// fetched once more, past the browser's HTTP cache (a proxy or a cache may have kept bad bytes);
// wrong twice, the load stops, and Retry starts again from this shard.
/**
 * @param {Loading} loading
 * @param {number} index
 */
async function downloadShard(loading, index) {
  const shard = loading.model.shards[index];
  for (let attempt = 1; ; attempt += 1) {
    const entry = pendingEntry(loading, shardKey(loading.model, index));
    try {
      await streamShard(loading, index, entry, attempt === 1 ? "default" : "reload");
    } catch (err) {
      await entry.drop(err);
      throw err;
    }
    const mismatch = endPiece(loading.sink, shard.sha256);
    if (!mismatch) return entry.keep();
    await entry.drop(new Error(mismatch));
    loading.report("download");  // the bar steps back by the dropped shard
    if (attempt === 2) {
      throw new Error(`${partName(loading.model, index)} arrived damaged twice (${mismatch}); ${retryHint(loading, index)}; ` +
                      "if it keeps failing, the site's copy is damaged: tell the site's author");
    }
  }
}

// A shard from this device into the sink. While the sink hashes (some shard is downloaded), the
// stored copy is checked against its sha256 for free; it was checked before it was stored anyway.
/**
 * @param {Loading} loading
 * @param {number} index
 * @param {Response} response  its stored copy
 */
async function readStoredShard(loading, index, response) {
  const shard = loading.model.shards[index];
  let received = 0;
  try {
    await pump(response.body, (chunk) => {
      received += chunk.length;
      if (received > shard.bytes) throw new Error("longer than the shard");
      loading.sink.push(chunk);
      loading.report("cached");
    });
    if (received !== shard.bytes) throw new Error("shorter than the shard");
    if (loading.hashing && endPiece(loading.sink, shard.sha256)) throw new Error("not the shard's sha256");
  } catch (err) {
    if (isTrap(err)) throw err;
    throw new DamagedCopy(shardKey(loading.model, index), partName(loading.model, index));
  }
}

// Every shard matched its own sha256; the whole file must match the registry's too, or the registry
// contradicts itself: nothing of the model is kept, so that a retry starts clean.
/** @param {Loading} loading */
async function verifyWhole(loading) {
  loading.report("verify");
  try {
    loading.sink.verify(loading.model.sha256);
  } catch (err) {
    if (loading.cache) await deleteShards(loading.cache, loading.model);
    throw err;
  }
}

// Why the model was not kept, for the visitor: it runs for this visit all the same.
/** @param {Error} err */
function notStoredNote(err) {
  const quota = err && err.name === "QuotaExceededError";
  const why = quota ? "the browser's storage for this site is full"
    : `this browser gives the site no storage for models (${err && err.message ? err.message : err}), as in a ` +
      "private window or with site data blocked";
  return `It was not kept for next time: ${why}, so it will be downloaded again on your next visit` +
         (quota ? "; removing another model from this device makes room." : ".");
}

// The shards, in order, each from this device or the network, into one sink.
/**
 * @param {ModelEntry} model
 * @param {MakeSink} makeSink
 * @param {OnProgress} onProgress
 * @param {Awaited<ReturnType<typeof openStore>>} store
 */
async function assemble(model, makeSink, onProgress, store) {
  const stored = store.cache ? await matchShards(store.cache, model) : model.shards.map(() => /** @type {null} */ (null));
  const hashing = !stored.every(Boolean);  // the device's copies were verified when they were stored
  const sink = makeSink(model.bytes, hashing);
  /** @type {Loading} */
  const loading = {
    model, sink, hashing, cache: store.cache, notStored: store.problem,
    report: (phase) => onProgress({ phase, loaded: sink.received(), total: model.bytes }),
  };
  try {
    for (const [index, response] of stored.entries()) {
      if (response) await readStoredShard(loading, index, response);
      else await downloadShard(loading, index);
    }
    if (hashing) await verifyWhole(loading);
  } catch (err) {
    sink.free();
    throw err;
  }
  if (loading.notStored) {
    // shards that cannot make a whole model on this device would only take up its room
    if (loading.cache) await deleteShards(loading.cache, model).catch(() => {});
    onProgress({ phase: "not-cached", loaded: model.bytes, total: model.bytes, warning: notStoredNote(loading.notStored) });
  }
  return { sink, cached: !hashing };
}

/**
 * @param {ModelEntry} model
 * @param {MakeSink} makeSink
 * @param {OnProgress} onProgress
 */
async function loadShards(model, makeSink, onProgress) {
  const store = await openStore();
  const whole = store.cache && (await readWholeFile(store.cache, model, makeSink, onProgress));
  if (whole) return whole;
  for (let forgotten = 0; ; forgotten += 1) {
    try {
      return await assemble(model, makeSink, onProgress, store);
    } catch (err) {
      // each pass forgets one damaged stored shard, which the next pass downloads and verifies
      if (!(err instanceof DamagedCopy) || forgotten >= model.shards.length) throw err;
      await store.cache.delete(err.key);
    }
  }
}

// One tab at a time downloads a model: a second tab that asks for it meanwhile waits (and says so),
// then finds the shards the first one kept. Without Web Locks (an insecure origin) each tab goes alone.
/**
 * @template T
 * @param {ModelEntry} model
 * @param {OnProgress} onProgress
 * @param {() => Promise<T>} load
 * @returns {Promise<T>}
 */
async function oneTabAtATime(model, onProgress, load) {
  const locks = self.navigator && self.navigator.locks;
  if (!locks) return load();
  const name = `tabtwin-download ${model.cache_key}`;
  const ran = await locks.request(name, { ifAvailable: true }, async (lock) => (lock ? { result: await load() } : null));
  if (ran) return ran.result;
  onProgress({ phase: "waiting", loaded: 0, total: model.bytes, note: "another tab is downloading this model…" });
  return locks.request(name, load);
}

// The file streams into `sink` (the core's ModelBytes: wasm memory the model then uses in place) and,
// on a download, into the Cache API shard by shard; the worker never holds the whole file, nor a
// whole shard, in JS. A model whose bytes do not all arrive and verify is never handed on.
/**
 * @template {Sink} S
 * @param {ModelEntry} model
 * @param {(total: number, hashing: boolean) => S} makeSink
 * @param {OnProgress} onProgress
 * @returns {Promise<{sink: S, cached: boolean}>}  the sink makeSink made, holding the whole file
 */
export async function loadModelInto(model, makeSink, onProgress) {
  try {
    return /** @type {{sink: S, cached: boolean}} */ (
      await oneTabAtATime(model, onProgress, () => loadShards(model, makeSink, onProgress)));
  } catch (err) {
    throw new Error(`${model.id}: ${err.message}`, { cause: err });
  }
}
