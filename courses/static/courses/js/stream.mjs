// One way for the courses' players (the premiere's live block, TV mode) to attach an HLS stream to a <video>, as
// static/js/player.js does for the library: hls.js where Media Source Extensions exist (the same adaptive ladder,
// captions and errors on every browser; Chromium's own HLS support is newer and partial), the browser's own HLS
// elsewhere (iOS Safari). hls.js is loaded only when a stream is about to play.

function loadHls(src) {
  if (window.Hls) return Promise.resolve(window.Hls);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve(window.Hls);
    script.onerror = reject;
    document.head.append(script);
  });
}

// Attach ``url`` to ``video`` starting at ``startAt()`` seconds (read when the stream is ready, so a late start is
// as late as the moment it plays) and start playing; returns a function that detaches it.
export async function attachStream(video, url, { hlsSrc, startAt = () => 0 } = {}) {
  const mediaSource = window.MediaSource || window.ManagedMediaSource;
  if (mediaSource) {
    const Hls = await loadHls(hlsSrc);
    if (Hls && Hls.isSupported()) {
      const hls = new Hls({ startPosition: Math.max(0, startAt()) });
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        const at = startAt();
        if (at > 0 && Math.abs(video.currentTime - at) > 1) video.currentTime = at;
        video.play().catch(() => {});
      });
      return () => hls.destroy();
    }
  }
  video.src = url;
  video.addEventListener(
    "loadedmetadata",
    () => {
      const at = startAt();
      if (at > 0) video.currentTime = at;
    },
    { once: true },
  );
  // preload="none": play() is what makes the browser fetch the playlist at all.
  video.play().catch(() => {});
  return () => {
    video.removeAttribute("src");
    video.load();
  };
}
