// Scripted mode: answers without any model, from the persona's own content plus the
// router's apps. Always labelled as scripted, with a nudge to load a model.
import { APPS } from "./constants.js";
import { route } from "./router.js";

/** @type {Object<string, string>} */
const LINES = {
  projects: "Here are the things I've built.",
  books: "Here are books I've read and what I thought.",
  musings: "Here's what I've been writing.",
  talks: "Here are talks I've given.",
};

/**
 * @param {string} question
 * @param {{persona: string, short_bio?: string, email?: string}} site  chat.html's site data
 * @param {import("./router.js").AppsData} data
 */
export function scriptedAnswer(question, site, data) {
  const intent = route(question, data);
  const q = question.toLowerCase();
  let text;
  if (intent) text = LINES[intent.app] || `Here is what I have under ${intent.app}.`;
  else if (/\b(who are you|about you|yourself|your name)\b/.test(q)) text = site.short_bio || `I'm ${site.persona}.`;
  else if (/\b(contact|email|reach you|get in touch)\b/.test(q)) text = site.email ? `You can write to ${site.email}.` : "See the about page for how to reach me.";
  else if (/^\s*(hi|hello|hey)\b/.test(q)) text = `Hi! I'm the scripted stand-in for ${site.persona}'s twin.`;
  else text = `I can only answer a few questions in scripted mode — ask about my ${listing(APPS)}.`;
  return { text, tool: intent };
}

/**
 * "a, b or c"
 * @param {string[]} words
 */
function listing(words) {
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words.at(-1)}` : words.join("");
}
