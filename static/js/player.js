// Plays a library video: hls.js where Media Source Extensions exist, the browser's own HLS (Safari, iOS) elsewhere.
// Nothing is fetched before the member presses play (preload="none", no manifest); then the lowest rung comes
// first and hls.js climbs (issue 15: a first frame within seconds on a 500 kbps phone link). Segment URLs expire:
// after a long pause the player fetches the playlist again and goes on where it was (issue 16, refreshingLoader).
// hls.js (about 150 KB with brotli) is fetched only when the member starts the video (the play button, a tap on the
// poster, or a script calling play()): until then the page shows the poster and costs no more than a picture, which
// on a weak network keeps the first screen light (bench/bench_page_bytes.py). The video keeps its play() request
// pending while the library arrives, so one tap plays.
// The element's data-state ("idle", "loading", "playing", "error") lets people's tools and our browser tests see
// progress. Around it: a quality menu, an audio-track menu (a master with several languages), captions on/off (the
// HLS master's subtitle track), playback speed, resume where the member stopped (on any device through progress.js when signed in, else on this device), and the next
// episode.
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var src = video.dataset.src;
  var itemId = parseInt(video.dataset.item, 10);
  var resumeKey = "lh-resume-" + video.dataset.item;
  var hls = null;
  var HlsClass = null;
  var source = src; // the master hls.js plays now
  var audioSrc = src + (src.indexOf("?") < 0 ? "?" : "&") + "rungs=audio"; // its audio-only variants alone
  var audioOffered = false;
  var started = false;
  video.dataset.state = "idle";

  video.addEventListener("playing", function () { video.dataset.state = "playing"; });
  // Chrome's controls do nothing on a video without a source yet: a tap on the poster or the controls (click), Enter
  // or Space on the focused video (TV remotes, keyboards) or any play() starts it.
  video.addEventListener("play", start);
  video.addEventListener("click", start);
  // On a phone Chrome's controls take the tap on a video without a source and no click follows (measured with
  // Chromium's touch emulation): a touch that ends where it began is a tap too; one that moved is a scroll.
  var touchedAt = null;
  video.addEventListener("touchstart", function (event) {
    touchedAt = event.touches.length === 1 ? [event.touches[0].clientX, event.touches[0].clientY] : null;
  }, { passive: true });
  video.addEventListener("touchend", function (event) {
    var touch = event.changedTouches[0];
    if (touchedAt && touch && Math.abs(touch.clientX - touchedAt[0]) + Math.abs(touch.clientY - touchedAt[1]) < 10) start();
    touchedAt = null;
  });
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
      video.addEventListener("error", recoverNative);
      video.textTracks.addEventListener("addtrack", captionsToggle);
      if (video.audioTracks) video.audioTracks.addEventListener("addtrack", audioMenu);
      video.play().catch(function () { /* the member presses play again */ });
    } else {
      video.dataset.state = "error";
    }
  }

  // Safari's own HLS after a long pause: its segment URLs have expired and the video fails. The master again (the
  // member's access checked anew), from the same place; once per place, so a member without access sees the error
  // rather than a loop.
  var recoveredAt = -1;
  function recoverNative() {
    var at = video.currentTime;
    if (at === recoveredAt) {
      video.dataset.state = "error";
      return;
    }
    recoveredAt = at;
    video.src = src;
    video.addEventListener("loadedmetadata", function () {
      video.currentTime = at;
      video.play().catch(function () { /* the member presses play again */ });
    }, { once: true });
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
    HlsClass = Hls;
    load(src, { position: -1, play: true, level: -1 });
  }

  // hls.js on one master (the whole ladder, or only its audio for 仅声音), from a position: the first start, and a
  // switch between video and audio only, which keeps the member's place and whether it was playing.
  function load(url, how) {
    var Hls = HlsClass;
    if (hls) hls.destroy();
    source = url;
    hls = new Hls({
      capLevelToPlayerSize: true,
      subtitleDisplay: false,
      // The lowest rung first: on a weak phone network the first frame comes after one small segment (not a
      // 540p one), and hls.js climbs as soon as it has measured the network.
      startLevel: 0,
      startPosition: how.position,
      fLoader: refreshingLoader(Hls.DefaultConfig.loader),
    });
    // A fatal media error (the decoder or the buffer refused a segment, e.g. while switching audio tracks on a busy
    // phone) is recovered as hls.js advises, twice per load at most; a fatal network error has used up hls.js's own
    // retries. Otherwise the player shows the error; data-error says which (for people's tools and our tests).
    var recoveries = 0;
    hls.on(Hls.Events.ERROR, function (_event, data) {
      if (!data.fatal) return;
      video.dataset.error = data.details || data.type;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && recoveries < 2) {
        recoveries += 1;
        hls.recoverMediaError();
        return;
      }
      video.dataset.state = "error";
    });
    hls.on(Hls.Events.MANIFEST_LOADED, function (_event, data) {
      // hls.js drops an audio-only variant from a master that has video ones (and has already said MANIFEST_PARSED
      // by now, from its own listener): the menu learns of it here.
      if (data.levels.some(isAudioOnly)) audioOffered = true;
      qualityMenu();
    });
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      qualityMenu();
      if (how.level >= 0) hls.currentLevel = how.level;
      if (how.play) video.play().catch(function () { /* the member presses play again */ });
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, function () { captionsToggle(); });
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, function () { audioMenu(); });
    hls.on(Hls.Events.LEVEL_SWITCHED, function (_event, data) {
      var level = hls.levels[data.level];
      video.dataset.level = String(data.level);
      video.dataset.rung = level && level.height ? level.height + "p" : "audio";
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  }

  function isAudioOnly(level) {
    return !level.height && !level.videoCodec && !!level.audioCodec;
  }

  // Segment URLs are signed for the playlist's length plus a margin (media_pipeline/views.py). After a longer
  // pause they have expired (storage answers 403, our local media view 404): this loader then fetches the playlist
  // the segment came from again, which checks the member's access anew, and loads the same segment from its fresh
  // URL, so playback goes on where it was with nothing flushed. A member who has lost access gets no fresh URL and
  // the original error stands (the player shows it).
  var freshUrls = {}; // segment URL without its query -> the newest signed URL seen for it
  var refreshing = {}; // playlist URL -> the promise of its refresh under way

  function withoutQuery(url) {
    var parsed = new URL(url, window.location.href);
    return parsed.origin + parsed.pathname;
  }

  function refreshPlaylist(playlistUrl) {
    if (!refreshing[playlistUrl]) {
      refreshing[playlistUrl] = fetch(playlistUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("playlist " + response.status);
          return response.text();
        })
        .then(function (text) {
          text.split("\n").forEach(function (line) {
            var map = /^#EXT-X-MAP:.*URI="([^"]+)"/.exec(line);
            var uri = map ? map[1] : line && line.charAt(0) !== "#" ? line.trim() : "";
            if (!uri) return;
            var absolute = new URL(uri, playlistUrl).href;
            freshUrls[withoutQuery(absolute)] = absolute;
          });
        })
        .finally(function () { delete refreshing[playlistUrl]; });
    }
    return refreshing[playlistUrl];
  }

  function refreshingLoader(Base) {
    function Loader(config) {
      this.config = config;
      this.inner = new Base(config);
      this.refreshed = false;
      this.aborted = false;
    }
    Object.defineProperty(Loader.prototype, "stats", { get: function () { return this.inner.stats; } });
    Object.defineProperty(Loader.prototype, "context", { get: function () { return this.inner.context; } });
    Loader.prototype.abort = function () { this.aborted = true; this.inner.abort(); };
    Loader.prototype.destroy = function () { this.aborted = true; this.inner.destroy(); };
    Loader.prototype.getCacheAge = function () { return this.inner.getCacheAge ? this.inner.getCacheAge() : null; };
    Loader.prototype.getResponseHeader = function (name) {
      return this.inner.getResponseHeader ? this.inner.getResponseHeader(name) : null;
    };
    Loader.prototype.load = function (context, loaderConfig, callbacks) {
      var self = this;
      var fresh = freshUrls[withoutQuery(context.url)];
      if (fresh) context.url = fresh;
      var playlistUrl = context.frag && context.frag.baseurl;
      var guarded = Object.assign({}, callbacks, {
        onError: function (error, errorContext, details, stats) {
          var expired = error && (error.code === 403 || error.code === 404 || error.code === 410);
          if (!expired || self.refreshed || !playlistUrl) return callbacks.onError(error, errorContext, details, stats);
          self.refreshed = true;
          refreshPlaylist(playlistUrl).then(function () {
            var url = freshUrls[withoutQuery(context.url)];
            if (self.aborted) return;
            if (!url || url === context.url) return callbacks.onError(error, errorContext, details, stats);
            self.retry(context, loaderConfig, callbacks, url);
          }, function () {
            if (!self.aborted) callbacks.onError(error, errorContext, details, stats);
          });
        },
      });
      this.inner.load(context, loaderConfig, guarded);
    };
    // The same segment again from its fresh URL, on a new loader that keeps the stats object hls.js holds.
    Loader.prototype.retry = function (context, loaderConfig, callbacks, url) {
      var stats = this.inner.stats;
      this.inner.destroy();
      stats.loaded = stats.total = 0;
      stats.loading = { start: 0, first: 0, end: 0 };
      stats.parsing = { start: 0, end: 0 };
      stats.buffering = { start: 0, first: 0, end: 0 };
      this.inner = new Base(this.config);
      this.inner.stats = stats;
      context.url = url;
      this.inner.load(context, loaderConfig, callbacks);
    };
    return Loader;
  }

  function show(id) {
    var control = document.getElementById(id);
    if (control) control.closest(".control").hidden = false;
    var bar = video.closest(".player").querySelector(".player-controls");
    if (bar) bar.hidden = false;
    return control;
  }

  // A quality menu for people on weak or metered networks: "自动" lets hls.js choose; a rung stays chosen until
  // changed; 仅声音（省流量） plays the master's audio-only variant alone (hls.js would never pick it by itself),
  // from where the member is, and choosing a picture again brings the video back there.
  function qualityMenu() {
    var select = document.getElementById("quality");
    var rungs = hls.levels.filter(function (level) { return level.height; });
    if (!select || rungs.length + (audioOffered ? 1 : 0) < 2) return;
    if (!select.options.length) {
      select.add(new Option(select.dataset.autoLabel, "-1"));
      hls.levels.forEach(function (level, index) {
        if (level.height) select.add(new Option(level.height + "p", String(index)));
      });
      select.value = "-1";
      select.addEventListener("change", function () { choose(select.value); });
      show("quality");
    }
    if (audioOffered && !select.querySelector('option[value="audio"]')) {
      select.add(new Option(select.dataset.audioLabel, "audio"));
    }
  }

  function choose(value) {
    var how = { position: video.currentTime, play: !video.paused, level: -1 };
    if (value === "audio") {
      if (source !== audioSrc) load(audioSrc, how);
      return;
    }
    how.level = parseInt(value, 10);
    if (source !== src) load(src, how);
    else hls.currentLevel = how.level; // switches now, at the next segment boundary
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
    ? window.LighthouseProgress.start({
      itemId: itemId,
      getState: function () { return window.LighthouseProgress.mediaState(video); },
    })
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
