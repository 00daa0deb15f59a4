/* The screens' Service Worker (Workbox): keeps a screen playing without the network and across restarts.

   - The files of the manifest's window are cached under their asset key (/screens/player/asset/<key>), not under
     the signed URL that fetched them (it expires within the hour). The page sends the list after each manifest;
     each file is checked against its SHA-256 (SubtleCrypto) before it is kept, downloaded again when it does not
     match, and files no longer in the window are deleted. On a start the page asks for a check of what is cached:
     a file corrupted on disk is found and downloaded again.
   - Videos are answered from that cache with range requests (workbox-range-requests): the <video> elements ask
     for byte ranges.
   - The page, its script and style, and the last manifest are answered from the network when it is there and from
     the cache when not, so the screen starts again offline after a restart. */
const SETTINGS = {{ settings_json|safe }};
importScripts(SETTINGS.workbox_sw);
workbox.setConfig({ debug: false, modulePathCb: (name) => SETTINGS.modules[name] });

const { registerRoute } = workbox.routing;
const { NetworkFirst, CacheOnly } = workbox.strategies;
const { RangeRequestsPlugin } = workbox.rangeRequests;

const SHELL = "lighthouse-screen-shell-v1";
const MANIFESTS = "lighthouse-screen-manifest-v1";
const ASSETS = "lighthouse-screen-assets-v1";
const DOWNLOAD_TRIES = 3;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SETTINGS.shell)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

const networkFirst = (cacheName) =>
  new NetworkFirst({ cacheName, networkTimeoutSeconds: 5, matchOptions: { ignoreSearch: true } });
registerRoute(({ request }) => request.mode === "navigate", networkFirst(SHELL));
registerRoute(({ url }) => SETTINGS.shell.includes(url.pathname), networkFirst(SHELL));
registerRoute(({ url }) => url.pathname.endsWith("/screens/device/manifest"), networkFirst(MANIFESTS));
registerRoute(
  ({ url }) => url.pathname.startsWith(SETTINGS.asset_prefix),
  new CacheOnly({ cacheName: ASSETS, plugins: [new RangeRequestsPlugin()] }),
);

const assetRequest = (key) => new Request(SETTINGS.asset_prefix + encodeURIComponent(key));

async function sha256(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function intact(cache, asset) {
  const cached = await cache.match(assetRequest(asset.key));
  if (!cached) return false;
  if (!asset.sha256) return true;
  return (await sha256(await cached.arrayBuffer())) === asset.sha256;
}

async function download(cache, asset) {
  for (let attempt = 1; attempt <= DOWNLOAD_TRIES; attempt += 1) {
    const response = await fetch(asset.url, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const buffer = await response.arrayBuffer();
    if (!asset.sha256 || (await sha256(buffer)) === asset.sha256) {
      const type = response.headers.get("Content-Type") || "application/octet-stream";
      const headers = { "Content-Type": type, "Content-Length": String(buffer.byteLength) };
      await cache.put(assetRequest(asset.key), new Response(buffer, { status: 200, headers }));
      return attempt;
    }
  }
  throw new Error("checksum");
}

/* One asset: kept if cached (and intact when asked to verify), else downloaded. Reports what happened. */
async function keep(cache, asset, verify, known) {
  const cached = known.has(asset.key);
  if (cached && !verify) return { key: asset.key, ready: true, action: "cached" };
  if (cached && (await intact(cache, asset))) return { key: asset.key, ready: true, action: "verified" };
  try {
    const tries = await download(cache, asset);
    return { key: asset.key, ready: true, action: cached ? "repaired" : "downloaded", tries };
  } catch (error) {
    // Offline, or the file keeps arriving wrong: a damaged cached copy is deleted, never played.
    if (cached) await cache.delete(assetRequest(asset.key));
    return { key: asset.key, ready: false, action: "failed", error: String(error) };
  }
}

async function sync(port, assets, verify) {
  const cache = await caches.open(ASSETS);
  const keys = await cache.keys();
  const wanted = new Set(assets.map((asset) => SETTINGS.asset_prefix + encodeURIComponent(asset.key)));
  const known = new Set();
  for (const request of keys) {
    const path = new URL(request.url).pathname;
    if (wanted.has(path)) known.add(decodeURIComponent(path.slice(SETTINGS.asset_prefix.length)));
    else await cache.delete(request); // out of the window: the disk is a screen's scarcest resource
  }
  const results = [];
  for (const asset of assets) {
    const result = await keep(cache, asset, verify, known);
    results.push(result);
    port.postMessage({ type: "asset", ...result });
  }
  port.postMessage({ type: "done", results });
}

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "sync" && event.ports[0]) {
    event.waitUntil(sync(event.ports[0], event.data.assets || [], Boolean(event.data.verify)));
  }
});
