// What the three harness pages share: the run's settings (/bench/config.json, written by
// tabtwin.bench.browser, and the query: ?model=ID&phase=first|reload), seconds since the page started,
// and one outcome the benchmark reads back: window.bench, a promise that settles once.

// performance.now() counts from the start of the navigation: the page's own load is included.
export const seconds = (ms = performance.now()) => ms / 1000;

let fail;
const failed = new Promise((_, reject) => { fail = reject; });
export const failWith = (message) => fail(new Error(message));
addEventListener("error", (event) => failWith(event.message));
addEventListener("unhandledrejection", (event) => failWith(String(event.reason?.message ?? event.reason)));

export async function settings() {
  const query = new URLSearchParams(location.search);
  const config = await (await fetch("/bench/config.json", { cache: "no-store" })).json();
  const id = query.get("model");
  const reload = query.get("phase") === "reload";
  return {
    config,
    id,
    model: config.models[id],
    // the reload only times the way to the first token: a short reply
    generations: reload ? 1 : config.generations,
    maxTokens: reload ? config.reload_tokens : config.max_tokens,
  };
}

export function publish(run) {
  const { timeout_s: limit } = Object.fromEntries(new URLSearchParams(location.search));
  const late = new Promise((_, reject) => setTimeout(() => reject(new Error(`no result after ${limit} s`)), limit * 1000));
  window.bench = Promise.race([run(), failed, late]).then(
    (result) => ({ ok: true, user_agent: navigator.userAgent, ...result }),
    (err) => ({ ok: false, error: String(err?.message ?? err) }),
  );
}
