// The EPUB reader: foliate-js's <foliate-view> paginates the book; around it a table of contents, previous/next
// page and the shared A+/A- text size (item.js). Who may download the book or manages it (data-source="master")
// opens the whole .epub through its reading link; every other reader (data-source="parts") never gets the file:
// foliate-js's EPUB class reads the book through a loader that fetches each part (chapter, stylesheet, picture)
// from the item's parts URL when it is needed (library/epub_parts.py). The place in the book (an EPUB CFI) is saved through
// progress.js, so reading resumes there on any device. Chapters show in same-origin frames: the page's
// Content-Security-Policy keeps any script inside a book from running.
// root.dataset.state ("loading", "ready", "error") and dataset.chapter are for tools and tests.

import { whenNeeded } from "./reader-controls.mjs";

// foliate-js and the book's first chapter are fetched when the reader is needed (whenNeeded), not before.
const root = document.getElementById("epub-reader");
if (root) whenNeeded(root).then(() => start(root));

async function start(root) {
  const stage = root.querySelector(".epub-stage");
  const status = root.querySelector(".reader-status");
  const tocList = document.getElementById("epub-toc-list");
  const where = root.querySelector(".epub-where");
  const itemId = parseInt(root.dataset.item, 10);
  const largeType = document.documentElement.classList.contains("large-type");
  let location = { cfi: "", fraction: 0 };
  let lastActivity = Date.now();
  root.dataset.state = "loading";

  function say(text) { status.textContent = text; status.hidden = !text; }

  await import(root.dataset.viewJs); // defines <foliate-view>
  const view = document.createElement("foliate-view");
  stage.append(view);

  try {
    await view.open(root.dataset.source === "parts" ? await partsBook(root) : root.dataset.url);
  } catch (error) {
    try {
      // An expired signed URL: ask the item's read URL for a fresh one and try once more.
      if (root.dataset.source !== "master") throw error;
      const response = await fetch(root.dataset.readUrl);
      if (!response.ok) throw error;
      await view.open(new File([await response.blob()], "book.epub"));
    } catch (second) {
      console.error(second);
      root.dataset.state = "error";
      say(root.dataset.errorLabel);
      return;
    }
  }

  function styles() {
    const scale = (window.LighthouseTextSize ? window.LighthouseTextSize.get() : 1) * (largeType ? 1.5 : 1.2);
    return `html { font-size: ${Math.round(scale * 100)}% !important; }
      body { line-height: 1.8; }
      p, li, blockquote { font-size: 1em; }`;
  }
  view.renderer.setAttribute("flow", "paginated");
  view.renderer.setAttribute("max-column-count", "1");
  view.renderer.setAttribute("margin", "24px");
  view.renderer.setStyles?.(styles());
  document.addEventListener("lh:textsize", () => view.renderer.setStyles?.(styles()));

  view.addEventListener("load", (event) => {
    event.detail.doc.addEventListener("keydown", keys);
    say("");
  });
  view.addEventListener("relocate", (event) => {
    const { cfi, fraction, tocItem } = event.detail;
    location = { cfi: cfi || "", fraction: fraction || 0 };
    root.dataset.chapter = tocItem?.label || "";
    where.textContent = `${tocItem?.label ? tocItem.label + " · " : ""}${Math.round((fraction || 0) * 100)}%`;
    tocList.querySelectorAll("[aria-current]").forEach((node) => node.removeAttribute("aria-current"));
    if (tocItem?.href) tocList.querySelector(`[data-href="${CSS.escape(tocItem.href)}"]`)?.setAttribute("aria-current", "true");
  });

  buildToc(view.book.toc || [], tocList);
  tocList.closest("nav").hidden = !(view.book.toc || []).length;
  tocList.addEventListener("click", (event) => {
    const link = event.target.closest("[data-href]");
    if (!link) return;
    event.preventDefault();
    lastActivity = Date.now();
    view.goTo(link.dataset.href).catch((error) => console.error(error));
  });
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-epub]");
    if (!button) return;
    lastActivity = Date.now();
    if (button.dataset.epub === "prev") view.prev();
    if (button.dataset.epub === "next") view.next();
  });
  document.addEventListener("keydown", keys);
  function keys(event) {
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    if (event.key === "ArrowLeft" || event.key === "PageUp") { lastActivity = Date.now(); view.prev(); }
    if (event.key === "ArrowRight" || event.key === "PageDown") { lastActivity = Date.now(); view.next(); }
  }

  const saved = window.LighthouseProgress
    ? window.LighthouseProgress.start({
        itemId,
        getState: () => ({
          position: 0,
          locator: location.cfi,
          fraction: location.fraction,
          active: Date.now() - lastActivity < 120000,
          completed: location.fraction > 0.99,
        }),
      })
    : null;
  const progress = saved ? await Promise.resolve(saved).catch(() => null) : null;
  try {
    await view.init({ lastLocation: progress && progress.locator ? progress.locator : null, showTextStart: true });
  } catch (error) {
    await view.init({ showTextStart: true }); // a saved place from an older edition of the book
  }
  root.dataset.state = "ready"; // after init: until then a chapter chosen in the contents could be overridden
}

// The book as foliate-js's EPUB class sees it, read part by part from our server: the index names every member
// and its size (getSize); loadText and loadBlob fetch one member (null for a name the book does not have, as
// foliate's own zip loader answers).
async function partsBook(root) {
  const base = root.dataset.partsUrl;
  const response = await fetch(base, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`parts ${response.status}`);
  const sizes = new Map((await response.json()).members.map((member) => [member.name, member.size]));
  const member = async (name) => {
    if (!sizes.has(name)) return null;
    const part = await fetch(base + name.split("/").map(encodeURIComponent).join("/"), { credentials: "same-origin" });
    if (!part.ok) throw new Error(`part ${part.status}: ${name}`);
    return part;
  };
  const loader = {
    loadText: async (name) => { const part = await member(name); return part ? part.text() : null; },
    loadBlob: async (name, type) => {
      const part = await member(name);
      if (!part) return null;
      const blob = await part.blob();
      return type ? new Blob([blob], { type }) : blob;
    },
    getSize: (name) => sizes.get(name) ?? 0,
  };
  const { EPUB } = await import(root.dataset.epubJs);
  return new EPUB(loader).init();
}

function buildToc(items, list) {
  for (const item of items) {
    const entry = document.createElement("li");
    if (item.href) {
      const link = document.createElement("a");
      link.href = "#";
      link.dataset.href = item.href;
      link.textContent = item.label || "";
      entry.append(link);
    } else {
      entry.textContent = item.label || "";
    }
    if (item.subitems?.length) {
      const sub = document.createElement("ol");
      buildToc(item.subitems, sub);
      entry.append(sub);
    }
    list.append(entry);
  }
}
