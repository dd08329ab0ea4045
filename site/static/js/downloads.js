// Model bytes: from the Cache API when this device has them, else fetched shard
// by shard with progress, checked against the registry's sha256 and cached.
const CACHE_NAME = "tabtwin-models-v1";

// fetch() rejects a cross-origin download that the host does not allow (no CORS headers) with the
// same TypeError as a dropped connection. A second, opaque request tells them apart: it succeeds
// when the host answered but would not share the bytes with this site.
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

async function fetchOrExplain(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(await explainFailure(url, err));
  }
  if (!response.ok) throw new Error(`download failed: ${url} answered HTTP ${response.status}`);
  return response;
}

async function pump(body, onChunk) {
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    await onChunk(value);
  }
}

// models.json's URLs are relative to models.json (a cache key is an absolute path, a remote shard a
// full URL); the worker lives at another URL, so the page hands it every URL absolute.
/** @returns {import("./protocol.js").ModelEntry} */
export function resolveEntry(entry, registryUrl) {
  return {
    ...entry,
    cache_key: new URL(entry.cache_key, registryUrl).href,
    shards: entry.shards.map((shard) => ({ ...shard, url: new URL(shard.url, registryUrl).href })),
  };
}

// models.json "grounding" ({file, sha256, bytes, passages, embedder: a model entry | null}) as an entry
// loadModelInto fetches, verifies and caches like a one-shard model.
/** @returns {import("./protocol.js").GroundingEntry|null} */
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

export async function isCached(model) {
  const cache = await caches.open(CACHE_NAME);
  return Boolean(await cache.match(model.cache_key));
}

export async function removeCached(model) {
  const cache = await caches.open(CACHE_NAME);
  return cache.delete(model.cache_key);
}

// The file streams into `sink` (the core's ModelBytes: wasm memory the model then uses in place)
// and, on a download, into the Cache API at the same time; the worker never holds the whole file.
// A download is hashed on its way into the sink and kept only when its sha256 is the registry's.
/**
 * @param {import("./protocol.js").ModelEntry} model
 * @param {(total: number, hash: boolean) => {push(p: Uint8Array): void, received(): number, verify(s: string): void, free(): void}} makeSink
 */
export async function loadModelInto(model, makeSink, onProgress) {
  const cache = await caches.open(CACHE_NAME);
  const total = model.bytes;
  const hit = await cache.match(model.cache_key);
  if (hit) {
    const sink = makeSink(total, false);
    try {
      await pump(hit.body, (chunk) => {
        sink.push(chunk);
        onProgress({ phase: "cached", loaded: sink.received(), total });
      });
      if (sink.received() === total) return { sink, cached: true };
    } catch {
      // a damaged cached copy (wrong size): forget it and download again below
    }
    sink.free();
    await cache.delete(model.cache_key);
  }
  const sink = makeSink(total, true);
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  let notStored = null;
  const stored = cache
    .put(model.cache_key, new Response(readable, { headers: { "content-type": "application/octet-stream" } }))
    .catch((err) => { notStored = notStored || err; });
  const toCache = async (chunk) => {
    if (notStored) return;
    try {
      await writer.ready;
      writer.write(chunk).catch((err) => { notStored = notStored || err; });
    } catch (err) {
      notStored = notStored || err;  // a full quota must not cost the visitor the download
    }
  };
  try {
    let loaded = 0;
    for (const shard of model.shards) {
      await pump((await fetchOrExplain(shard.url)).body, async (chunk) => {
        sink.push(chunk);
        loaded += chunk.length;
        onProgress({ phase: "download", loaded, total });
        await toCache(chunk);
      });
    }
    onProgress({ phase: "verify", loaded, total });
    sink.verify(model.sha256);
  } catch (err) {
    await writer.abort(err).catch(() => {});
    await stored;
    await cache.delete(model.cache_key);
    sink.free();
    throw new Error(`${model.id}: ${err.message}`);
  }
  await writer.close().catch((err) => { notStored = notStored || err; });
  await stored;
  if (notStored) {
    await cache.delete(model.cache_key);
    onProgress({ phase: "not-cached", loaded: total, total, warning: `not stored on this device: ${notStored.message}` });
  }
  return { sink, cached: false };
}
