// Scripted mode: answers without any model, from the persona's own content plus the
// router's apps. Always labelled as scripted, with a nudge to load a model.
import { route } from "./router.js";

const LINES = {
  projects: "Here are the things I've built.",
  books: "Here are books I've read and what I thought.",
  musings: "Here's what I've been writing.",
  talks: "Here are talks I've given.",
};

export function scriptedAnswer(question, site, data) {
  const intent = route(question, data);
  const q = question.toLowerCase();
  let text;
  if (intent) text = LINES[intent.app];
  else if (/\b(who are you|about you|yourself|your name)\b/.test(q)) text = site.short_bio || `I'm ${site.persona}.`;
  else if (/\b(contact|email|reach you|get in touch)\b/.test(q)) text = site.email ? `You can write to ${site.email}.` : "See the about page for how to reach me.";
  else if (/^\s*(hi|hello|hey)\b/.test(q)) text = `Hi! I'm the scripted stand-in for ${site.persona}'s twin.`;
  else text = "I can only answer a few questions in scripted mode — ask about my projects, books, musings or talks.";
  return { text, tool: intent };
}
