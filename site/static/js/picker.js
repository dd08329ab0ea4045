// The model picker: one card per registry entry, with size, architecture, whether
// this device already has it, and whether it can open apps.
import { isCached } from "./downloads.js";

const mb = (/** @type {number} */ bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

/**
 * @param {HTMLElement} container
 * @param {import("./protocol.js").ChatModel[]} models  models.json's, URLs resolved
 * @param {string} [selectedId]
 */
export async function renderPicker(container, models, selectedId) {
  container.replaceChildren();
  for (const model of models) {
    const label = document.createElement("label");
    label.className = "model-card";
    label.dataset.id = model.id;
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "model";
    radio.value = model.id;
    radio.checked = model.id === selectedId;
    const title = document.createElement("strong");
    title.textContent = model.label;
    const facts = document.createElement("small");
    const params = model.parameters ? `${(model.parameters / 1e6).toFixed(0)}M params` : "";
    facts.textContent = [mb(model.bytes), model.architecture, params, model.quantization].filter(Boolean).join(" · ");
    const description = document.createElement("span");
    description.className = "description";
    description.textContent = model.description || "";
    const badges = document.createElement("span");
    badges.className = "badges";
    if (model.apps) badges.append(badge("opens apps", "apps"));
    if (await isCached(model)) badges.append(badge("on this device", "cached"));
    label.append(radio, title, facts, description, badges);
    container.append(label);
  }
}

/**
 * @param {string} text
 * @param {string} kind
 */
function badge(text, kind) {
  const span = document.createElement("span");
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}

/** @param {HTMLElement} container */
export function selectedModelId(container) {
  return /** @type {HTMLInputElement|null} */ (container.querySelector("input[name=model]:checked"))?.value;
}

// Once a model runs the picker folds into one line ("Ada · SmolLM2 135M twin · on this device ·
// change") and the conversation gets the room; "change" opens it again, Escape folds it back.
const byId = (/** @type {string} */ id) => document.getElementById(id);

/** @param {string} label  the running model's */
export function foldPicker(label) {
  byId("picker-current").textContent = `${label} · on this device`;
  byId("picker-line").hidden = false;
  byId("picker-body").hidden = true;
  byId("picker").classList.add("folded");
  byId("change-model").setAttribute("aria-expanded", "false");
}

export function unfoldPicker() {
  byId("picker-body").hidden = false;
  byId("picker").classList.remove("folded");
  byId("change-model").setAttribute("aria-expanded", "true");
  /** @type {HTMLInputElement|null} */ (byId("models").querySelector("input:checked"))?.focus();
}
