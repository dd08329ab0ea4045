// Suggestion chips: questions the build gathered from the author's own material (python/tabtwin/site/
// suggestions.py), shown on an empty conversation. A few at random, from different sources, and never
// the same few twice in a row: the last few are remembered for the visit (sessionStorage), so a reload
// or "New chat" shows others.
const SHOWN = 4;
const LAST_SHOWN_KEY = "tabtwin.suggestions.last";

/**
 * A question the build gathered, and the part of the site it comes from.
 * @typedef {{q: string, source: string}} Suggestion
 */

/**
 * @template T
 * @param {T[]} list
 * @returns {T[]}
 */
function shuffled(list) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** `count` questions of `all` ([{q, source}]), one source after another so that they vary, and not
 * the same set as `previous` (a list of questions) when `all` has others.
 * @param {Suggestion[]} all
 * @param {string[]} [previous]
 * @param {number} [count]
 * @returns {string[]}
 */
export function pickSuggestions(all, previous = [], count = SHOWN) {
  /** @type {Map<string, string[]>} */
  const bySource = new Map();
  for (const { q, source } of shuffled(all)) bySource.set(source, [...(bySource.get(source) || []), q]);
  const queues = [...bySource.values()];
  const picked = [];
  while (picked.length < count && queues.some((queue) => queue.length)) {
    for (const queue of queues) if (queue.length && picked.length < count) picked.push(queue.shift());
  }
  const same = picked.length === previous.length && picked.every((q) => previous.includes(q));
  const unseen = all.map(({ q }) => q).filter((q) => !previous.includes(q));
  if (same && unseen.length) picked[picked.length - 1] = unseen[Math.floor(Math.random() * unseen.length)];
  return shuffled(picked);
}

/** @returns {string[]} */
function lastShown() {
  try {
    return JSON.parse(sessionStorage.getItem(LAST_SHOWN_KEY)) || [];
  } catch {
    return [];  // no storage for this page (a sandboxed frame): chips still vary within the page
  }
}

/** @type {string[]} */
let shownHere = [];

/**
 * Fill `container` with a fresh few chips; `onPick(question)` when one is chosen.
 * @param {HTMLElement} container
 * @param {Suggestion[]} all
 * @param {(question: string) => void} onPick
 */
export function showSuggestions(container, all, onPick) {
  const questions = pickSuggestions(all, shownHere.length ? shownHere : lastShown());
  shownHere = questions;
  try {
    sessionStorage.setItem(LAST_SHOWN_KEY, JSON.stringify(questions));
  } catch {
    // as above
  }
  container.replaceChildren(...questions.map((question) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "suggestion";
    chip.textContent = question;
    chip.addEventListener("click", () => onPick(question));
    return chip;
  }));
  container.hidden = questions.length === 0;
}
