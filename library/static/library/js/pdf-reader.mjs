// The PDF reader (e-books, periodical issues) for who may have the whole file: the download right, or an editor of
// the item (data-source="master"; everyone else reads page images, page-reader.mjs). pdf.js reads the master file
// with HTTP range requests, so the first page shows after a few small requests however big the book is, and a page is fetched only when turned
// to. Chinese PDFs that rely on the reader's fonts (STSong-Light and friends) need pdf.js's CMaps.
// The master's URL is a reading link (signed, inline, never cached) that expires within minutes; when it has, the
// reader asks the item's read URL for a fresh one and carries on at the same page. root.dataset.state ("loading", "rendered", "error") is for tools and tests.

import { bindPageControls, clampZoom, keepZoom, savedZoom, whenNeeded } from "./reader-controls.mjs";

const root = document.getElementById("pdf-reader");
// pdf.js (about 450 KB compressed with its worker) is fetched when the reader is needed and the member has touched or
// scrolled the page (whenNeeded), not before; until then the status line says how to start it.
if (root && root.dataset.source === "master") {
  const status = root.querySelector(".reader-status");
  const opening = status.textContent;
  if (root.dataset.startLabel) status.textContent = root.dataset.startLabel;
  whenNeeded(root, { afterGesture: true }).then(() => {
    status.textContent = opening;
    start(root);
  });
}

async function start(root) {
  const canvas = root.querySelector("canvas");
  const stage = root.querySelector(".pdf-stage");
  const status = root.querySelector(".reader-status");
  const pageInput = root.querySelector("input[name=page]");
  const pageCount = root.querySelector(".page-count");
  const itemId = parseInt(root.dataset.item, 10);
  const zoomKey = "lh-pdf-zoom";
  let url = root.dataset.url;
  let pdf = null, pageNumber = 1, renderTask = null, refreshing = false;
  let zoom = savedZoom(zoomKey);
  let lastActivity = Date.now();
  root.dataset.state = "loading";

  const pdfjs = await import(root.dataset.pdfjs);
  pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.worker;

  function say(text) { status.textContent = text; status.hidden = !text; }

  async function open() {
    const task = pdfjs.getDocument({
      url,
      // Ranges, not the whole file: no streaming of the rest, no fetching ahead (weak and metered networks).
      disableStream: true,
      disableAutoFetch: true,
      rangeChunkSize: 65536,
      cMapUrl: root.dataset.cmaps,
      cMapPacked: true,
      standardFontDataUrl: root.dataset.fonts,
      wasmUrl: root.dataset.wasm,
      iccUrl: root.dataset.iccs,
    });
    pdf = await task.promise;
    pageCount.textContent = String(pdf.numPages);
    pageInput.max = String(pdf.numPages);
  }

  // A signed URL that expired answers 403/404: sign a fresh one through the item's read URL, once per failure.
  // Reading links last minutes, not hours (they are not downloads), so a long read renews them many times.
  async function withFreshUrl(action) {
    try {
      return await action();
    } catch (error) {
      if (refreshing || !root.dataset.readUrl) throw error;
      refreshing = true;
      try {
        const response = await fetch(root.dataset.readUrl, { headers: { Range: "bytes=0-0" } });
        if (!response.ok) throw error;
        url = response.url;
        if (pdf) await pdf.destroy();
        pdf = null;
        await open();
        return await action();
      } finally {
        refreshing = false;
      }
    }
  }

  async function render() {
    const number = pageNumber;
    const page = await pdf.getPage(number);
    const fit = Math.max(stage.clientWidth - 2, 200) / page.getViewport({ scale: 1 }).width;
    const viewport = page.getViewport({ scale: fit * zoom });
    const ratio = window.devicePixelRatio || 1;
    if (renderTask) renderTask.cancel();
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = Math.floor(viewport.width) + "px";
    canvas.style.height = Math.floor(viewport.height) + "px";
    renderTask = page.render({
      canvasContext: canvas.getContext("2d"),
      viewport,
      transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0],
    });
    try {
      await renderTask.promise;
    } catch (error) {
      if (error && error.name === "RenderingCancelledException") return;
      throw error;
    }
    root.dataset.page = String(number);
    root.dataset.state = "rendered";
    canvas.setAttribute("aria-label", root.dataset.pageLabel.replace("%s", String(number)));
    say("");
  }

  async function show(number) {
    if (!pdf) return;
    pageNumber = Math.min(pdf.numPages, Math.max(1, number || 1));
    pageInput.value = String(pageNumber);
    lastActivity = Date.now();
    try {
      await withFreshUrl(render);
    } catch (error) {
      failed(error);
    }
  }

  function failed(error) {
    console.error(error);
    root.dataset.state = "error";
    say(root.dataset.errorLabel);
  }

  bindPageControls({
    root,
    pageInput,
    show,
    current: () => pageNumber,
    last: () => pdf ? pdf.numPages : 0,
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

  // Resume at the page the member reached (on any device), and report reading while they turn pages.
  const saved = window.LighthouseProgress
    ? window.LighthouseProgress.start({
        itemId,
        getState: () => ({
          position: pageNumber,
          locator: "",
          fraction: pdf ? pageNumber / pdf.numPages : 0,
          active: Date.now() - lastActivity < 120000,
          completed: !!pdf && pageNumber >= pdf.numPages,
        }),
      })
    : null;

  try {
    await withFreshUrl(open);
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
}
