/*
 * Lighthouse progress and favourites for the web players and readers (plain script, no build step).
 * Talks to the JSON API at /api/v1/library/ with the page's session.
 *
 * Resume and honest study time
 * ----------------------------
 *   var tracker = LighthouseProgress.start({
 *     itemId: 123,
 *     getState: function () {
 *       return {
 *         position: video.currentTime,  // seconds (audio/video) or page number (PDF, page images)
 *         locator: "",                  // a reader's own place mark, e.g. an EPUB CFI (max 512 chars)
 *         fraction: 0.42,               // 0–1, or null when unknown
 *         active: !video.paused,        // TRUE only while really playing / really reading (turned a page or
 *                                       // scrolled recently); idle or paused must be false
 *         completed: video.ended        // once true it stays true on the server
 *       };
 *     },
 *     countHidden: true                 // audio: count while playing in a background tab (default false:
 *                                       // readers and video count only while the page is visible)
 *   });
 *   tracker.then(function (saved) {     // the saved progress (from any device), or null when not logged in
 *     if (saved && saved.started) { video.currentTime = saved.position; }
 *   });
 *   (for a <video> or <audio>: getState: function () { return LighthouseProgress.mediaState(video); })
 *   tracker.flush();                    // send a heartbeat now (e.g. when the member finishes the item)
 *   tracker.stop();                     // flush and stop (switching to another item)
 *
 * Every second the tracker counts one active second while getState().active is true (and the page is visible,
 * unless countHidden). Every 20 seconds, if anything was active, it POSTs a heartbeat with the active seconds
 * since the last one; on pagehide / when the tab is hidden it sends one more with fetch keepalive. The server
 * credits no more than the wall clock allows across all the member's tabs and devices. When offline, unsent
 * seconds are kept and sent with the next beat (the server still caps them); errors never reach the member.
 *
 * History
 * -------
 *   LighthouseProgress.opened(123);     // the member opened the item's page: it enters (or moves to the top of)
 *                                       // their history; the page's own GET never writes it
 *
 * Favourites
 * ----------
 *   LighthouseFavourite.bind(buttonElement, itemId);
 * toggles 收藏 / 已收藏 (aria-pressed). Buttons with data-favourite-item="<id>" are bound automatically; set
 * aria-pressed="true" in the HTML when the item is already a favourite, otherwise the state is fetched.
 *
 * Study clock
 * -----------
 *   <p data-study-clock="123" hidden></p>
 * shows the member's study time of item 123 while they study it: the server's figure (the progress GET, then each
 * heartbeat's answer) plus the active seconds counted here and not yet credited, so the seconds visibly move between
 * beats ("本条已学习 2分05秒"). It stays hidden for visitors and until the server has answered. The same figures go
 * out as a "lighthouse:study" event on document ({itemId, seconds}) for anything else on the page.
 *
 * Options for both: apiBase (default "/api/v1/library"), csrfCookieName (default "csrftoken").
 */
(function () {
  "use strict";
  // Words are written in Chinese; base.html loads Django's JavaScript catalogue for other languages.
  var gettext = window.gettext || function (text) { return text; };
  var format = function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };

  var API_BASE = "/api/v1/library";
  var BEAT_SECONDS = 20;
  var MAX_POSITION = 10000000;

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        return decodeURIComponent(parts[i].slice(eq + 1));
      }
    }
    return "";
  }

  function request(options, method, path, body, keepalive) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["X-CSRFToken"] = cookie(options.csrfCookieName || "csrftoken");
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    return fetch((options.apiBase || API_BASE) + path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive: !!keepalive
    });
  }

  // The server refuses out-of-range values with a 422; clean them here so one odd frame never loses a beat.
  function number(value, low, high) {
    value = Number(value);
    if (!isFinite(value)) {
      return low;
    }
    return Math.min(high, Math.max(low, value));
  }

  function readState(getState) {
    var state = {};
    try {
      state = getState() || {};
    } catch (error) {
      state = {};
    }
    return {
      position: number(state.position, 0, MAX_POSITION),
      locator: typeof state.locator === "string" ? state.locator.slice(0, 512) : "",
      fraction: isFinite(Number(state.fraction)) && state.fraction !== null ? number(state.fraction, 0, 1) : null,
      active: !!state.active,
      completed: !!state.completed
    };
  }

  // --- Study clock ---------------------------------------------------------------------------------------

  function twoDigits(value) {
    return (value < 10 ? "0" : "") + value;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    if (hours) {
      return format(gettext("%(hours)s小时%(minutes)s分%(seconds)s秒"), { hours: hours, minutes: twoDigits(minutes), seconds: twoDigits(rest) });
    }
    if (minutes) {
      return format(gettext("%(minutes)s分%(seconds)s秒"), { minutes: minutes, seconds: twoDigits(rest) });
    }
    return format(gettext("%(seconds)s秒"), { seconds: rest });
  }

  function showClock(itemId, seconds) {
    var clocks = document.querySelectorAll('[data-study-clock="' + String(itemId).replace(/"/g, "") + '"]');
    for (var i = 0; i < clocks.length; i++) {
      clocks[i].textContent = format(gettext("本条已学习 %(time)s"), { time: duration(seconds) });
      clocks[i].hidden = false;
    }
    try {
      document.dispatchEvent(new CustomEvent("lighthouse:study", { detail: { itemId: itemId, seconds: seconds } }));
    } catch (error) {
      // very old browsers without CustomEvent: the clock above is enough
    }
  }

  function start(options) {
    if (!options || !options.itemId || typeof options.getState !== "function") {
      throw new Error("LighthouseProgress.start needs {itemId, getState}");
    }
    var path = "/items/" + encodeURIComponent(options.itemId) + "/progress";
    var unsent = 0; // active seconds not yet accepted by the server
    var sinceBeat = 0;
    var sending = false;
    var stopped = false;
    var allowed = true; // false once the server says we may not (not logged in, not readable)
    var lastSent = null;
    var credited = null; // the server's study seconds for this item (null until it has answered)

    function clock() {
      if (credited !== null && allowed) {
        showClock(options.itemId, credited + unsent);
      }
    }

    function heard(result) {
      if (result && typeof result.study_seconds === "number") {
        credited = result.study_seconds;
        clock();
      }
      return result;
    }

    function visible() {
      return document.visibilityState === "visible";
    }

    function beat(keepalive) {
      if (stopped || !allowed || (sending && !keepalive)) {
        return Promise.resolve(null);
      }
      var state = readState(options.getState);
      var key = JSON.stringify([state.position, state.locator, state.fraction, state.completed]);
      if (unsent === 0 && key === lastSent) {
        return Promise.resolve(null); // nothing new to say
      }
      var claimed = unsent;
      var payload = {
        position: state.position,
        locator: state.locator,
        fraction: state.fraction,
        active_seconds: claimed,
        completed: state.completed
      };
      sending = true;
      sinceBeat = 0;
      return request(options, "POST", path, payload, keepalive)
        .then(function (response) {
          if (response.ok) {
            // What the server did not credit (its clock allows less) is not counted again.
            unsent = Math.max(0, unsent - claimed);
            lastSent = key;
          } else if (response.status === 401 || response.status === 403 || response.status === 404) {
            allowed = false; // logged out, page expired or no longer readable: stop quietly
          } else if (response.status === 422) {
            unsent = Math.max(0, unsent - claimed); // never resend what the server called nonsense
          }
          return response.ok ? response.json().then(heard) : null;
        })
        .catch(function () {
          return null; // offline: keep the seconds, try again at the next beat
        })
        .then(function (result) {
          sending = false;
          return result;
        });
    }

    function tick() {
      var state = readState(options.getState);
      if (state.active && (options.countHidden || visible())) {
        unsent += 1;
        clock();
      }
      sinceBeat += 1;
      if (sinceBeat >= BEAT_SECONDS && unsent > 0) {
        beat(false);
      }
    }

    function onHide() {
      if (!visible()) {
        beat(true);
      }
    }

    function onPageHide() {
      beat(true);
    }

    function onOnline() {
      if (unsent > 0) {
        beat(false);
      }
    }

    var timer = window.setInterval(tick, 1000);
    document.addEventListener("visibilitychange", onHide);
    window.addEventListener("pagehide", onPageHide);
    window.addEventListener("online", onOnline);

    var saved = request(options, "GET", path)
      .then(function (response) {
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          allowed = false;
          return null;
        }
        return response.ok ? response.json().then(heard) : null;
      })
      .catch(function () {
        return null;
      });

    saved.flush = function () {
      return beat(false);
    };
    saved.stop = function () {
      var last = beat(true);
      stopped = true;
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onHide);
      window.removeEventListener("pagehide", onPageHide);
      window.removeEventListener("online", onOnline);
      return last;
    };
    return saved;
  }

  // One POST per page view (not a beat): a GET of the page stays free of writes, and errors never reach the member.
  function opened(itemId, options) {
    return request(options || {}, "POST", "/items/" + encodeURIComponent(itemId) + "/open")
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .catch(function () {
        return null;
      });
  }

  // --- Favourites ----------------------------------------------------------------------------------------

  var LABEL_OFF = gettext("收藏");
  var LABEL_ON = gettext("已收藏");

  function show(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? LABEL_ON : LABEL_OFF;
  }

  function bind(button, itemId, options) {
    options = options || {};
    var path = "/items/" + encodeURIComponent(itemId) + "/favourite";
    var busy = false;
    if (button.hasAttribute("aria-pressed")) {
      show(button, button.getAttribute("aria-pressed") === "true");
    } else {
      show(button, false);
      request(options, "GET", "/items/" + encodeURIComponent(itemId))
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (item) {
          if (item) {
            show(button, !!item.is_favourite);
          }
        })
        .catch(function () {});
    }
    button.addEventListener("click", function () {
      if (busy) {
        return;
      }
      busy = true;
      var on = button.getAttribute("aria-pressed") === "true";
      request(options, on ? "DELETE" : "POST", path)
        .then(function (response) {
          if (response.ok) {
            show(button, !on);
            button.removeAttribute("title");
          } else if (response.status === 401) {
            button.title = gettext("请先登录");
          } else {
            button.title = gettext("操作没有成功，请稍后再试");
          }
        })
        .catch(function () {
          button.title = gettext("网络不通，请稍后再试");
        })
        .then(function () {
          busy = false;
        });
    });
    return button;
  }

  function bindAll() {
    var buttons = document.querySelectorAll("[data-favourite-item]");
    for (var i = 0; i < buttons.length; i++) {
      if (!buttons[i].dataset.favouriteBound) {
        buttons[i].dataset.favouriteBound = "1";
        bind(buttons[i], buttons[i].getAttribute("data-favourite-item"));
      }
    }
  }

  // The state of a playing <video> (or <audio>) as getState returns it: the site's video player and the TV's use
  // this one definition. Active only while frames really come (not paused, not ended, not waiting for data);
  // complete within the last five seconds.
  function mediaState(media) {
    var duration = media.duration || 0;
    return {
      position: media.currentTime || 0,
      locator: "",
      fraction: duration ? Math.min(1, media.currentTime / duration) : 0,
      active: !media.paused && !media.ended && media.readyState > 2,
      completed: duration > 0 && media.currentTime >= duration - 5,
    };
  }

  window.LighthouseProgress = { start: start, opened: opened, mediaState: mediaState, BEAT_SECONDS: BEAT_SECONDS };
  window.LighthouseFavourite = { bind: bind, bindAll: bindAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bindAll);
  } else {
    bindAll();
  }
})();
