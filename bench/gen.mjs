// Deterministic thread-event streams for the benchmarks (Node and browser alike).
// Seeded PRNG (mulberry32), JSON shaped like the API's thread events, Japanese text so that
// random chunk boundaries fall inside multi-byte characters, LF or CRLF line ends, large
// payloads sometimes split over several `data:` lines.

export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  return next;
}

const WORDS = ["調査", "結果", "を", "まとめ", "ました", "エージェント", "スレッド", "の", "状態",
  "は", "research", "agent", "thread", "summary", "tool", "result", "ok", "。", "、", "です",
  "レビュー", "完了", "次の", "手順"];

const SESSION = "sess_0000000000000000000000000001";
const THREAD = "sthr_00000000000000000000000000000002";
const OTHER = "sthr_00000000000000000000000000000003";

/** The event types used (listeners of `eventsource` / native EventSource need them by name). */
export const TYPES = ["agent.thread_message_received", "agent.thread_message_sent",
  "session.thread_status_running", "session.thread_status_idle", "agent.message",
  "session.thread_status_terminated"];

let POOL = null;
/** About `bytes` bytes of UTF-8 text: a seeded slice of a fixed pool of words. */
function words(r, bytes) {
  if (!POOL) {
    const p = rng(12345);
    let s = "";
    while (s.length < 400_000) {
      s += WORDS[p.int(0, WORDS.length - 1)];
      if (p() < 0.25) s += " ";
    }
    POOL = s;
  }
  // ~2.2 bytes per character on average in this pool.
  const chars = Math.max(1, Math.round(bytes / 2.2));
  const start = r.int(0, POOL.length - chars - 1);
  return POOL.slice(start, start + chars);
}

export const idOf = (i) => "evt_" + i.toString(16).padStart(32, "0");

/** The JSON of event i, about `size` bytes of UTF-8. */
export function eventJson(r, i, size, last) {
  const base = { id: idOf(i), schema_version: "1.0", session_id: SESSION, session_thread_id: THREAD };
  const created_at = "2026-06-15T08:01:00.000Z";
  if (last) return JSON.stringify({ ...base, type: "session.thread_status_terminated", created_at });
  const k = r.int(0, 9);
  const text = words(r, Math.max(16, size - 330));
  if (k < 5) {
    return JSON.stringify({ ...base, type: "agent.thread_message_received", direction: "child_to_coordinator",
      from_session_thread_id: OTHER, to_session_thread_id: THREAD, is_error: false,
      content: [{ type: "text", text }], created_at });
  }
  if (k < 7) {
    return JSON.stringify({ ...base, type: "agent.thread_message_sent", direction: "coordinator_to_child",
      from_session_thread_id: THREAD, to_session_thread_id: OTHER, content: text, created_at });
  }
  if (k < 8) return JSON.stringify({ ...base, type: "agent.message", content: [{ type: "text", text }], created_at });
  if (k < 9) return JSON.stringify({ ...base, type: "session.thread_status_running", note: text, created_at });
  return JSON.stringify({ ...base, type: "session.thread_status_idle", stop_reason: { type: "end_turn" }, note: text, created_at });
}

/**
 * A whole stream: { bytes, datas (the data string of every event), count }.
 * Events are `id:`, `event:` and `data:` lines; with multiData, large events (> 8 KB) are split
 * over several `data:` lines at member boundaries (joined with LF the JSON stays valid).
 * The last event is `session.thread_status_terminated` (ThreadStream closes after it).
 */
export function makeStream({ seed, count, min, max, crlf = false, multiData = false }) {
  const r = rng(seed);
  const eol = crlf ? "\r\n" : "\n";
  const parts = [];
  const datas = [];
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    const json = eventJson(r, i + 1, r.int(min, max), last);
    const type = json.slice(json.indexOf('"type":"') + 8, json.indexOf('"', json.indexOf('"type":"') + 8));
    let lines;
    if (multiData && json.length > 8192 && i % 3 === 0) lines = json.replace(/,"/g, ',\n"').split("\n");
    else lines = [json];
    datas.push(lines.join("\n"));
    parts.push(`id: ${idOf(i + 1)}${eol}event: ${type}${eol}` + lines.map((l) => "data: " + l + eol).join("") + eol);
  }
  const text = parts.join("");
  const bytes = new TextEncoder().encode(text);
  return { bytes, datas, count };
}

/**
 * Chunk sizes from lo to hi bytes, log-uniform (small chunks as common as large ones: a
 * uniform draw from 1 B..64 KB would almost never produce the small chunks that stress
 * carry-over), as views of `bytes`.
 */
export function chunk(bytes, seed, lo = 1, hi = 65536) {
  const r = rng(seed);
  const out = [];
  const maxBits = Math.log2(hi);
  let at = 0;
  while (at < bytes.length) {
    let size = Math.round(Math.pow(2, r() * maxBits) * (1 + r()));
    size = Math.min(Math.max(size, lo), hi, bytes.length - at);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** The datasets of the throughput benchmarks, scaled by `scale` (1 = the full sizes). */
export function datasets(scale = 1) {
  const n = (x) => Math.max(10, Math.round(x * scale));
  const specs = [
    { name: "small LF", seed: 1, count: n(100_000), min: 250, max: 550 },
    { name: "small CRLF", seed: 2, count: n(100_000), min: 250, max: 550, crlf: true },
    { name: "large LF", seed: 3, count: n(2_000), min: 16384, max: 65536, multiData: true },
    { name: "large CRLF", seed: 4, count: n(2_000), min: 16384, max: 65536, crlf: true, multiData: true },
  ];
  return specs.map((s) => {
    const st = makeStream(s);
    return { name: s.name, ...st, chunks: chunk(st.bytes, s.seed * 7919) };
  });
}
