// One answer on screen: a "Thinking…" line while the model reads the question (the first token can
// take seconds on a phone), then the words as Markdown (markdown.js builds DOM nodes, never HTML), and
// once it ends the actions under it: copy, and regenerate for the last answer of a model.
import { renderMarkdown } from "./markdown.js";

/** @param {HTMLElement} answer */
export function showThinking(answer) {
  const line = document.createElement("span");
  line.className = "typing";
  line.textContent = "Thinking";
  answer.replaceChildren(line);
  answer.dataset.state = "thinking";
  answer.setAttribute("aria-busy", "true");
}

/**
 * Show the answer's text so far (or, with `done`, all of it; a reply with no words shows none).
 * @param {HTMLElement} answer
 * @param {string} text
 * @param {string} base  the site's URL: what "this site" is to the answer's links
 * @param {boolean} [done]
 */
export function showAnswer(answer, text, base, done = false) {
  if (text || done) renderMarkdown(answer, text, base);
  answer.dataset.state = done ? "done" : "streaming";
  if (done) answer.removeAttribute("aria-busy");
}

// The visible word is the button's name (what a voice-control user says); the title says more.
/**
 * @param {string} label
 * @param {string} title
 * @param {() => void} onClick
 */
function actionButton(label, title, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.title = title;
  button.addEventListener("click", onClick);
  return button;
}

// The model's own words, Markdown marks included, as a reader would paste them elsewhere.
/**
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} answer
 * @param {string} text
 */
async function copy(button, answer, text) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    // no clipboard access (an insecure origin, a denied permission): select it for Ctrl+C instead
    getSelection().selectAllChildren(answer);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2500);
}

/**
 * The actions row for a finished answer; `onRegenerate` null for an answer that cannot be redone.
 * @param {HTMLElement} answer
 * @param {string} text
 * @param {(() => void)|null} onRegenerate
 */
export function answerActions(answer, text, onRegenerate) {
  const row = document.createElement("div");
  row.className = "turn-actions";
  const copyButton = actionButton("Copy", "Copy this answer", () => copy(copyButton, answer, text));
  row.append(copyButton);
  if (onRegenerate) row.append(actionButton("Regenerate", "Answer this question again", onRegenerate));
  return row;
}
