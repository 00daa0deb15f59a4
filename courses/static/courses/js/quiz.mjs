// The quiz page: every change is saved at once and nothing is lost when the network drops.
//
// - Each change becomes a write {ref, answer_id, seq, options | blanks}: a fresh UUID (so a resend is harmless) and
//   the server-synced time in ms (so a late resend never undoes a newer answer). Writes are queued in localStorage
//   first (the latest per question), then sent; the queue survives a reload and is sent on reconnect.
// - The timer runs on the server's clock (clock.mjs); the server owns the deadline. At zero the queue is flushed and
//   the attempt submitted; the server closes it with what it has if the page never comes back.
// - Without script, the form posts everything to the server (保存答案 / 交卷).
import { format, gettext } from "../../js/words.mjs";
import { clockText, serverNow, syncClock } from "./clock.mjs";

const form = document.getElementById("quiz");
const statusBox = document.querySelector("[data-save-status]");
const timerBox = document.querySelector("[data-timer]");
const RETRY_MAX_MS = 30000;
const BATCH = 50;

const state = {
  queue: {},
  sending: false,
  again: false,
  retryMs: 2000,
  retryTimer: null,
  finishing: false,
  closed: false,
};

function uuid4() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function storageKey(suffix = "") {
  return `lighthouse.quiz.${form.dataset.attempt}${suffix}`;
}

function persist() {
  try {
    localStorage.setItem(storageKey(), JSON.stringify(state.queue));
  } catch (error) {
    // Private mode or a full disk: the queue still lives in memory until the page closes.
  }
}

function loadQueue() {
  try {
    return JSON.parse(localStorage.getItem(storageKey()) || "{}") || {};
  } catch (error) {
    return {};
  }
}

function nextSeq() {
  // Later than anything this device sent before, even if the clock offset changed in between.
  let last = 0;
  try {
    last = Number(localStorage.getItem(storageKey(".seq")) || 0);
  } catch (error) {
    last = 0;
  }
  const seq = Math.max(Math.round(serverNow()), last + 1);
  try {
    localStorage.setItem(storageKey(".seq"), String(seq));
  } catch (error) {
    // ignored: the seq is still monotonic within this page
  }
  return seq;
}

function say(text, kind = "") {
  if (!statusBox) return;
  statusBox.textContent = text;
  statusBox.dataset.kind = kind;
}

function pendingCount() {
  return Object.keys(state.queue).length;
}

function csrfToken() {
  return form.querySelector("input[name=csrfmiddlewaretoken]").value;
}

async function post(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body || {}),
  });
}

function readQuestion(fieldset) {
  const write = { ref: fieldset.dataset.ref, answer_id: uuid4(), seq: nextSeq() };
  if (fieldset.dataset.kind === "blank") {
    write.blanks = [...fieldset.querySelectorAll("input[type=text]")].map((input) => input.value);
  } else {
    write.options = [...fieldset.querySelectorAll("input:checked")].map((input) => input.value);
  }
  return write;
}

function applyToPage(write) {
  const fieldset = form.querySelector(`fieldset[data-ref="${CSS.escape(write.ref)}"]`);
  if (!fieldset) return false;
  if (write.seq <= Number(fieldset.dataset.savedSeq || 0)) return false; // the server already has something newer
  if (write.blanks) {
    fieldset.querySelectorAll("input[type=text]").forEach((input, n) => {
      input.value = write.blanks[n] || "";
    });
  } else {
    fieldset.querySelectorAll("input[type=radio], input[type=checkbox]").forEach((input) => {
      input.checked = (write.options || []).includes(input.value);
    });
  }
  return true;
}

function scheduleRetry() {
  if (state.retryTimer || state.closed) return;
  state.retryTimer = window.setTimeout(() => {
    state.retryTimer = null;
    flush();
  }, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
}

function timeText() {
  return new Date(serverNow()).toLocaleTimeString(document.documentElement.lang || "zh-CN", { hour12: false });
}

function attemptClosed(detail) {
  state.closed = true;
  state.queue = {};
  persist();
  say(detail || gettext("本次答题已结束。"), "error");
  form.querySelectorAll("input, button").forEach((element) => {
    element.disabled = true;
  });
  window.setTimeout(() => window.location.assign(form.dataset.resultUrl), 2500);
}

// Send what is queued (at most 50 at a time); resolves true when the queue is empty.
async function flush() {
  if (state.closed) return false;
  if (state.sending) {
    state.again = true;
    return false;
  }
  const writes = Object.values(state.queue).slice(0, BATCH);
  if (!writes.length) return true;
  state.sending = true;
  try {
    const response = await post(form.dataset.answersUrl, { answers: writes });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      for (const result of body.results || []) {
        const queued = state.queue[result.ref];
        if (queued && queued.answer_id === result.answer_id) delete state.queue[result.ref];
        const fieldset = form.querySelector(`fieldset[data-ref="${CSS.escape(result.ref)}"]`);
        if (fieldset) fieldset.dataset.savedSeq = String(result.seq);
      }
      persist();
      state.retryMs = 2000;
      say(pendingCount() ? gettext("正在保存……") : format(gettext("已保存（%(time)s）"), { time: timeText() }), "ok");
    } else if (response.status === 409) {
      attemptClosed(body.detail);
    } else if (response.status === 422) {
      // The server refused these writes as they are; sending them again would never succeed.
      writes.forEach((write) => delete state.queue[write.ref]);
      persist();
      say(body.detail || gettext("有答案未能保存，请重新作答该题。"), "error");
    } else if (response.status === 401 || response.status === 403) {
      say(gettext("登录已过期：答案已保存在本机，请刷新页面重新登录后继续。"), "error");
      scheduleRetry();
    } else {
      throw new Error(`answers ${response.status}`);
    }
  } catch (error) {
    say(format(gettext("网络不通：%(count)s 题的答案已保存在本机，联网后会自动提交。"), { count: pendingCount() }), "offline");
    scheduleRetry();
  } finally {
    state.sending = false;
  }
  if (state.again || (pendingCount() && !state.retryTimer && !state.closed)) {
    state.again = false;
    if (navigator.onLine !== false && !state.retryTimer) return flush();
  }
  return pendingCount() === 0;
}

function enqueue(fieldset) {
  if (state.closed || state.finishing) return;
  const write = readQuestion(fieldset);
  state.queue[write.ref] = write;
  persist();
  say(gettext("正在保存……"));
  flush();
}

async function submit() {
  if (state.closed) return;
  state.finishing = true;
  say(gettext("正在交卷……"));
  const empty = await flush();
  if (!empty && !state.closed) {
    say(gettext("网络不通：答案已保存在本机，联网后会自动交卷。"), "offline");
    window.addEventListener("online", submit, { once: true });
    window.setTimeout(submit, 10000);
    return;
  }
  try {
    const response = await post(form.dataset.submitUrl);
    if (response.ok || response.status === 409) {
      state.closed = true;
      window.location.assign(form.dataset.resultUrl);
      return;
    }
    throw new Error(`submit ${response.status}`);
  } catch (error) {
    say(gettext("网络不通：联网后会自动交卷，请不要关闭本页。"), "offline");
    window.setTimeout(submit, 5000);
  }
}

function unanswered() {
  return [...form.querySelectorAll("fieldset[data-ref]")].filter((fieldset) => {
    if (fieldset.dataset.kind === "blank") {
      return ![...fieldset.querySelectorAll("input[type=text]")].some((input) => input.value.trim());
    }
    return !fieldset.querySelector("input:checked");
  }).length;
}

function startTimer() {
  const deadline = Date.parse(form.dataset.deadline);
  const tick = () => {
    const left = (deadline - serverNow()) / 1000;
    if (timerBox) {
      timerBox.textContent = clockText(left);
      timerBox.classList.toggle("quiz-timer-low", left <= 300);
    }
    if (left <= 0) {
      if (!state.finishing && !state.closed) submit();
      return;
    }
    window.setTimeout(tick, 1000 - (serverNow() % 1000));
  };
  tick();
}

if (form) {
  // Answers queued on an earlier visit (the network dropped, the phone reloaded the tab) come back first.
  for (const write of Object.values(loadQueue())) {
    if (applyToPage(write)) state.queue[write.ref] = write;
  }
  persist();
  let typing = null;
  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset[data-ref]");
    if (fieldset) enqueue(fieldset);
  });
  form.addEventListener("input", (event) => {
    if (event.target.type !== "text") return;
    window.clearTimeout(typing);
    typing = window.setTimeout(() => enqueue(event.target.closest("fieldset[data-ref]")), 800);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.value === "save") {
      flush();
      return;
    }
    const left = unanswered();
    if (left && !window.confirm(format(gettext("还有 %(left)s 题没有作答，确定交卷吗？"), { left }))) return;
    submit();
  });
  window.addEventListener("online", () => flush());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") flush();
  });
  syncClock(form.dataset.timeUrl).finally(startTimer);
  window.setInterval(() => syncClock(form.dataset.timeUrl, 1), 5 * 60 * 1000);
  flush();
}
