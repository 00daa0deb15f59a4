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
    hls.on(window.Hls.Events.MANIFEST_PARSED, function () { qualityMenu(hls); });
    hls.on(window.Hls.Events.LEVEL_SWITCHED, function (_event, data) { video.dataset.level = String(data.level); });
    hls.loadSource(src);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src;
  } else {
    video.dataset.state = "error";
  }

  // A quality menu for people on weak or metered networks: "自动" lets hls.js choose; a rung (or the
  // audio-only rung, which saves most data) stays chosen until changed.
  function qualityMenu(hls) {
    var select = document.getElementById("quality");
    if (!select || hls.levels.length < 2) return;
    select.add(new Option(select.dataset.autoLabel, "-1"));
    hls.levels.forEach(function (level, index) {
      var label = level.height ? level.height + "p" : select.dataset.audioLabel;
      select.add(new Option(label, String(index)));
    });
    select.value = "-1";
    select.addEventListener("change", function () {
      hls.currentLevel = parseInt(select.value, 10); // switches now, at the next segment boundary
    });
    select.closest(".player-controls").hidden = false;
  }
})();
