// The PDF page reader for members who may read a document but not download it (data-source="pages"): the master
// never reaches them; they see the page images the media pipeline made (several widths each), one page at a time.
// The item's pages URL answers 20 pages at a time with signed URLs that expire within about an hour; a page whose
// URL has expired (or that was never fetched) is asked for again. The browser picks the width from srcset for the
// shown size and the screen's pixel density, so A+ (zoom) brings the sharper image. Page turning, go to page, the
// outline, keyboard (←/→, PageUp/PageDown, Home/End) and the saved place (progress.js) work as in pdf-reader.mjs;
// large type (大字模式) starts zoomed in. root.dataset.state ("loading", "rendered", "error") and dataset.page are
// for tools and tests.

import { bindPageControls, clampZoom, keepZoom, savedZoom, whenNeeded } from "./reader-controls.mjs";

const BATCH = 20;
const URL_LIFETIME_MS = 40 * 60 * 1000; // under the signed URLs' hour: ask again before they run out

const root = document.getElementById("pdf-reader");
// The first page image is fetched when the reader is needed (whenNeeded), not with the first screen.
if (root && root.dataset.source === "pages" && root.dataset.pagesUrl) whenNeeded(root).then(() => start(root));

function start(root) {
  const stage = root.querySelector(".pdf-stage");
  const image = root.querySelector("img.page-image");
  const status = root.querySelector(".reader-status");
  const pageInput = root.querySelector("input[name=page]");
  const pageCount = root.querySelector(".page-count");
  const itemId = parseInt(root.dataset.item, 10);
  const zoomKey = "lh-pdf-zoom";
  const largeType = document.documentElement.classList.contains("large-type");
  const pages = new Map(); // number -> {entry, fetchedAt}
  let total = parseInt(root.dataset.pageCount, 10) || 0;
  let pageNumber = 1, shown = 0, retried = 0, lastActivity = Date.now(), engaged = false;
  let zoom = savedZoom(zoomKey, largeType ? 1.5 : 1);
  root.dataset.state = "loading";
  Object.assign(image.style, { display: "block", margin: "0 auto", maxWidth: "none", background: "#fff" });

  function say(text) { status.textContent = text; status.hidden = !text; }

  async function batch(number) {
    const first = Math.floor((number - 1) / BATCH) * BATCH + 1;
    const response = await fetch(`${root.dataset.pagesUrl}?start=${first}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`pages ${response.status}`);
    const data = await response.json();
    total = data.page_count;
    pageCount.textContent = String(total);
    pageInput.max = String(total);
    const now = Date.now();
    for (const entry of data.pages) pages.set(entry.number, { entry, fetchedAt: now });
  }

  async function entryOf(number, fresh = false) {
    const known = pages.get(number);
    if (!fresh && known && Date.now() - known.fetchedAt < URL_LIFETIME_MS) return known.entry;
    await batch(number);
    const found = pages.get(number);
    if (!found) throw new Error(`no page ${number}`);
    return found.entry;
  }

  function widthFor(entry) {
    const fit = Math.max(stage.clientWidth - 2, 200);
    return Math.round(Math.min(fit * zoom, (entry.width || fit) * 2));
  }

  function place(target, entry) {
    const width = widthFor(entry);
    target.srcset = entry.images.map((size) => `${size.url} ${size.width}w`).join(", ");
    target.sizes = `${width}px`;
    target.src = entry.images.length ? entry.images[entry.images.length - 1].url : "";
    if (target === image) {
      image.style.width = `${width}px`;
      image.style.height = entry.width && entry.height ? `${Math.round((width * entry.height) / entry.width)}px` : "auto";
    }
  }

  async function show(number, fresh = false) {
    if (!total) return;
    pageNumber = Math.min(total, Math.max(1, number || 1));
    pageInput.value = String(pageNumber);
    lastActivity = Date.now();
    try {
      const entry = await entryOf(pageNumber, fresh);
      if (entry.number !== pageNumber) return; // a newer turn went past this one
      shown = pageNumber;
      image.alt = root.dataset.pageLabel.replace("%s", String(pageNumber));
      place(image, entry);
      if (image.complete && image.naturalWidth) rendered();
      if (engaged || pageNumber > 1) prefetch(pageNumber + 1);
    } catch (error) {
      failed(error);
    }
  }

  function rendered() {
    retried = 0;
    root.dataset.page = String(shown);
    root.dataset.state = "rendered";
    say("");
  }

  // The next page downloads while this one is read, so turning is instant on a slow network; on the first page only
  // once the member touches the reader (a metered phone does not pay for a page nobody turns to).
  function engage() {
    if (engaged) return;
    engaged = true;
    if (shown) prefetch(shown + 1);
  }
  for (const name of ["pointerdown", "keydown", "focusin"]) root.addEventListener(name, engage);

  async function prefetch(number) {
    if (number > total) return;
    try {
      const entry = await entryOf(number);
      place(new Image(), entry);
    } catch (error) { /* the turn itself will try again */ }
  }

  function failed(error) {
    console.error(error);
    root.dataset.state = "error";
    say(root.dataset.errorLabel);
  }

  image.addEventListener("load", () => { if (shown === pageNumber) rendered(); });
  // An expired or refused signed URL: ask for this page's URLs again, once, before giving up.
  image.addEventListener("error", () => {
    if (!image.getAttribute("src")) return;
    if (retried++ < 1) show(pageNumber, true);
    else failed(new Error(`page ${pageNumber} did not load`));
  });

  bindPageControls({
    root,
    pageInput,
    show,
    current: () => pageNumber,
    last: () => total,
    zoomBy(delta) {
      zoom = clampZoom(zoom + delta);
      keepZoom(zoomKey, zoom);
      show(pageNumber);
    },
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => show(pageNumber), 250);
  });

  const saved = window.LighthouseProgress
    ? window.LighthouseProgress.start({
        itemId,
        getState: () => ({
          position: pageNumber,
          locator: "",
          fraction: total ? pageNumber / total : 0,
          active: Date.now() - lastActivity < 120000,
          completed: !!total && pageNumber >= total,
        }),
      })
    : null;

  (async () => {
    try {
      await batch(1);
    } catch (error) {
      failed(error);
      return;
    }
    let first = parseInt((location.hash.match(/^#page=(\d+)$/) || [])[1] || "0", 10);
    if (!first && saved) {
      const progress = await Promise.resolve(saved).catch(() => null);
      first = progress && !progress.completed ? Math.round(progress.position) : 1;
    }
    await show(first || 1);
  })();
}
