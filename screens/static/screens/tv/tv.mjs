// The TV's pages on a remote: the spatial-navigation polyfill (loaded before this module) moves focus with the
// arrow keys; OK/Enter opens what has focus (links and buttons do that themselves); Back goes up a level. The
// on-screen keyboard of the search page types into its field. When all is wired, <body data-ready> says so.
const body = document.body;
const BACK_KEYS = new Set(["Escape", "BrowserBack", "GoBack", "XF86Back", "Backspace"]);
const BACK_CODES = new Set([10009, 461]); // Samsung Tizen, LG webOS remotes' Back

function isTyping(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement;
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented) return; // the player handled it
  const back = BACK_KEYS.has(event.key) || BACK_CODES.has(event.keyCode);
  if (!back) return;
  // Backspace in a field deletes a character; Back from a field leaves it first.
  if (event.key === "Backspace" && isTyping(event.target)) return;
  if (body.dataset.backUrl) {
    event.preventDefault();
    window.location.href = body.dataset.backUrl;
  }
});

// A focused element scrolled into view, rows sideways included (the polyfill moves focus, not the page).
document.addEventListener("focusin", (event) => {
  if (event.target instanceof Element) event.target.scrollIntoView({ block: "nearest", inline: "nearest" });
});

// The search page's on-screen keyboard: letters and digits type, 删除 deletes, 清空 clears.
const field = document.querySelector("[data-search] input");
if (field) {
  document.querySelectorAll("[data-key]").forEach((key) =>
    key.addEventListener("click", () => { field.value += key.dataset.key; }));
  document.querySelector("[data-key-delete]")?.addEventListener("click", () => { field.value = field.value.slice(0, -1); });
  document.querySelector("[data-key-clear]")?.addEventListener("click", () => { field.value = ""; });
}

const first = document.querySelector("[data-first]") || document.querySelector("a[href], button, [tabindex='0']");
first?.focus();
body.dataset.ready = "1";
