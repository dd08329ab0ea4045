// Model bytes: from the Cache API when this device has them, else fetched shard
// by shard with progress, checked against the registry's sha256, then cached.
const CACHE_NAME = "tabtwin-models-v1";

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function fetchWithProgress(url, onChunk) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`network error while downloading ${url.split("/").pop()} (${err.message}); check the connection and retry`);
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
