// The audio programme player: one plain <audio> element playing the audio edition (M4A, or MP3 where M4A does
// not play) through a playlist of the series' episodes. The next episode starts in the same element, without a
// page load, so a phone keeps playing with its screen locked; the Media Session API puts title, artwork and
// play/pause/next/previous/seek on the lock screen and headset buttons.
// Progress (resume, study time) goes through progress.js when it is there, per episode.
(function () {
  "use strict";
  var root = document.getElementById("audio-player");
  var audio = document.getElementById("audio");
  var data = document.getElementById("audio-playlist");
  if (!root || !audio || !data) return;
  var playlist = JSON.parse(data.textContent);
  var index = parseInt(root.dataset.current || "0", 10);
  var title = document.getElementById("now-playing");
  var heading = document.querySelector(".item-head h1");
  var current = index; // the episode the page's heading and title name
  var speed = document.getElementById("audio-speed");
  var buttons = root.querySelectorAll("[data-episode]");
  var savedPositions = {}; // item id → Promise of its saved progress (for resuming it)
  var m4a = audio.canPlayType("audio/mp4") !== "";
  audio.dataset.state = "loading";

  function sourceOf(entry) { return (m4a && entry.m4a) || entry.mp3 || entry.m4a; }

  function load(newIndex, play) {
    var entry = playlist[newIndex];
    if (!entry || !sourceOf(entry)) return false;
    index = newIndex;
    root.dataset.current = String(index);
    audio.src = sourceOf(entry);
    audio.dataset.item = String(entry.id);
    if (title) title.textContent = entry.title;
    if (play && heading) {
      heading.textContent = entry.title;
      document.title = document.title.replace(playlist[current].title, entry.title);
      current = newIndex;
    }
    buttons.forEach(function (button) {
      var here = parseInt(button.dataset.episode, 10) === index;
      if (here) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
    if (entry.url && window.history.replaceState && play) window.history.replaceState(null, "", entry.url);
    track(entry);
    mediaSession(entry);
    var saved = savedPositions[entry.id];
    audio.addEventListener("loadedmetadata", function () {
      audio.playbackRate = speed ? parseFloat(speed.value) || 1 : 1;
      Promise.resolve(saved).catch(function () { return null; }).then(function (progress) {
        var at = progress && !progress.completed ? parseFloat(progress.position) || 0 : 0;
        if (at > 1 && at < audio.duration - 5) audio.currentTime = at;
      });
    }, { once: true });
    if (play) audio.play().catch(function () { audio.dataset.state = "paused"; });
    return true;
  }

  function move(step) {
    for (var i = index + step; i >= 0 && i < playlist.length; i += step) {
      if (load(i, true)) return true;
    }
    return false;
  }

  // One progress tracker for the episode playing; switching episodes flushes and stops the previous one.
  var tracker = null;
  function track(entry) {
    if (!window.LighthouseProgress) return;
    if (tracker && tracker.stop) tracker.stop();
    tracker = window.LighthouseProgress.start({
      itemId: entry.id,
      countHidden: true, // a locked screen still plays: listening time counts
      getState: currentState,
    });
    savedPositions[entry.id] = tracker;
  }

  function currentState() {
    var duration = audio.duration || 0;
    return {
      position: audio.currentTime || 0,
      locator: "",
      fraction: duration ? Math.min(1, audio.currentTime / duration) : 0,
      active: !audio.paused && !audio.ended,
      completed: duration > 0 && audio.currentTime >= duration - 5,
    };
  }

  function mediaSession(entry) {
    if (!("mediaSession" in navigator) || !window.MediaMetadata) return;
    navigator.mediaSession.metadata = new window.MediaMetadata({
      title: entry.title,
      artist: entry.artist || "",
      album: entry.album || "",
      artwork: entry.artwork ? [{ src: entry.artwork, sizes: "512x512" }] : [],
    });
  }

  function positionState() {
    if (!("mediaSession" in navigator) || !navigator.mediaSession.setPositionState || !isFinite(audio.duration)) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: audio.duration, playbackRate: audio.playbackRate, position: Math.min(audio.currentTime, audio.duration),
      });
    } catch (e) { /* an odd duration: the lock screen shows no bar */ }
  }

  if ("mediaSession" in navigator) {
    var actions = {
      play: function () { audio.play(); },
      pause: function () { audio.pause(); },
      previoustrack: function () { move(-1); },
      nexttrack: function () { move(1); },
      seekbackward: function (details) { audio.currentTime = Math.max(0, audio.currentTime - (details.seekOffset || 15)); },
      seekforward: function (details) { audio.currentTime = Math.min(audio.duration || 0, audio.currentTime + (details.seekOffset || 15)); },
      seekto: function (details) { audio.currentTime = details.seekTime; },
    };
    Object.keys(actions).forEach(function (name) {
      try { navigator.mediaSession.setActionHandler(name, actions[name]); } catch (e) { /* not supported here */ }
    });
  }

  audio.addEventListener("playing", function () {
    audio.dataset.state = "playing";
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "playing";
  });
  audio.addEventListener("pause", function () {
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "paused";
  });
  audio.addEventListener("loadedmetadata", positionState);
  audio.addEventListener("ratechange", positionState);
  audio.addEventListener("seeked", positionState);
  audio.addEventListener("ended", function () { move(1); });
  audio.addEventListener("error", function () {
    // A signed file URL expires after an hour: reload this episode's page, which signs fresh ones.
    audio.dataset.state = "error";
    // Once per episode in five minutes, so a file that is really missing does not reload the page forever.
    var entry = playlist[index], key = "lh-audio-reload-" + (entry && entry.id), last = 0;
    try { last = parseInt(sessionStorage.getItem(key) || "0", 10); } catch (e) { return; }
    if (entry && entry.url && Date.now() - last > 300000) {
      sessionStorage.setItem(key, String(Date.now()));
      window.location.href = entry.url;
    }
  });

  if (speed) speed.addEventListener("change", function () { audio.playbackRate = parseFloat(speed.value) || 1; });
  root.querySelectorAll("[data-move]").forEach(function (button) {
    button.addEventListener("click", function () { move(parseInt(button.dataset.move, 10)); });
  });
  buttons.forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      load(parseInt(button.dataset.episode, 10), true);
    });
  });

  load(index, false);
})();
