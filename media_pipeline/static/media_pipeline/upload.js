// Resumable master uploads in the admin item form (tus, through the official tus-js-client).
// Without JavaScript, or without tus-js-client, the plain file input posts the file as before.
(function () {
  "use strict";

  // Network drops are retried by tus-js-client itself, at these delays (ms), resuming from the server's offset.
  var RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function enhance(root) {
    var form = root.closest("form");
    var input = root.querySelector('input[type="file"]');
    var hidden = form && form.elements[root.dataset.uploadIdName];
    if (!form || !input || !hidden) { return; }
    var messages = JSON.parse(document.getElementById(root.dataset.messagesId).textContent);
    var panel = root.querySelector("[data-lh-upload-panel]");
    var bar = root.querySelector("progress");
    var status = root.querySelector("[data-lh-upload-status]");
    var buttons = {};
    root.querySelectorAll("[data-lh-upload-action]").forEach(function (b) { buttons[b.dataset.lhUploadAction] = b; });
    var upload = null;
    var running = false;
    var percent = 0;
    var pendingSubmit = null; // the button pressed while uploading: the form is saved once the upload ends

    function say(text) { panel.hidden = false; status.textContent = text; }
    function setRunning(on) {
      running = on;
      buttons.pause.hidden = !on;
      buttons.resume.hidden = on;
    }
    function showProgress(sent, total) {
      var next = total ? Math.floor((sent / total) * 100) : 0;
      bar.value = next;
      if (next !== percent || !status.textContent) { percent = next; say(format(messages.progress, { percent: next })); }
    }

    function start(file) {
      hidden.value = "";
      // The file input is emptied (see below), so the chosen file's name is shown here instead.
      root.querySelector("[data-lh-upload-name]").textContent = file.name;
      percent = 0;
      upload = new window.tus.Upload(file, {
        endpoint: root.dataset.endpoint,
        chunkSize: Number(root.dataset.chunkBytes),
        retryDelays: RETRY_DELAYS,
        removeFingerprintOnSuccess: true,
        metadata: { filename: file.name, filetype: file.type },
        headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
        onProgress: showProgress,
        onShouldRetry: function (err, attempt, options) {
          // tus-js-client's own rule (network errors, 409, 423, 5xx — never other 4xx), plus a word to the editor.
          var retry = window.tus.defaultOptions.onShouldRetry(err, attempt, options);
          if (retry) { say(messages.retrying); }
          return retry;
        },
        onError: function (err) {
          setRunning(false);
          pendingSubmit = null;
          var body = err.originalResponse && err.originalResponse.getBody();
          say(format(messages.failed, { reason: body || err.message }));
        },
        onSuccess: function () {
          setRunning(false);
          buttons.resume.hidden = true;
          buttons.pause.hidden = true;
          bar.value = 100;
          hidden.value = upload.url.replace(/\/+$/, "").split("/").pop();
          say(messages.done);
          if (pendingSubmit) { submitNow(); }
        },
      });
      setRunning(true); // at once: a save pressed right after choosing the file must wait for it
      // The same file chosen again after a reload or a crash picks up where the server stopped.
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) { upload.resumeFromPreviousUpload(previous[0]); }
        if (running) { upload.start(); }
      });
    }

    function submitNow() {
      var button = pendingSubmit;
      pendingSubmit = null;
      try { form.requestSubmit(button); } catch (e) { form.requestSubmit(); }
    }

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      // The bytes go through tus; the form itself must not post gigabytes a second time.
      input.value = "";
      if (upload && running) { upload.abort(); }
      if (file.size > Number(root.dataset.maxBytes)) { say(messages.tooBig); return; }
      start(file);
    });
    buttons.pause.addEventListener("click", function () {
      upload.abort();
      setRunning(false);
      pendingSubmit = null;
      say(format(messages.paused, { percent: percent }));
    });
    buttons.resume.addEventListener("click", function () { setRunning(true); upload.start(); });
    buttons.cancel.addEventListener("click", function () {
      if (upload) { upload.abort(true).catch(function () {}); }
      upload = null;
      pendingSubmit = null;
      hidden.value = "";
      bar.value = 0;
      setRunning(false);
      buttons.resume.hidden = true;
      say(messages.cancelled);
    });
    // Back online after a long outage (retries exhausted): carry on by ourselves.
    window.addEventListener("online", function () {
      if (upload && !running && !hidden.value && !buttons.resume.hidden) { setRunning(true); upload.start(); }
    });
    form.addEventListener("submit", function (event) {
      if (!running) { return; }
      // Saving now would post neither the file nor its id: save by ourselves when the upload ends.
      event.preventDefault();
      event.stopImmediatePropagation();
      pendingSubmit = event.submitter && event.submitter.type === "submit" ? event.submitter : null;
      pendingSubmit = pendingSubmit || form.querySelector('[type="submit"]');
      say(messages.busy);
    }, true);
    if (hidden.value) { bar.value = 100; buttons.pause.hidden = true; say(messages.ready); }
  }

  function init() {
    if (!window.tus || !window.tus.isSupported) { return; }
    document.querySelectorAll("[data-lh-upload]").forEach(function (root) {
      if (root.dataset.endpoint) { enhance(root); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
