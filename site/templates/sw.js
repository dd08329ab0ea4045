// Service worker: keeps the app shell so a returning visitor can open the site
// offline. Models are not handled here: they live in the Cache API already
// (static/js/downloads.js), verified, and are never fetched twice.
const VERSION = {{ version | tojson }};
const SHELL_CACHE = `tabtwin-shell-${VERSION}`;
const SHELL = {{ shell | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("tabtwin-shell-") && k !== SHELL_CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.includes("/models/")) return;
  const isPage = event.request.mode === "navigate";
  // Pages and JSON (the registry, app data) change between builds: network first.
  const networkFirst = isPage || url.pathname.endsWith(".json");
  event.respondWith((async () => {
    const cache = await caches.open(SHELL_CACHE);
    const cached = await cache.match(event.request, { ignoreSearch: isPage });
    if (cached && !networkFirst) return cached;  // hashed or versioned assets: the cache is right
    try {
      const response = await fetch(event.request);
      if (response.ok) cache.put(event.request, response.clone());
      return response;
    } catch (err) {
      if (cached) return cached;
      if (isPage) return (await cache.match("404.html")) || Response.error();
      throw err;
    }
  })());
});
