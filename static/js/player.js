// Plays a library video: hls.js where Media Source Extensions exist, the browser's own HLS (Safari, iOS) elsewhere.
// hls.js (about 150 KB with brotli) is fetched only when the member starts the video (the play button, a tap on the
// poster, or a script calling play()): until then the page shows the poster and costs no more than a picture, which
// on a weak network keeps the first screen light (bench/bench_page_bytes.py). The video keeps its play() request
// pending while the library arrives, so one tap plays.
// The element's data-state ("idle", "loading", "playing", "error") lets people's tools and our browser tests see
// progress. Around it: a quality menu, an audio-track menu (a master with several languages), captions on/off (the HLS master's subtitle track), playback speed, resume
// where the member stopped (on any device through progress.js when signed in, else on this device), and the next
// episode.
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var src = video.dataset.src;
  var itemId = parseInt(video.dataset.item, 10);
  var resumeKey = "lh-resume-" + video.dataset.item;
  var hls = null;
  var started = false;
  video.dataset.state = "idle";

  video.addEventListener("playing", function () { video.dataset.state = "playing"; });
  // Chrome's controls do nothing on a video without a source yet: a tap on the poster or the controls (click), Enter
  // or Space on the focused video (TV remotes, keyboards) or any play() starts it.
  video.addEventListener("play", start);
  video.addEventListener("click", start);
  video.addEventListener("keydown", function (event) {
    if (!started && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      start();
    }
  });

  function start() {
    if (started) return;
    started = true;
    video.dataset.state = "loading";
    var mediaSource = window.MediaSource || window.ManagedMediaSource;
    if (mediaSource && (window.Hls || video.dataset.hlsJs)) {
      loadHls().then(attachHls, function () { video.dataset.state = "error"; });
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      video.textTracks.addEventListener("addtrack", captionsToggle);
      if (video.audioTracks) video.audioTracks.addEventListener("addtrack", audioMenu);
      video.play().catch(function () { /* the member presses play again */ });
    } else {
      video.dataset.state = "error";
    }
  }

  function loadHls() {
    if (window.Hls) return Promise.resolve(window.Hls);
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = video.dataset.hlsJs;
      script.onload = function () { resolve(window.Hls); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function attachHls(Hls) {
    if (!Hls || !Hls.isSupported()) {
      video.dataset.state = "error";
      return;
    }
    hls = new Hls({ capLevelToPlayerSize: true, subtitleDisplay: false });
    hls.on(Hls.Events.ERROR, function (_event, data) {
      if (data.fatal) video.dataset.state = "error";
    });
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      qualityMenu(hls);
      video.play().catch(function () { /* the member presses play again */ });
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, function () { captionsToggle(); });
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, function () { audioMenu(); });
    hls.on(Hls.Events.LEVEL_SWITCHED, function (_event, data) { video.dataset.level = String(data.level); });
    hls.loadSource(src);
    hls.attachMedia(video);
  }

  function show(id) {
    var control = document.getElementById(id);
    if (control) control.closest(".control").hidden = false;
    var bar = video.closest(".player").querySelector(".player-controls");
    if (bar) bar.hidden = false;
    return control;
  }

  // A quality menu for people on weak or metered networks: "自动" lets hls.js choose; a rung (or the
  // audio-only rung, which saves most data) stays chosen until changed.
  function qualityMenu(hls) {
    var select = document.getElementById("quality");
    if (!select || hls.levels.length < 2 || select.options.length) return;
    select.add(new Option(select.dataset.autoLabel, "-1"));
    hls.levels.forEach(function (level, index) {
      var label = level.height ? level.height + "p" : select.dataset.audioLabel;
      select.add(new Option(label, String(index)));
    });
    select.value = "-1";
    select.addEventListener("change", function () {
      hls.currentLevel = parseInt(select.value, 10); // switches now, at the next segment boundary
    });
    show("quality");
  }

  // Audio tracks (the master's EXT-X-MEDIA TYPE=AUDIO, named "普通话", "英语", …): a menu once there are two.
  // hls.js lists them in hls.audioTracks; Safari's own HLS in video.audioTracks (one enabled at a time).
  function audioMenu() {
    var select = document.getElementById("audio-track");
    var tracks = hls ? hls.audioTracks : video.audioTracks;
    if (!select || !tracks || tracks.length < 2 || select.options.length) return;
    for (var i = 0; i < tracks.length; i++) {
      select.add(new Option(tracks[i].name || tracks[i].label || tracks[i].lang || tracks[i].language || String(i + 1), String(i)));
      if (hls ? i === hls.audioTrack : tracks[i].enabled) select.value = String(i);
    }
    select.addEventListener("change", function () {
      var chosen = parseInt(select.value, 10);
      if (hls) {
        hls.audioTrack = chosen;
      } else {
        for (var j = 0; j < tracks.length; j++) tracks[j].enabled = j === chosen;
      }
    });
    show("audio-track");
  }

  // Captions: one button, on or off. hls.js fetches the subtitle segments only while they are shown.
  function captionsToggle() {
    var button = document.getElementById("captions");
    var count = hls ? hls.subtitleTracks.length : video.textTracks.length;
    if (!button || !count || !button.closest(".control").hidden) return;
    function set(on) {
      if (hls) {
        hls.subtitleTrack = on ? 0 : -1;
        hls.subtitleDisplay = on;
      } else {
        for (var i = 0; i < video.textTracks.length; i++) video.textTracks[i].mode = on && i === 0 ? "showing" : "disabled";
      }
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? button.dataset.onLabel : button.dataset.offLabel;
    }
    button.addEventListener("click", function () { set(button.getAttribute("aria-pressed") !== "true"); });
    set(button.dataset.default === "on");
    show("captions");
  }

  var speed = document.getElementById("speed");
  if (speed) {
    speed.addEventListener("change", function () { video.playbackRate = parseFloat(speed.value) || 1; });
    // Keep the chosen speed across episodes: the browser resets it when a new source loads.
    video.addEventListener("loadedmetadata", function () { video.playbackRate = parseFloat(speed.value) || 1; });
  }

  // Resume: the saved position from the server when signed in (another device may be ahead), else this
  // device's own. A position within the last few seconds means the member finished: start again.
  var saved = window.LighthouseProgress
    ? window.LighthouseProgress.start({ itemId: itemId, getState: state })
    : Promise.resolve({ position: parseFloat(localStorage.getItem(resumeKey) || "0") });
  function resume(progress) {
    var at = progress && !progress.completed ? parseFloat(progress.position) || 0 : 0;
    if (at > 1 && (!video.duration || at < video.duration - 5)) video.currentTime = at;
  }
  Promise.resolve(saved).catch(function () { return null; }).then(function (progress) {
    if (video.readyState >= 1) resume(progress);
    else video.addEventListener("loadedmetadata", function () { resume(progress); }, { once: true });
  });
  video.addEventListener("timeupdate", function () {
    if (video.currentTime > 1) {
      try { localStorage.setItem(resumeKey, String(Math.floor(video.currentTime))); } catch (e) { /* full */ }
    }
  });

  function state() {
    var duration = video.duration || 0;
    return {
      position: video.currentTime || 0,
      locator: "",
      fraction: duration ? Math.min(1, video.currentTime / duration) : 0,
      active: !video.paused && !video.ended && video.readyState > 2,
      completed: duration > 0 && video.currentTime >= duration - 5,
    };
  }

  // The next episode of a series starts by itself (it can be switched off, and the choice is remembered).
  var next = document.getElementById("next-episode");
  var autoNext = document.getElementById("auto-next");
  if (autoNext) {
    autoNext.checked = localStorage.getItem("lh-auto-next") !== "0";
    autoNext.addEventListener("change", function () {
      try { localStorage.setItem("lh-auto-next", autoNext.checked ? "1" : "0"); } catch (e) { /* ignore */ }
    });
  }
  video.addEventListener("ended", function () {
    try { localStorage.removeItem(resumeKey); } catch (e) { /* ignore */ }
    if (next && (!autoNext || autoNext.checked)) window.location.href = next.href;
  });
})();
