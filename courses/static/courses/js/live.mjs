// The premiere "live": the first lesson plays from the point the broadcast has reached by the server's clock, so
// everyone watching sees the same moment (joining late joins in the middle). hls.js only where HLS is not native.
import { serverNow, syncClock } from "./clock.mjs";

const box = document.querySelector("[data-live]");
if (box) {
  const video = box.querySelector("video");
  const button = box.querySelector("[data-live-start]");
  const status = box.querySelector("[data-live-status]");
  const start = Number(box.dataset.startMs);
  const duration = Number(box.dataset.duration);
  const clock = syncClock(box.dataset.timeUrl);

  const attach = async () => {
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = box.dataset.hls;
      return;
    }
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = box.dataset.hlsSrc;
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    const hls = new window.Hls();
    hls.loadSource(box.dataset.hls);
    hls.attachMedia(video);
  };

  const join = async () => {
    await clock;
    const at = (serverNow() - start) / 1000;
    if (at >= duration) {
      status.textContent = status.dataset.ended;
      return;
    }
    button.hidden = true;
    await attach();
    const seek = () => { video.currentTime = Math.max(0, (serverNow() - start) / 1000); video.play().catch(() => {}); };
    if (video.readyState >= 1) seek(); else video.addEventListener("loadedmetadata", seek, { once: true });
  };
  button.addEventListener("click", join);
}
