// Model bytes: from the Cache API when this device has them, else fetched shard
// by shard with progress, checked against the registry's sha256, then cached.
const CACHE_NAME = "tabtwin-models-v1";

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

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

async function fetchWithProgress(url, onChunk) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(await explainFailure(url, err));
  }
  if (!response.ok) throw new Error(`download failed: ${url} answered HTTP ${response.status}`);
  const reader = response.body.getReader();
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    onChunk(value.length);
  }
  return new Blob(chunks);
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

export async function isCached(model) {
  const cache = await caches.open(CACHE_NAME);
  return Boolean(await cache.match(model.cache_key));
}

export async function removeCached(model) {
  const cache = await caches.open(CACHE_NAME);
  return cache.delete(model.cache_key);
}

export async function loadModelBytes(model, onProgress) {
  const cache = await caches.open(CACHE_NAME);
  const hit = await cache.match(model.cache_key);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    onProgress({ phase: "cached", loaded: bytes.length, total: bytes.length });
    return { bytes, cached: true };
  }
  let loaded = 0;
  const total = model.bytes;
  const parts = [];
  for (const shard of model.shards) {
    parts.push(await fetchWithProgress(shard.url, (n) => {
      loaded += n;
      onProgress({ phase: "download", loaded, total });
    }));
  }
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
  onProgress({ phase: "verify", loaded: bytes.length, total });
  const actual = await sha256Hex(bytes);
  if (actual !== model.sha256) {
    throw new Error(`integrity check failed for ${model.id}: sha256 ${actual.slice(0, 12)}… ` +
                    `is not the registry's ${model.sha256.slice(0, 12)}…; nothing was kept, try again`);
  }
  try {
    await cache.put(model.cache_key, new Response(bytes, { headers: { "content-type": "application/octet-stream" } }));
  } catch (err) {
    // A full quota must not cost the visitor the download they just made: run uncached.
    onProgress({ phase: "not-cached", loaded: bytes.length, total, warning: `not stored on this device: ${err.message}` });
  }
  return { bytes, cached: false };
}
