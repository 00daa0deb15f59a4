// The TV's player: OK on 播放 attaches the item's HLS stream with the site's own player module (the courses' stream
// helper: hls.js where Media Source Extensions exist, native HLS elsewhere) and plays it full screen. While it plays,
// OK pauses and resumes, left and right seek 10 s, Back closes the player (and the page's Back then goes up).
// A signed-in member's viewing counts on the study clock exactly as on the site (library/js/progress.js: active
// seconds while really playing, resume where they left off on any device, completion near the end). A course lesson
// opened from the course plays the next one by itself after a 5-second notice (OK: now; Back: stay).
const body = document.body;
const button = document.querySelector("[data-play]");
const player = document.querySelector(".tv-player");
const video = document.querySelector(".tv-video");
const notice = document.querySelector(".tv-next");
const BACK_KEYS = new Set(["Escape", "BrowserBack", "GoBack", "XF86Back", "Backspace"]);
const BACK_CODES = new Set([10009, 461]);
const NEXT_SECONDS = 5;
let detach = null;
let countdown = null;

// The tracker starts with the page (its GET brings the saved place); nothing when not signed in. The video's state
// is read as the site's player reads it (LighthouseProgress.mediaState, one definition).
const tracker = window.LighthouseProgress && body.dataset.itemId && button
  ? window.LighthouseProgress.start({
    itemId: body.dataset.itemId,
    getState: () => window.LighthouseProgress.mediaState(video),
  })
  : null;

async function startPosition() {
  if (body.dataset.start !== "") return Number(body.dataset.start) || 0;
  if (!tracker) return 0;
  // The saved place, if the server answers soon (a slow network must not hold the picture back).
  const saved = await Promise.race([tracker.catch(() => null), new Promise((done) => setTimeout(done, 3000))]);
  const at = saved && saved.started && !saved.completed ? Number(saved.position) || 0 : 0;
  return at > 1 ? at : 0;
}

async function play() {
  const { attachStream } = await import(body.dataset.streamSrc);
  player.hidden = false;
  body.dataset.playing = "1";
  video.poster = body.dataset.poster || "";
  if (detach) detach();
  const start = await startPosition();
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

function nextShow() {
  let left = NEXT_SECONDS;
  notice.hidden = false;
  notice.querySelector("[data-countdown]").textContent = String(left);
  countdown = setInterval(() => {
    left -= 1;
    notice.querySelector("[data-countdown]").textContent = String(Math.max(0, left));
    if (left <= 0) nextGo();
  }, 1000);
}

function nextGo() {
  clearInterval(countdown);
  window.location.assign(body.dataset.nextUrl);
}

function nextCancel() {
  clearInterval(countdown);
  countdown = null;
  notice.hidden = true;
  button?.focus();
}

function ended() {
  tracker?.flush(); // the completion reaches the server before the page changes
  stop();
  if (notice && body.dataset.nextUrl) nextShow();
}

video?.addEventListener("playing", () => { video.dataset.state = "playing"; });
video?.addEventListener("pause", () => { video.dataset.state = "paused"; });
video?.addEventListener("ended", ended);
button?.addEventListener("click", play);
if (button && body.dataset.autoplay === "1") play();

// Capture phase: the player's and the notice's keys never reach the spatial navigation or the page's Back.
document.addEventListener("keydown", (event) => {
  const back = BACK_KEYS.has(event.key) || BACK_CODES.has(event.keyCode);
  const ok = event.key === "Enter" || event.key === " ";
  if (countdown) {
    if (back) nextCancel();
    else if (ok) nextGo();
    else return;
  } else if (player.hidden) {
    return;
  } else if (back) stop();
  else if (ok) (video.paused ? video.play() : video.pause());
  else if (event.key === "ArrowLeft") video.currentTime = Math.max(0, video.currentTime - 10);
  else if (event.key === "ArrowRight") video.currentTime = Math.min(video.duration || Infinity, video.currentTime + 10);
  else return;
  event.preventDefault();
  event.stopPropagation();
}, true);
