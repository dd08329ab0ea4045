// Inline apps (constants.js APPS: projects, books, musings, talks), rendered under an answer from
// the site's own content (data/apps/*.json, written by the build). Text nodes only.
import { APPS } from "./constants.js";
import { safeHref } from "./markdown.js";

/**
 * One record of an app's data (data/apps/<app>.json: a project, book, musing or talk as the site's
 * content has it; site/content.py app_data writes it, and no schema describes it yet).
 * @typedef {Object<string, any>} AppItem
 */
/** @typedef {Object<string, any>} AppParams  the app's filters: {language, tag, author, slug, year, ...} */

/** @type {Map<string, Promise<AppItem[]>>} */
const cache = new Map();

/**
 * @param {string} root  the site's root
 * @param {string} app
 * @returns {Promise<AppItem[]>}
 */
export async function appData(root, app) {
  if (!cache.has(app)) {
    cache.set(app, fetch(`${root}data/apps/${app}.json`).then((r) => {
      if (!r.ok) throw new Error(`no data for the ${app} app (HTTP ${r.status})`);
      return r.json();
    }));
  }
  return cache.get(app);
}

/**
 * @param {string} tag
 * @param {Object<string, any>} [attrs]  className, data-* attributes, else element properties
 * @param {...any} children  nodes, text, lists of them; null and undefined left out
 * @returns {HTMLElement}
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "className") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else /** @type {any} */ (node)[key] = value;
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A link from the site's content (a project's or talk's url) to an http(s) page or this site; any
// other target (javascript:, data:) leaves the name as plain text.
/**
 * @param {string|undefined} url
 * @param {string} name
 */
function linkTo(url, name) {
  const href = url ? safeHref(url, location.href) : null;
  return href ? el("a", { href, target: "_blank", rel: "noopener" }, name) : name;
}

const lower = (/** @type {unknown} */ s) => String(s).toLowerCase();
/** @type {(list: unknown[]|undefined, value: unknown) => boolean} */
const has = (list, value) => (list || []).some((x) => lower(x) === lower(value));

/**
 * A filter bar of chips; `onPick(value|null)` re-renders the list.
 * @param {string[]} values
 * @param {string|null} active
 * @param {(value: string|null) => void} onPick
 */
function chips(values, active, onPick) {
  const bar = el("div", { className: "chips filter" });
  const all = el("button", { type: "button", className: active ? "chip" : "chip on" }, "all");
  all.addEventListener("click", () => onPick(null));
  bar.append(all);
  for (const value of values) {
    const b = el("button", { type: "button", className: lower(value) === lower(active || "") ? "chip on" : "chip" }, value);
    b.addEventListener("click", () => onPick(value));
    bar.append(b);
  }
  return bar;
}

/** @type {Object<string, (items: AppItem[], params: AppParams) => HTMLElement>} */
const renderers = {
  projects(items, params) {
    let language = params.language || null;
    const tag = params.tag || null;
    const box = el("div");
    const languages = [...new Set(items.flatMap((p) => p.languages || []))].sort();
    const draw = () => {
      const shown = items.filter((p) => (!language || has(p.languages, language)) && (!tag || has(p.tags, tag))
        && (!params.status || lower(p.status) === lower(params.status)));
      box.replaceChildren(...[
        chips(languages, language, (v) => { language = v; draw(); }),
        el("ul", { className: "app-list" }, shown.map((p) => el("li", { "data-id": p.id },
          linkTo(p.url, p.name), " ",
          el("small", {}, [p.year, (p.languages || []).join(", ")].filter(Boolean).join(" · ")),
          el("div", {}, p.description)))),
        shown.length ? null : el("p", {}, "No project matches."),
      ].filter(Boolean));
      box.dataset.count = String(shown.length);
    };
    draw();
    return box;
  },
  books(items, params) {
    const shown = items.filter((b) => (!params.tag || has(b.tags, params.tag))
      && (!params.author || lower(b.author).includes(lower(params.author))));
    const box = el("ul", { className: "app-list" }, shown.map((b) => el("li", {},
      el("strong", {}, b.title), ` — ${b.author}`, b.line ? el("div", {}, b.line) : null)));
    box.dataset.count = String(shown.length);
    return box;
  },
  musings(items, params) {
    const shown = items.filter((m) => (!params.tag || has(m.tags, params.tag)) && (!params.slug || m.slug === params.slug));
    const box = el("ul", { className: "app-list" }, shown.map((m) => {
      const body = el("div", { className: "musing-body", hidden: !params.slug }, m.paragraphs.map((/** @type {string} */ p) => el("p", {}, p)));
      const title = el("button", { type: "button", className: "link" }, m.title);
      title.addEventListener("click", () => { body.hidden = !body.hidden; });
      return el("li", { "data-slug": m.slug }, title, " ", el("small", {}, m.date), m.summary ? el("div", {}, m.summary) : null, body);
    }));
    box.dataset.count = String(shown.length);
    return box;
  },
  talks(items, params) {
    const shown = items.filter((t) => (!params.tag || has(t.tags, params.tag))
      && (!params.year || String(t.date).startsWith(String(params.year))));
    const box = el("ul", { className: "app-list" }, shown.map((t) => el("li", {},
      linkTo(t.url, t.title), " ",
      el("small", {}, `${t.event} · ${t.date}`), t.summary ? el("div", {}, t.summary) : null)));
    box.dataset.count = String(shown.length);
    return box;
  },
};

/** @type {Object<string, string>} */
const SOURCES = { model: " opened by the twin", router: " opened by the keyword router", scripted: " opened in scripted mode" };

// Why `app` cannot be opened here, or null when it can: this site has no such app, or the twin's
// tools (`allowed`) leave it out.
/**
 * @param {string} app
 * @param {string[]} allowed
 */
function refusal(app, allowed) {
  if (!APPS.includes(app) || !renderers[app]) return `The twin asked for a "${app}" app, which this site does not have.`;
  if (!allowed.includes(app)) {
    return `The twin asked for the "${app}" app, which it may not open (it may open: ${allowed.join(", ") || "none"}).`;
  }
  return null;
}

// A card for {app, params}; `source` says who opened it ("model", "router", "scripted"). What cannot
// be opened becomes a visible notice in its place (.app-notice), never nothing.
/**
 * @param {string} root  the site's root
 * @param {{app: string, params?: AppParams}} tool
 * @param {"model"|"router"|"scripted"} source
 * @param {string[]} [allowed]
 * @returns {Promise<HTMLElement>}
 */
export async function renderApp(root, { app, params = {} }, source, allowed = APPS) {
  const refused = refusal(app, allowed);
  if (refused) return el("p", { className: "app-notice", "data-app": app, "data-source": source }, refused);
  const card = el("section", { className: "app-card", "data-app": app, "data-source": source });
  card.dataset.params = JSON.stringify(params);
  const filters = Object.entries(params).map(([k, v]) => `${k}: ${v}`).join(", ");
  card.append(el("header", {}, el("strong", {}, app), filters ? ` (${filters})` : "",
    el("small", { className: "source" }, SOURCES[source] || "")));
  try {
    card.append(renderers[app](await appData(root, app), params));
  } catch (err) {
    card.append(el("p", { className: "error" }, String(err.message || err)));
  }
  return card;
}
