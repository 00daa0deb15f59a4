// TV mode: lessons in order, full screen, driven by a remote (arrows, OK/Enter, Back); the check-in code in the
// corner is fetched again every 30 s (each code lives 90 s), with the number checked in so far.
import { attachStream } from "./stream.mjs";

const body = document.body;
const lessons = [...document.querySelectorAll(".tv-lesson")];
const player = document.querySelector(".tv-player");
const video = document.querySelector(".tv-video");
const BACK_KEYS = new Set(["Escape", "Backspace", "BrowserBack", "GoBack", "XF86Back"]);
const BACK_CODES = new Set([10009, 461]); // Samsung Tizen, LG webOS remotes' Back
let current = -1;
let detach = null;

async function play(index) {
  const button = lessons[index];
  if (!button || !button.dataset.hls) return false;
  current = index;
  player.hidden = false;
  video.poster = button.dataset.poster || "";
  if (detach) { detach(); detach = null; }
  detach = await attachStream(video, button.dataset.hls, { hlsSrc: body.dataset.hlsSrc });
  video.focus();
  return true;
}

function stop() {
  video.pause();
  if (detach) { detach(); detach = null; }
  player.hidden = true;
  (lessons[current] || lessons[0])?.focus();
}

function move(step) {
  const at = Math.max(0, lessons.indexOf(document.activeElement));
  lessons[Math.min(lessons.length - 1, Math.max(0, at + step))]?.focus();
}

video.addEventListener("ended", async () => {
  // In order: the next lesson that plays on a TV starts by itself.
  for (let next = current + 1; next < lessons.length; next++) if (await play(next)) return;
  stop();
});

lessons.forEach((button, index) => button.addEventListener("click", () => play(index)));

document.addEventListener("keydown", (event) => {
  const back = BACK_KEYS.has(event.key) || BACK_CODES.has(event.keyCode);
  if (!player.hidden) {
    if (back) { event.preventDefault(); stop(); }
    return;
  }
  if (back) { event.preventDefault(); window.location.href = body.dataset.backUrl; }
  else if (event.key === "ArrowDown" || event.key === "ArrowRight") { event.preventDefault(); move(1); }
  else if (event.key === "ArrowUp" || event.key === "ArrowLeft") { event.preventDefault(); move(-1); }
});

async function refreshCode() {
  try {
    const response = await fetch(body.dataset.codeUrl, { credentials: "same-origin", cache: "no-store" });
    if (response.ok) {
      const data = await response.json();
      document.querySelector("[data-qr]").innerHTML = data.svg;
      document.querySelector("[data-present]").textContent = data.present;
      setTimeout(refreshCode, Math.max(5, data.refresh_in) * 1000);
      return;
    }
  } catch (error) { /* offline for a moment: the shown code stays valid 90 s; try again soon */ }
  setTimeout(refreshCode, 10000);
}
setTimeout(refreshCode, 5000);
(lessons[0] || document.body).focus();
// The remote works from here on (the first lesson is focused by `autofocus` before this module has run).
body.dataset.tvReady = "1";
