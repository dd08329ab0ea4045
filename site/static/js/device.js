// Honest downloads: before a model is fetched, what it costs and what this device can take. Its size,
// that it is fetched once and kept; the storage this site may still use (navigator.storage.estimate());
// the memory the browser reports (navigator.deviceMemory, GB, coarse and absent outside Chromium); a
// data saver or metered connection (navigator.connection). A model that will not fit gets a plain
// warning and the largest smaller model that fits is offered instead.

// The model lives in the tab's memory as well as in storage; past this share of the reported memory a
// tab is likely to be killed mid-answer.
const MEMORY_SHARE = 0.5;
// Storage needs a little more than the file: the Cache API's own records, and the index beside it.
const STORAGE_MARGIN = 1.05;

export const formatBytes = (/** @type {number} */ bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`);

/**
 * What Chromium's navigator tells beyond the standard's (TypeScript's DOM types lack both).
 * @typedef {{deviceMemory?: number, connection?: {saveData?: boolean, metered?: boolean, type?: string}}} NavigatorHints
 */

/** What this device says about itself; null where the browser does not say. */
export async function deviceRoom() {
  let free = null;
  try {
    const { quota, usage } = await navigator.storage.estimate();
    if (Number.isFinite(quota)) free = Math.max(quota - (usage || 0), 0);
  } catch {
    // no StorageManager (an old browser, an insecure origin): nothing to say about storage
  }
  const hints = /** @type {NavigatorHints} */ (navigator);
  const connection = hints.connection || {};
  return {
    free,
    memory: hints.deviceMemory ? hints.deviceMemory * 1e9 : null,
    limitedData: Boolean(connection.saveData || connection.metered || connection.type === "cellular"),
  };
}

/** @typedef {Awaited<ReturnType<typeof deviceRoom>>} Room */
/** @typedef {(model: {bytes: number}, room: Room) => boolean} Fits */

/** @type {Fits} */
const fitsStorage = (model, room) => room.free === null || room.free >= model.bytes * STORAGE_MARGIN;
/** @type {Fits} */
const fitsMemory = (model, room) => room.memory === null || model.bytes <= room.memory * MEMORY_SHARE;

/**
 * A model of models.json, as the page holds it.
 * @typedef {import("./protocol.js").ChatModel} ChatModel
 */

/**
 * What to tell the visitor before a download: facts, warnings, and a smaller model that fits (or null).
 * @typedef {{lines: string[], warnings: string[], smaller: ChatModel|null}} DownloadFacts
 */

/**
 * {lines, warnings, smaller}: what to tell the visitor before `model` is downloaded.
 * @param {ChatModel} model
 * @param {ChatModel[]} models
 * @param {Room} room
 * @param {boolean} cached
 * @returns {DownloadFacts}
 */
export function downloadFacts(model, models, room, cached) {
  if (cached) return { lines: [`${model.label} is on this device already: it starts without a download.`], warnings: [], smaller: null };
  const lines = [`${formatBytes(model.bytes)} download, once: the model is then kept on this device for your next visits.`];
  // (Chromium reports usage + a fixed 10 GiB here, whatever the disk holds: an upper bound.)
  if (room.free !== null) lines.push(`Your browser lets this site store about ${formatBytes(room.free)} more.`);
  const warnings = [];
  if (!fitsStorage(model, room)) {
    warnings.push(`It will not fit: this browser leaves this site about ${formatBytes(room.free)} of storage, and the model needs ${formatBytes(model.bytes)}. It would run this once and be downloaded again next time.`);
  }
  if (!fitsMemory(model, room)) {
    warnings.push(`This device reports ${formatBytes(room.memory)} of memory: a ${formatBytes(model.bytes)} model may not run, or may close the tab.`);
  }
  if (room.limitedData) warnings.push(`Your browser says data is limited (data saver or a mobile connection): this is ${formatBytes(model.bytes)}.`);
  return { lines, warnings, smaller: warnings.length ? smallerModel(model, models, room) : null };
}

/**
 * The largest model smaller than `model` that this device can take; null when there is none.
 * @param {ChatModel} model
 * @param {ChatModel[]} models
 * @param {Room} room
 * @returns {ChatModel|null}
 */
export function smallerModel(model, models, room) {
  return models.filter((m) => m.bytes < model.bytes && fitsStorage(m, room) && fitsMemory(m, room))
    .sort((a, b) => b.bytes - a.bytes)[0] || null;
}

/**
 * Show the facts in `container`; `onPick(model)` when the visitor takes the smaller model offered.
 * @param {HTMLElement} container
 * @param {DownloadFacts} facts
 * @param {(model: ChatModel) => void} onPick
 */
export function showDownloadFacts(container, { lines, warnings, smaller }, onPick) {
  const paragraph = (/** @type {string} */ text, className = "") => {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  };
  container.replaceChildren(...lines.map((line) => paragraph(line)), ...warnings.map((w) => paragraph(w, "warning")));
  if (smaller) {
    const offer = paragraph("");
    const button = document.createElement("button");
    button.type = "button";
    button.id = "pick-smaller";
    button.textContent = `Use ${smaller.label} (${formatBytes(smaller.bytes)}) instead`;
    button.addEventListener("click", () => onPick(smaller));
    offer.append(button);
    container.append(offer);
  }
  container.dataset.warnings = String(warnings.length);
}

/** Ask the browser not to evict the model under storage pressure; whether it agreed. */
export async function keepOnDevice() {
  try {
    return Boolean(await navigator.storage?.persist?.());
  } catch {
    return false;
  }
}

/**
 * "about 2 min left" from bytes so far, the total and the seconds it took.
 * @param {number} bytes
 * @param {number} total
 * @param {number} seconds
 */
export function timeLeft(bytes, total, seconds) {
  if (!bytes || bytes >= total || seconds < 1) return "";
  const left = ((total - bytes) / bytes) * seconds;
  if (left < 60) return `about ${Math.max(5, Math.round(left / 5) * 5)} s left`;
  return `about ${Math.round(left / 60)} min left`;
}
