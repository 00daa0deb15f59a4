/* The screens' web player (kiosks in Chromium's kiosk mode, TV browsers), portrait or landscape.

   Unpaired, it asks for a pairing code and shows it large; its credential stays in localStorage. Paired, it reads
   its manifest (docs/screens.md), has the Service Worker cache every file of the window, and plays what the
   manifest says plays now — on the server's clock (the offset its heartbeats measure) — full-screen: videos on two
   stacked <video> elements (the next one loaded and waiting under the current one, started the moment the current
   ends), image slides and notices for their seconds. It keeps playing from the cache when the network is gone and
   after a restart, and reports what it played (proof of play) in batches, kept in localStorage until the server
   has them. window.lighthousePlayer exposes its state for the browser tests.

   Every manifest response carries an Ed25519 signature of its exact bytes (X-Lighthouse-Signature); one that does not
   verify with the server's public keys (given with the page, kept in localStorage) is refused: the player goes on
   with the last good manifest (kept in its own cache for restarts) and counts the refusal in its heartbeat. An
   emergency of the manifest (itself signed) takes the whole screen from its start to its end on the server clock,
   or until a newer manifest no longer has it (cancelled); the player acknowledges it once, retrying while offline. */

const config = JSON.parse(document.getElementById("player-config").textContent);
const strings = config.strings;
const slot = new URLSearchParams(location.search).get("screen") || "default";
const store = {
  get: (name, fallback = null) => JSON.parse(localStorage.getItem(`lighthouse.screen.${slot}.${name}`) ?? "null") ?? fallback,
  set: (name, value) => localStorage.setItem(`lighthouse.screen.${slot}.${name}`, JSON.stringify(value)),
  drop: (name) => localStorage.removeItem(`lighthouse.screen.${slot}.${name}`),
};
const HEARTBEAT_MS = 60_000;
const MANIFEST_MS = 5 * 60_000;
const PLAYS_MS = 10_000;
const PLAYS_BATCH = 200;
const RESYNC_SECONDS = 2; // further off the schedule than this at an item's start: jump to where it should be
const GOOD_MANIFEST = "lighthouse-screen-good-manifest-v1"; // the last manifest whose signature verified
const ACK_WAIT_MS = [2_000, 300_000]; // an acknowledgement's retries: first wait, longest wait

const state = {
  manifest: null,
  offset: store.get("clock_offset", 0), // server clock minus ours, in ms
  ready: new Set(), // asset keys cached and intact
  transitions: [], // {from, to, gap_ms}: from one item's end to the next one's first frame on screen
  played: 0,
  cache: [], // the Service Worker's last reports
  online: true,
  current: null,
  refused: 0, // manifests refused since the start: their signature did not verify
  emergencies: [], // the latest manifest's emergencies whose signature verified
  emergency: null, // the one showing now
  ended: new Set(), // emergencies the server answered as expired or cancelled
};
window.lighthousePlayer = state;

const $ = (id) => document.getElementById(id);
const serverNow = () => Date.now() + state.offset;
const credential = () => store.get("credential");

function show(title, code = "", hint = "") {
  $("message-title").textContent = title;
  $("message-code").textContent = code;
  $("message-hint").textContent = hint;
  $("message").classList.add("front");
}

function setOnline(online) {
  state.online = online;
  document.body.dataset.network = online ? "online" : "offline";
  $("network").hidden = online;
  $("network").textContent = online ? "" : strings.offline;
}

async function api(path, { method = "GET", body = null, auth = credential() } = {}) {
  const headers = { Accept: "application/json" };
  if (auth) headers.Authorization = `Bearer ${auth}`;
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(config.api + path, { method, headers, body: body && JSON.stringify(body) });
  return response;
}

// --- Pairing ------------------------------------------------------------------------------------------------------

function credentialFromLink() {
  // A setup link may carry the credential after "#" (never sent to a server): kept, then taken off the address.
  const match = location.hash.match(/credential=([^&]+)/);
  if (match) {
    store.set("credential", decodeURIComponent(match[1]));
    store.set("paired", true);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

async function pair() {
  for (;;) {
    const asked = await api("pairings", {
      method: "POST", auth: null, body: { width: screen.width || innerWidth, height: screen.height || innerHeight },
    });
    if (!asked.ok) { await sleep(15_000); continue; }
    const { credential: secret, code } = await asked.json();
    store.set("credential", secret);
    show(strings.pair_title, code, strings.pair_hint);
    for (;;) {
      await sleep(3_000);
      const answer = await api("pairings/me").catch(() => null);
      if (answer && answer.status === 200 && (await answer.json()).paired) { store.set("paired", true); return; }
      if (answer && (answer.status === 410 || answer.status === 401)) { show(strings.pair_expired); break; }
    }
  }
}

// --- Signatures ---------------------------------------------------------------------------------------------------

const bytesOf = (base64) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
const publicKeys = new Map(); // key id → CryptoKey

function knownKeys() {
  // Kept from every page that carried them, so a page served later from the cache still verifies.
  const keys = { ...store.get("keys", {}), ...(config.keys || {}) };
  store.set("keys", keys);
  return keys;
}

async function signatureValid(data, keyId, signature) {
  const raw = knownKeys()[keyId];
  if (!raw || !signature) return false;
  try {
    if (!publicKeys.has(keyId)) {
      const key = await crypto.subtle.importKey("raw", bytesOf(raw), { name: "Ed25519" }, false, ["verify"]);
      publicKeys.set(keyId, key);
    }
    return await crypto.subtle.verify({ name: "Ed25519" }, publicKeys.get(keyId), bytesOf(signature), data);
  } catch {
    return false; // a malformed key or signature, or a browser without Ed25519: nothing unverified plays
  }
}

function headerParts(value) {
  const parts = {};
  for (const part of (value || "").split(",")) {
    const at = part.indexOf("=");
    if (at > 0) parts[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return parts;
}

/* {manifest, body, header} of a response whose body carries our signature; null when it does not verify. */
async function signedManifest(response) {
  const header = response.headers.get(config.signature_header) || "";
  const body = await response.arrayBuffer();
  const { keyid, sig } = headerParts(header);
  if (!(await signatureValid(body, keyid, sig))) return null;
  return { manifest: JSON.parse(new TextDecoder().decode(body)), body, header };
}

/* The emergencies whose own signature verifies (docs/screens.md: the six fields, keys sorted, as JSON). */
async function verifiedEmergencies(manifest) {
  const valid = [];
  for (const e of manifest.emergencies || []) {
    const payload = { channel: e.channel, ends_at: e.ends_at, id: e.id, message: e.message, starts_at: e.starts_at, unit: e.unit };
    if (await signatureValid(new TextEncoder().encode(JSON.stringify(payload)), e.key_id, e.signature)) valid.push(e);
    else console.error(`lighthouse player: emergency ${e.id} refused, its signature does not verify`);
  }
  return valid;
}

// --- Manifest, cache, clock ---------------------------------------------------------------------------------------

const goodManifestKey = () => `${config.page}good-manifest/${encodeURIComponent(slot)}`;

async function loadManifest() {
  let response;
  try {
    response = await api("device/manifest");
  } catch {
    setOnline(false);
    return restoreManifest();
  }
  if (response.status === 401) { revoked(); return false; }
  if (!response.ok) return restoreManifest();
  const signed = await signedManifest(response);
  if (!signed) {
    state.refused += 1;
    const playing = state.manifest ? state.manifest.version : "none";
    console.error(`lighthouse player: manifest refused, its signature does not verify (${state.refused} so far); playing ${playing}`);
    return restoreManifest();
  }
  await useManifest(signed.manifest);
  if ("caches" in window) {
    const headers = { "Content-Type": "application/json", [config.signature_header]: signed.header };
    caches.open(GOOD_MANIFEST).then((cache) => cache.put(goodManifestKey(), new Response(signed.body, { headers })));
  }
  return true;
}

async function useManifest(manifest) {
  state.emergencies = await verifiedEmergencies(manifest);
  state.manifest = manifest;
  emergencyCheck();
}

/* Started without a usable answer (offline, or a refused one): the last manifest that verified, if there is one. */
async function restoreManifest() {
  if (state.manifest || !("caches" in window)) return false;
  const cached = await (await caches.open(GOOD_MANIFEST)).match(goodManifestKey());
  const signed = cached && (await signedManifest(cached));
  if (!signed) return false;
  await useManifest(signed.manifest);
  return true;
}

function revoked() {
  store.drop("credential"); store.drop("paired");
  show(strings.revoked);
  setTimeout(() => location.reload(), 10_000);
}

/* Asks the Service Worker to cache the window's files (the ones playing soonest first), checking what it holds when
   ``verify`` (on every start). Resolves when it has gone through all of them. */
function cacheAssets(verify) {
  const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (!worker || !state.manifest) return Promise.resolve();
  const soon = new Map(upcoming(serverNow(), 50).map((step, index) => [step.entry.asset, index]));
  const order = (asset) => soon.get(asset.key) ?? Infinity;
  const assets = [...state.manifest.assets].sort((a, b) => order(a) - order(b))
    .map(({ key, url, sha256 }) => ({ key, url, sha256 }));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => {
      if (data.type === "asset") {
        state.cache.push(data);
        if (data.ready) state.ready.add(data.key); else state.ready.delete(data.key);
      } else if (data.type === "done") resolve(data.results);
    };
    worker.postMessage({ type: "sync", assets, verify }, [channel.port2]);
  });
}

async function heartbeat() {
  // The browser knows it has no network: no request that can only fail (the "online" event sends one at once).
  if (!navigator.onLine) return;
  const sent = Date.now();
  try {
    const response = await api("device/heartbeat", {
      method: "POST",
      body: {
        manifest_version: state.manifest ? state.manifest.version : "",
        screen_width: screen.width || innerWidth, screen_height: screen.height || innerHeight,
        device_time: new Date(sent).toISOString(), manifests_refused: state.refused,
      },
    });
    if (response.status === 401) { revoked(); return; }
    if (!response.ok) return;
    const answer = await response.json();
    const received = Date.now();
    state.offset = Date.parse(answer.server_time) - (sent + received) / 2;
    store.set("clock_offset", state.offset);
    setOnline(true);
    if (!answer.manifest_current && (await loadManifest())) cacheAssets(false);
  } catch {
    setOnline(false);
  }
}

// --- What plays when ----------------------------------------------------------------------------------------------

/* The step playing at server time ``at`` (ms): its entry, channel, block and how far into it; null when nothing is
   scheduled (or the manifest's window is over). */
function stepAt(at) {
  const manifest = state.manifest;
  if (!manifest) return null;
  const emergency = emergencyAt(at);
  if (emergency && emergency.channel == null) return { emergency, idleUntil: Date.parse(emergency.ends_at) };
  // An emergency's channel plays its loop from the emergency's start, over whatever the blocks say.
  const block = emergency
    ? { start: emergency.starts_at, end: emergency.ends_at, channel: emergency.channel, loop_offset: 0 }
    : manifest.blocks.find((b) => Date.parse(b.start) <= at && at < Date.parse(b.end));
  if (!block || block.channel == null) return block ? { idleUntil: Date.parse(block.end) } : null;
  const channel = manifest.channels.find((c) => c.id === block.channel);
  if (!channel || !channel.entries.length || !(channel.loop_seconds > 0)) return { idleUntil: Date.parse(block.end) };
  let position = (block.loop_offset + (at - Date.parse(block.start)) / 1000) % channel.loop_seconds;
  for (const entry of channel.entries) {
    if (position < entry.seconds) {
      const remaining = Math.min(entry.seconds - position, (Date.parse(block.end) - at) / 1000);
      return { entry, channel, block, offset: position, remaining };
    }
    position -= entry.seconds;
  }
  return { entry: channel.entries[0], channel, block, offset: 0, remaining: channel.entries[0].seconds };
}

function upcoming(from, count) {
  const steps = [];
  let at = from;
  for (let i = 0; i < count; i += 1) {
    const step = stepAt(at);
    if (!step || !step.entry) break;
    steps.push(step);
    at += Math.max(step.remaining, 0.05) * 1000;
  }
  return steps;
}

function assetSource(key) {
  if (state.ready.has(key)) return config.asset_prefix + encodeURIComponent(key);
  const asset = state.manifest.assets.find((a) => a.key === key);
  return asset ? asset.url : null;
}

// --- Playing ------------------------------------------------------------------------------------------------------

const videos = [$("video-a"), $("video-b")];
let front = 0; // which <video> is on top
const audios = [$("audio-a"), $("audio-b")]; // an audio screen's two players, as the videos: one plays, one waits
let audioFront = 0;
let prepared = null; // {step, video} loaded under the current one (a still: {step, picture})
let onScreen = null; // the item showing, as itemName() writes it

function layer(element) {
  for (const other of document.querySelectorAll(".layer")) {
    other.classList.toggle("front", other === element);
    other.classList.remove("under");
  }
}

/* What an item is in the transitions' log: its file, or its kind when it has none (a notice, the clock). */
function itemName(step) {
  return step.entry.asset ? assetSource(step.entry.asset) : `${step.entry.kind}:${step.entry.entry}`;
}

/* An entry whose file is an audio rendition (an audio screen's channel): played on <audio>, shown as a card. */
function isAudio(step) {
  const asset = step && step.entry && step.entry.asset && state.manifest.assets.find((a) => a.key === step.entry.asset);
  return Boolean(asset && asset.kind === "audio");
}

function pauseAll(except = null) {
  for (const media of [...videos, ...audios]) if (media !== except) media.pause();
}

function prepare(step, at) {
  if (isAudio(step)) {
    const audio = audios[1 - audioFront];
    const source = assetSource(step.entry.asset);
    if (audio.dataset.source !== source) {
      audio.dataset.source = source;
      audio.src = source;
      audio.load();
    }
    audio.currentTime = step.offset || 0;
    prepared = { step, audio, at };
    return;
  }
  if (!step || !step.entry || step.entry.kind !== "video") {
    prepared = step ? { step, at } : null;
    // A still's picture is fetched and decoded now, so it is on screen the moment the current item ends.
    if (prepared && step.entry && step.entry.asset) {
      const picture = new Image();
      picture.src = assetSource(step.entry.asset);
      picture.decode().catch(() => {});
      prepared.picture = picture;
    }
    return;
  }
  const video = videos[1 - front];
  const source = assetSource(step.entry.asset);
  if (video.dataset.source !== source) {
    video.dataset.source = source;
    video.src = source;
    video.load();
  }
  video.currentTime = step.offset || 0;
  video.classList.add("under");
  prepared = { step, video, at };
}

function record(step, startedAt) {
  const seconds = (serverNow() - startedAt) / 1000;
  if (seconds < 0.5) return;
  const queue = store.get("plays", []);
  queue.push({
    id: crypto.randomUUID(), channel: step.channel.id, entry: step.entry.entry, asset: step.entry.asset || "",
    started_at: new Date(startedAt).toISOString(), seconds: Math.round(seconds * 1000) / 1000,
    manifest_version: state.manifest.version,
  });
  store.set("plays", queue.slice(-10_000)); // a screen offline for weeks keeps its last plays, not all
  state.played += 1;
}

/* Play ``step`` now; when it ends, the prepared next one starts at once and the one after is prepared. */
function play(step, endedAt = null) {
  const current = { step, startedAt: serverNow() };
  state.current = current;
  if (step && step.emergency) { takeover(step.emergency); return; }
  $("emergency").classList.remove("front");
  delete document.body.dataset.emergency;
  document.body.dataset.state = step && step.entry ? "playing" : "idle";
  if (!step || !step.entry) {
    pauseAll();
    show(strings.idle);
    const wait = step && step.idleUntil ? Math.min(step.idleUntil - serverNow(), 60_000) : 30_000;
    setTimeout(() => play(stepAt(serverNow())), Math.max(wait, 1_000));
    return;
  }
  const finish = () => {
    if (state.current !== current) return;
    const ended = performance.now();
    record(step, current.startedAt);
    let next = prepared && prepared.step;
    // Off the schedule (a stall, a slow start, a clock corrected): play what should be playing, where it should be.
    if (!next || Math.abs(serverNow() - prepared.at) > RESYNC_SECONDS * 1000) {
      next = stepAt(serverNow());
      prepared = null;
    }
    play(next, ended);
  };
  const from = onScreen;
  onScreen = itemName(step);
  if (isAudio(step)) playAudio(step, current, finish, endedAt, from);
  else if (step.entry.kind === "video") playVideo(step, current, finish, endedAt, from);
  else playStill(step, finish, endedAt, from);
  const endsAt = current.startedAt + step.remaining * 1000;
  const following = stepAt(endsAt + 20);
  // Prepare after the current one has started, so the two elements never both decode their first frames at once.
  setTimeout(() => { if (state.current === current) prepare(following, endsAt); }, 300);
}

/* The element prepared for this step (loaded ahead), else the waiting one of the pair loaded now; either way it
   ends the step when it ends, or a second after an error. */
function mediaFor(step, pair, frontIndex, kind, finish) {
  let element = prepared && prepared.step === step && prepared[kind];
  prepared = null;
  if (!element) {
    element = pair[1 - frontIndex];
    element.src = element.dataset.source = assetSource(step.entry.asset);
    element.currentTime = step.offset || 0;
  }
  element.onended = finish;
  element.onerror = () => setTimeout(finish, 1_000);
  return element;
}

function playVideo(step, current, finish, endedAt, from = null) {
  const video = mediaFor(step, videos, front, "video", finish);
  const previous = videos[front];
  front = videos.indexOf(video);
  video.classList.add("under"); // visible under the front layer: a hidden <video> presents no frames
  video.requestVideoFrameCallback((now) => {
    layer(video);
    if (previous !== video) previous.pause();
    for (const audio of audios) audio.pause();
    if (endedAt !== null) {
      state.transitions.push({ from: from ?? previous.dataset.source, to: video.dataset.source, gap_ms: now - endedAt });
    }
  });
  video.play().catch(() => setTimeout(finish, 1_000));
}

/* An audio item: the waiting <audio> starts the moment the last item ends (the gap is measured to its first sound
   played, the "playing" event); the card shows its title and channel. */
function playAudio(step, current, finish, endedAt, from) {
  const audio = mediaFor(step, audios, audioFront, "audio", finish);
  audioFront = audios.indexOf(audio);
  audio.muted = false;
  audio.onplaying = () => {
    audio.onplaying = null;
    if (endedAt !== null) state.transitions.push({ from, to: audio.dataset.source, gap_ms: performance.now() - endedAt });
  };
  $("now-playing-title").textContent = (step.entry.slide && step.entry.slide.title) || "";
  $("now-playing-channel").textContent = step.channel.name || "";
  layer($("now-playing"));
  pauseAll(audio);
  audio.play().catch(() => setTimeout(finish, 1_000));
}

function playStill(step, finish, endedAt = null, from = null) {
  if (step.entry.kind === "image") {
    $("still").src = assetSource(step.entry.asset);
    layer($("still"));
  } else if (step.entry.slide) {
    showSlide(step);
  } else {
    $("notice").textContent = step.entry.text || "";
    layer($("notice"));
  }
  pauseAll();
  if (endedAt !== null) {
    const to = onScreen;
    // The next frame drawn is the first with the still in front (the same clock as a video's frame callback).
    requestAnimationFrame((now) => state.transitions.push({ from, to, gap_ms: Math.max(now - endedAt, 0) }));
  }
  setTimeout(finish, Math.max(step.remaining, 0.5) * 1000);
}

// --- Emergencies --------------------------------------------------------------------------------------------------

/* The emergency showing at server time ``at``: verified, in the latest manifest, not ended; the latest started. */
function emergencyAt(at) {
  let found = null;
  for (const e of state.emergencies) {
    if (state.ended.has(e.id) || Date.parse(e.starts_at) > at || at >= Date.parse(e.ends_at)) continue;
    if (!found || Date.parse(e.starts_at) >= Date.parse(found.starts_at)) found = e;
  }
  return found;
}

/* Every second and after each manifest: an emergency starting, ending or cancelled switches the screen at once. */
function emergencyCheck() {
  const now = serverNow();
  const active = emergencyAt(now);
  if (active) acknowledge(active);
  if ((active && active.id) === (state.emergency && state.emergency.id)) return;
  state.emergency = active;
  if (state.current) play(stepAt(now)); // playing already (else start() begins with it)
}

function takeover(emergency) {
  document.body.dataset.state = "emergency";
  document.body.dataset.emergency = String(emergency.id);
  $("emergency-message").textContent = emergency.message;
  layer($("emergency"));
  pauseAll();
}

const acking = new Set();

/* Tell the server this screen holds the emergency, once (remembered across restarts); offline, try again later. */
async function acknowledge(emergency) {
  if (acking.has(emergency.id) || store.get("acked", []).includes(emergency.id)) return;
  acking.add(emergency.id);
  const body = { key_id: emergency.key_id, signature: emergency.signature };
  for (let wait = ACK_WAIT_MS[0]; state.emergencies.some((e) => e.id === emergency.id); wait = Math.min(wait * 2, ACK_WAIT_MS[1])) {
    try {
      const response = await api(`device/emergencies/${emergency.id}/ack`, { method: "POST", body });
      if (response.ok) {
        store.set("acked", [...store.get("acked", []), emergency.id].slice(-200));
        break;
      }
      if (response.status === 410) { state.ended.add(emergency.id); emergencyCheck(); break; } // expired, cancelled
      if (response.status < 500) { console.error(`lighthouse player: acknowledgement of ${emergency.id} refused (${response.status})`); break; }
    } catch {
      setOnline(false);
    }
    await sleep(wait);
  }
  acking.delete(emergency.id);
}

// --- Slides: a newspaper's front page, a course promotion, the clock (entries with ``slide``) ---------------------

const SLIDE_LINES = ["heading", "title", "theme", "issue", "page", "premiere", "text"];
let clockTimer = null;

function slideLayer() {
  let element = $("slide");
  if (!element) {
    element = document.createElement("section");
    element.id = "slide";
    element.className = "layer";
    $("message").before(element);
  }
  return element;
}

function slideLine(name, text) {
  const element = document.createElement("p");
  element.className = `slide-${name}`;
  element.textContent = text;
  return element;
}

/* The clock: Beijing date and time on the server clock, redrawn every second while the slide is in front. */
function clockLines(element, slide) {
  const zone = slide.time_zone || "Asia/Shanghai";
  const locale = document.documentElement.lang || "zh-CN";
  const day = new Intl.DateTimeFormat(locale, { timeZone: zone, year: "numeric", month: "long", day: "numeric", weekday: "long" });
  const clock = new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const time = slideLine("time", ""), date = slideLine("date", "");
  const tick = () => {
    if (!element.classList.contains("front")) { clearInterval(clockTimer); return; }
    const now = new Date(serverNow());
    time.textContent = clock.format(now);
    date.textContent = day.format(now);
  };
  clearInterval(clockTimer);
  clockTimer = setInterval(tick, 1000);
  return { lines: [time, date], tick };
}

function showSlide(step) {
  const { kind, slide } = step.entry;
  const element = slideLayer();
  element.dataset.kind = kind;
  const source = step.entry.asset && assetSource(step.entry.asset);
  const parts = [];
  if (source) {
    const picture = document.createElement("img");
    picture.className = "slide-picture";
    picture.alt = "";
    picture.src = source;
    parts.push(picture);
  }
  const words = document.createElement("div");
  words.className = "slide-words";
  const clock = kind === "info" ? clockLines(element, slide) : null;
  for (const name of SLIDE_LINES) {
    if (slide[name]) words.append(slideLine(name, slide[name]));
    if (clock && name === "heading") words.append(...clock.lines);
  }
  element.replaceChildren(...parts, words);
  layer(element);
  if (clock) clock.tick();
}

// --- Proof of play ------------------------------------------------------------------------------------------------

async function sendPlays() {
  const queue = store.get("plays", []);
  if (!queue.length || !navigator.onLine) return;  // kept until the "online" event, as for heartbeats
  const batch = queue.slice(0, PLAYS_BATCH);
  try {
    const response = await api("device/plays", { method: "POST", body: { plays: batch } });
    if (response.status === 401) { revoked(); return; }
    // 400/422: the server stored the batch's good plays and refuses the rest for good; kept, they would block the queue.
    const refused = response.status === 400 || response.status === 422;
    if (refused) console.error(`lighthouse player: plays refused (${response.status})`);
    if (!response.ok && !refused) return;
    const sent = new Set(batch.map((p) => p.id));
    store.set("plays", store.get("plays", []).filter((p) => !sent.has(p.id)));
    setOnline(true);
  } catch {
    setOnline(false);
  }
}

// --- Start --------------------------------------------------------------------------------------------------------

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

async function controlled() {
  if (!("serviceWorker" in navigator)) { show(strings.no_worker); return false; }
  const registering = navigator.serviceWorker.register(config.service_worker, { scope: config.page });
  // Started again offline: the worker from before answers this page; checking it for an update just fails.
  if (navigator.serviceWorker.controller) { registering.catch(() => {}); return true; }
  try { await registering; } catch { show(strings.no_worker); return false; }
  if (navigator.serviceWorker.controller) return true;
  await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  return true;
}

async function start() {
  setOnline(navigator.onLine);
  credentialFromLink();
  const worker = controlled();
  if (!store.get("paired")) await pair();
  show(strings.starting);
  const hasWorker = await worker;
  while (!(await loadManifest())) await sleep(10_000);
  await heartbeat();
  if (hasWorker) {
    // The file playing now first: start as soon as it is cached; the rest keeps downloading meanwhile.
    const first = stepAt(serverNow());
    const all = cacheAssets(true);
    if (first && first.entry && first.entry.asset) {
      while (!state.ready.has(first.entry.asset) && !state.cache.some((r) => r.key === first.entry.asset)) await sleep(100);
    }
    all.then(() => { document.body.dataset.cache = "ready"; });
  }
  emergencyCheck();
  play(stepAt(serverNow()));
  setInterval(emergencyCheck, 1_000);
  setInterval(heartbeat, HEARTBEAT_MS);
  setInterval(sendPlays, PLAYS_MS);
  setInterval(async () => { if (await loadManifest()) cacheAssets(false); }, state.manifest.poll_after * 1000 || MANIFEST_MS);
  addEventListener("online", () => { heartbeat(); sendPlays(); });
  addEventListener("offline", () => setOnline(false));
}

start();
