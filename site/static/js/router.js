// The deterministic keyword router: when an answer carries no tool event, open the
// app the question plainly asks for. Same input, same output; no model involved.
import { APPS } from "./constants.js";

/**
 * The app a question asks for, and the words of it that name a value of the app's data.
 * @typedef {{app: string, params: Object<string, string>}} Route
 */
/**
 * app -> its items (data/apps/<app>.json), records of the site's content.
 * @typedef {Object<string, Object<string, any>[]>} AppsData
 */

// The words that ask for each app; the apps come from constants.js, first match wins in its order.
/** @type {Object<string, RegExp>} */
const KEYWORDS = {
  projects: /\b(projects?|built|build(ing)?|working on|repos?|repositor(y|ies)|open[- ]source|tools? you|code)\b/i,
  books: /\b(books?|read(ing)?|novels?|authors?|library)\b/i,
  musings: /\b(musings?|essays?|blog|posts?|articles?|writ(e|es|ing|ten)|newsletter)\b/i,
  talks: /\b(talks?|conferences?|spoke|speak(ing)?|presentations?|meetups?)\b/i,
};

const escapeRegExp = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Words in the question that name a value present in the app's data (a language, a tag).
 * @param {string} question
 * @param {string[]} values
 * @param {string} key
 * @returns {Object<string, string>}
 */
function findParam(question, values, key) {
  for (const value of values) {
    const re = new RegExp(`(^|[^\\w+#])${escapeRegExp(value)}($|[^\\w+#])`, "i");
    if (re.test(question)) return { [key]: value };
  }
  return {};
}

/**
 * -> {app, params} or null. `data` maps app name -> its items (for parameter words).
 * @param {string} question
 * @param {AppsData} [data]
 * @returns {Route|null}
 */
export function route(question, data = {}) {
  const app = APPS.find((name) => KEYWORDS[name]?.test(question));
  if (!app) return null;
  const items = data[app] || [];
  const distinct = (/** @type {string} */ field) => [...new Set(items.flatMap((item) => item[field] || []))];
  /** @type {Object<string, string>} */
  let params = {};
  if (app === "projects") {
    params = { ...findParam(question, distinct("languages"), "language") };
    if (!params.language) params = findParam(question, distinct("tags"), "tag");
  } else {
    params = findParam(question, distinct("tags"), "tag");
  }
  return { app, params };
}
