// The deterministic keyword router: when an answer carries no TOOL event, open the
// app the question plainly asks for. Same input, same output; no model involved.

const INTENTS = [
  { app: "projects", pattern: /\b(projects?|built|build(ing)?|working on|repos?|repositor(y|ies)|open[- ]source|tools? you|code)\b/i },
  { app: "books", pattern: /\b(books?|read(ing)?|novels?|authors?|library)\b/i },
  { app: "musings", pattern: /\b(musings?|essays?|blog|posts?|articles?|writ(e|es|ing|ten)|newsletter)\b/i },
  { app: "talks", pattern: /\b(talks?|conferences?|spoke|speak(ing)?|presentations?|meetups?)\b/i },
];

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// Words in the question that name a value present in the app's data (a language, a tag).
function findParam(question, values, key) {
  for (const value of values) {
    const re = new RegExp(`(^|[^\\w+#])${escapeRegExp(value)}($|[^\\w+#])`, "i");
    if (re.test(question)) return { [key]: value };
  }
  return {};
}

// -> {app, params} or null. `data` maps app name -> its items (for parameter words).
export function route(question, data = {}) {
  const intent = INTENTS.find(({ pattern }) => pattern.test(question));
  if (!intent) return null;
  const items = data[intent.app] || [];
  const distinct = (field) => [...new Set(items.flatMap((item) => item[field] || []))];
  let params = {};
  if (intent.app === "projects") {
    params = { ...findParam(question, distinct("languages"), "language") };
    if (!params.language) params = findParam(question, distinct("tags"), "tag");
  } else {
    params = findParam(question, distinct("tags"), "tag");
  }
  return { app: intent.app, params };
}

export const APPS = INTENTS.map((i) => i.app);
