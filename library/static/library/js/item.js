// An item page's small shared parts: the A+/A- text size of reading views, the favourite button, and reading
// progress for plain text pages (articles, 文字版). Players and readers keep their own progress.
// Everything here is optional: without JavaScript the page still reads in the site's (large-type) size.
(function () {
  "use strict";
  var SCALE_KEY = "lh-reader-scale";
  var MIN = 0.75, MAX = 2.5, STEP = 0.125;

  // A+/A-: one preference for every reading view, kept on this device. The site's own 大字模式 (a cookie, in
  // rem) stays the base; this multiplies it for the text being read.
  window.LighthouseTextSize = {
    get: function () {
      var saved = parseFloat(localStorage.getItem(SCALE_KEY) || "1");
      return isFinite(saved) ? Math.min(MAX, Math.max(MIN, saved)) : 1;
    },
    step: function (direction) {
      var next = Math.min(MAX, Math.max(MIN, this.get() + direction * STEP));
      try { localStorage.setItem(SCALE_KEY, String(next)); } catch (e) { /* private mode: this page only */ }
      apply(next);
      document.dispatchEvent(new CustomEvent("lh:textsize", { detail: { scale: next } }));
      return next;
    },
  };

  function apply(scale) {
    document.documentElement.style.setProperty("--reader-scale", String(scale));
  }
  apply(window.LighthouseTextSize.get());

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-text-size]");
    if (!button) return;
    window.LighthouseTextSize.step(parseInt(button.dataset.textSize, 10));
  });

  var favourite = document.querySelector("button.favourite[data-item]");
  if (favourite && window.LighthouseFavourite) {
    window.LighthouseFavourite.bind(favourite, parseInt(favourite.dataset.item, 10));
    favourite.hidden = false;
  }

  // History: a signed-in member's visit enters their history with one POST (progress.js is loaded only for them),
  // so the page's GET writes nothing.
  var opened = document.querySelector("[data-opened-item]");
  if (opened && window.LighthouseProgress) {
    window.LighthouseProgress.opened(parseInt(opened.dataset.openedItem, 10));
  }

  // Reading progress of a text page: how far down the member has read; "active" only while the page is in
  // front and they scrolled or pressed a key in the last half minute.
  var text = document.querySelector("[data-progress-text]");
  if (!text || !window.LighthouseProgress) return;
  var lastActivity = Date.now(), furthest = 0;
  ["scroll", "keydown", "pointerdown", "touchstart"].forEach(function (name) {
    window.addEventListener(name, function () { lastActivity = Date.now(); }, { passive: true });
  });
  function fraction() {
    var box = text.getBoundingClientRect();
    var seen = (window.innerHeight - box.top) / Math.max(box.height, 1);
    furthest = Math.max(furthest, Math.min(1, Math.max(0, seen)));
    return furthest;
  }
  window.LighthouseProgress.start({
    itemId: parseInt(text.dataset.progressText, 10),
    getState: function () {
      var done = fraction();
      return {
        position: parseInt(text.dataset.part || "0", 10),
        locator: "",
        fraction: done,
        active: Date.now() - lastActivity < 30000,
        completed: done > 0.97,
      };
    },
  });
})();
