// Polls the asset's status while it is queued or transcoding, so the editor sees "转码中 45%" move.
(function () {
  const panel = document.querySelector("[data-media-status]");
  if (!panel || !panel.dataset.url) return;
  const text = panel.querySelector("#media-state");
  const bar = panel.querySelector("#media-progress");
  const busy = (state) => state === "pending" || state === "processing";
  async function poll() {
    try {
      const response = await fetch(panel.dataset.url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const status = await response.json();
      text.textContent = status.state_display;
      text.dataset.state = status.state;
      bar.value = Math.round(status.progress * 100);
      bar.hidden = !busy(status.state);
      if (busy(status.state)) setTimeout(poll, 3000);
    } catch (error) {
      setTimeout(poll, 10000); // a dropped connection: try again later, quietly
    }
  }
  if (busy(panel.dataset.state)) setTimeout(poll, 2000);
})();
