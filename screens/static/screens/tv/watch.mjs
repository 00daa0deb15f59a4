// The TV's player: OK on 播放 attaches the item's HLS stream with the site's own player module (the courses' stream
// helper: hls.js where Media Source Extensions exist, native HLS elsewhere) and plays it full screen. While it plays,
// OK pauses and resumes, left and right seek 10 s, Back closes the player (and the page's Back then goes up).
const body = document.body;
const button = document.querySelector("[data-play]");
const player = document.querySelector(".tv-player");
const video = document.querySelector(".tv-video");
const BACK_KEYS = new Set(["Escape", "BrowserBack", "GoBack", "XF86Back", "Backspace"]);
const BACK_CODES = new Set([10009, 461]);
let detach = null;

async function play() {
  const { attachStream } = await import(body.dataset.streamSrc);
  player.hidden = false;
  body.dataset.playing = "1";
  video.poster = body.dataset.poster || "";
  if (detach) detach();
  const start = Number(body.dataset.start) || 0;
  detach = await attachStream(video, body.dataset.hls, { hlsSrc: body.dataset.hlsSrc, startAt: () => start });
  video.focus();
}

function stop() {
  video.pause();
  if (detach) { detach(); detach = null; }
  player.hidden = true;
  delete body.dataset.playing;
  button?.focus();
}

video?.addEventListener("playing", () => { video.dataset.state = "playing"; });
video?.addEventListener("pause", () => { video.dataset.state = "paused"; });
video?.addEventListener("ended", stop);
button?.addEventListener("click", play);

// Capture phase: the player's keys never reach the spatial navigation or the page's Back.
document.addEventListener("keydown", (event) => {
  if (player.hidden) return;
  const back = BACK_KEYS.has(event.key) || BACK_CODES.has(event.keyCode);
  if (back) stop();
  else if (event.key === "Enter" || event.key === " ") (video.paused ? video.play() : video.pause());
  else if (event.key === "ArrowLeft") video.currentTime = Math.max(0, video.currentTime - 10);
  else if (event.key === "ArrowRight") video.currentTime = Math.min(video.duration || Infinity, video.currentTime + 10);
  else return;
  event.preventDefault();
  event.stopPropagation();
}, true);
