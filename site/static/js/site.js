// Every page: register the service worker that keeps the app shell for offline visits.
if ("serviceWorker" in navigator) {
  const root = document.body.dataset.root || "./";
  navigator.serviceWorker.register(`${root}sw.js`, { scope: root }).catch(() => {
    // No service worker (private mode, file://): the site still works online.
  });
}
