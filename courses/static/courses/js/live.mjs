// The premiere "live": the first lesson plays from the point the broadcast has reached by the server's clock, so
// everyone watching sees the same moment (joining late joins in the middle).
import { serverNow, syncClock } from "./clock.mjs";
import { attachStream } from "./stream.mjs";

const box = document.querySelector("[data-live]");
if (box) {
  const video = box.querySelector("video");
  const button = box.querySelector("[data-live-start]");
  const status = box.querySelector("[data-live-status]");
  const start = Number(box.dataset.startMs);
  const duration = Number(box.dataset.duration);
  const clock = syncClock(box.dataset.timeUrl);

  const join = async () => {
    await clock;
    const at = (serverNow() - start) / 1000;
    if (at >= duration) {
      status.textContent = status.dataset.ended;
      return;
    }
    button.hidden = true;
    await attachStream(video, box.dataset.hls, {
      hlsSrc: box.dataset.hlsSrc,
      startAt: () => (serverNow() - start) / 1000,
    });
  };
  button.addEventListener("click", join);
}
