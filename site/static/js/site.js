// Every page: mark the current page in the navigation, and register the service worker that keeps the
// app shell for offline visits.
for (const link of /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll(".site-header nav a"))) {
  if (new URL(link.href).pathname === location.pathname) link.setAttribute("aria-current", "page");
}

if ("serviceWorker" in navigator) {
  const root = document.body.dataset.root || "./";
  navigator.serviceWorker.register(`${root}sw.js`, { scope: root }).catch(() => {
    // No service worker (private mode, file://): the site still works online.
  });
}
