// The composer's toggles (send what I say at once, speak replies, answer from the site's pages) are
// remembered for this visit only: sessionStorage ends with the tab, like the conversation, which
// nothing keeps at all.
const KEY = "tabtwin.toggles";

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
}

/**
 * Restore each checkbox's state from this visit and keep it as it changes.
 * @param {HTMLInputElement[]} checkboxes
 */
export function rememberForTheVisit(checkboxes) {
  const states = saved();
  for (const box of checkboxes) {
    if (typeof states[box.id] === "boolean") box.checked = states[box.id];
    box.addEventListener("change", () => {
      const now = { ...saved(), [box.id]: box.checked };
      try {
        sessionStorage.setItem(KEY, JSON.stringify(now));
      } catch {
        // no storage for this page: the toggle still works, it is just not remembered
      }
    });
  }
}
