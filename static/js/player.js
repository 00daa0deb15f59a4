// Plays a library video: hls.js where Media Source Extensions exist, the browser's own HLS (Safari, iOS) elsewhere.
// The element's data-state ("loading", "playing", "error") lets people's tools and our browser tests see progress.
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var src = video.dataset.src;
  var resumeKey = "lh-resume-" + video.dataset.item;
  video.dataset.state = "loading";

  video.addEventListener("playing", function () { video.dataset.state = "playing"; });
  video.addEventListener("timeupdate", function () {
    if (video.currentTime > 1) localStorage.setItem(resumeKey, String(Math.floor(video.currentTime)));
  });
  video.addEventListener("loadedmetadata", function () {
    var saved = parseInt(localStorage.getItem(resumeKey) || "0", 10);
    if (saved > 0 && saved < video.duration - 5) video.currentTime = saved;
  });

  if (window.Hls && window.Hls.isSupported()) {
    var hls = new window.Hls({ capLevelToPlayerSize: true });
    hls.on(window.Hls.Events.ERROR, function (_event, data) {
      if (data.fatal) video.dataset.state = "error";
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src;
  } else {
    video.dataset.state = "error";
  }
})();
