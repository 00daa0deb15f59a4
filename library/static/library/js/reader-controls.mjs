// The page controls both PDF readers share (pdf.js on the master for who may download it, page images for
// everyone else): previous/next and A+/A- zoom buttons ([data-pdf]), the outline's page links
// ([data-goto-page]), the page box, and the keyboard (←/→, PageUp/PageDown, Home/End). The reader keeps its own
// state: it says which page is shown and how many there are, turns pages, and changes its zoom.

export function bindPageControls({ root, pageInput, show, current, last, zoomBy }) {
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-pdf]");
    if (!button) return;
    const action = button.dataset.pdf;
    if (action === "prev") show(current() - 1);
    if (action === "next") show(current() + 1);
    if (action === "zoom-in") zoomBy(0.25);
    if (action === "zoom-out") zoomBy(-0.25);
  });
  // The outline (目录) beside the reader: its links name pages.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-goto-page]");
    if (!link) return;
    event.preventDefault();
    show(parseInt(link.dataset.gotoPage, 10));
    root.scrollIntoView({ block: "start" });
  });
  pageInput.addEventListener("change", () => show(parseInt(pageInput.value, 10)));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === "ArrowLeft" || event.key === "PageUp") show(current() - 1);
    if (event.key === "ArrowRight" || event.key === "PageDown") show(current() + 1);
    if (event.key === "Home") show(1);
    if (event.key === "End" && last()) show(last());
  });
}

// A zoom kept between visits (localStorage; private browsing keeps none), between 0.5 and 4.
export function savedZoom(key, fallback = 1) {
  try {
    return clampZoom(parseFloat(localStorage.getItem(key) || String(fallback)) || fallback);
  } catch (e) {
    return fallback;
  }
}

export function keepZoom(key, zoom) {
  try { localStorage.setItem(key, String(zoom)); } catch (e) { /* private mode */ }
}

export function clampZoom(zoom) {
  return Math.min(4, Math.max(0.5, zoom));
}

// Resolves when the reader is needed: it has come within half a screen of being seen, or the member acts on it (a
// button, the page box, a link to a page). Until then the page costs no reader library and no page image: on a phone
// the cover, title and 文字版 come first, and a weak network gives them its whole bandwidth. With afterGesture (pdf.js,
// about 450 KB), being near the screen is not enough by itself: the member must also have touched, scrolled or typed
// on the page, so merely opening it on a phone never downloads the library.
export function whenNeeded(root, { afterGesture = false } = {}) {
  return new Promise((resolve) => {
    if (!("IntersectionObserver" in window) || /[#&]page=/.test(location.hash)) return resolve();
    let near = false, gestured = !afterGesture;
    const observer = new IntersectionObserver((entries) => {
      near = entries.some((entry) => entry.isIntersecting);
      if (near && gestured) done();
    }, { rootMargin: "0px 0px 50% 0px" });
    const gestures = ["scroll", "wheel", "pointerdown", "keydown", "touchstart"];
    function gesture() {
      gestured = true;
      if (near) done();
    }
    function done() {
      observer.disconnect();
      root.removeEventListener("focusin", done);
      root.removeEventListener("pointerdown", done);
      window.removeEventListener("hashchange", toPage);
      for (const name of gestures) window.removeEventListener(name, gesture);
      resolve();
    }
    function toPage() { if (/[#&]page=/.test(location.hash)) done(); } // the outline's links (目录)
    observer.observe(root);
    root.addEventListener("focusin", done);
    root.addEventListener("pointerdown", done);
    window.addEventListener("hashchange", toPage);
    if (afterGesture) for (const name of gestures) window.addEventListener(name, gesture, { passive: true });
  });
}
