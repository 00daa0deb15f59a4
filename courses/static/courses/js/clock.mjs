// The server's clock in the browser: a phone's own clock may be minutes off, so timers run on Date.now() plus an
// offset measured against GET /api/v1/courses/time (NTP-style: the round trip halved, the best of a few samples).

const KEY = "lighthouse.clock.offset";
let offset = Number(sessionStorage.getItem(KEY) || 0);

export function serverNow() {
  return Date.now() + offset;
}

async function sample(url) {
  const sent = Date.now();
  const response = await fetch(`${url}?client_ms=${sent}`, { cache: "no-store", credentials: "same-origin" });
  const received = Date.now();
  if (!response.ok) throw new Error(`time ${response.status}`);
  const body = await response.json();
  const start = body.client_ms ?? sent; // echoed by the server: the request this answer belongs to
  return { offset: body.epoch_ms - (start + received) / 2, roundTrip: received - start };
}

// Measure the offset (three samples, the one with the shortest round trip wins). Keeps the last known offset when
// offline; returns it either way.
export async function syncClock(url, samples = 3) {
  let best = null;
  for (let n = 0; n < samples; n += 1) {
    try {
      const result = await sample(url);
      if (!best || result.roundTrip < best.roundTrip) best = result;
    } catch (error) {
      break;
    }
  }
  if (best) {
    offset = best.offset;
    sessionStorage.setItem(KEY, String(offset));
  }
  return offset;
}

// "12:05" or "1:02:03" for a number of seconds.
export function clockText(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (value) => String(value).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}
