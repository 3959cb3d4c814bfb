// The JavaScript half of delivery (`Dispatcher` and `BatchReader` in src/js/glue.js) on its
// own: both ways of decoding a batch (each event's data on its own, as in Node, or the whole
// batch at once, as in browsers) must deliver the same events and the same decode errors. The
// batches are written as src/boundary.rs describes them (that is the one description; this
// writer is the test's table of it): type, id and data, each followed by a CR, four numbers per
// event (where each part ends, then the flags), and a header found by field names. When each
// event is decoded on its own, data that is valid UTF-8 but not ASCII is UTF-16LE in a region
// of its own (FLAG_WIDE_DATA); the long strings cut out of large events (FLAG_SKELETON) are in
// another. The flag values come from glue.js (a cargo test checks them against boundary.rs).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BatchReader, Dispatcher, FLAG_HAS_ID, FLAG_OWN_LAST_ID, FLAG_SKELETON, FLAG_UPDATE, FLAG_WIDE_DATA,
} from "../../src/js/glue.js";

const enc = new TextEncoder();

// The header's fields in an order of the test's own (Rust's differs): the reader must find
// each by its name.
const LAYOUT = "endsLen ends raw long wideLen wide count meta textLen text ";

/**
 * Writes a batch into a fresh "wasm memory" as Rust would for that way of decoding; returns
 * [memory, header address]. An event with `strings` is a large one cut up by Rust: its data
 * part is `skeleton`, and `data` is its original text. An event with `last` (SseParser's) has
 * its own last event ID.
 */
function batch(events, decodeEach) {
  const bytes = [];
  const meta = [];
  const wide = [];
  const long = [];
  const raw = [];
  const ends = [];
  const put = (part) => {
    bytes.push(...(typeof part === "string" ? enc.encode(part) : part));
    meta.push(bytes.length);
    bytes.push(13);
  };
  const putUtf16 = (to, text) => {
    for (let k = 0; k < text.length; k++) to.push(text.charCodeAt(k) & 0xff, text.charCodeAt(k) >> 8);
    return to.length;
  };
  for (const e of events) {
    put(e.type);
    put(e.id ?? "");
    let flags = (e.update ? FLAG_UPDATE : 0) | (e.id !== undefined ? FLAG_HAS_ID : 0);
    if (e.strings) {
      put(e.skeleton);
      raw.push(...enc.encode(e.data));
      ends.push(raw.length, e.strings.length, ...e.strings.map((t) => putUtf16(long, t)));
      flags |= FLAG_SKELETON;
    } else if (decodeEach && typeof e.data === "string" && /[^\x00-\x7f]/.test(e.data)) {
      meta.push(putUtf16(wide, e.data));
      flags |= FLAG_WIDE_DATA;
    } else put(e.data);
    if (e.last !== undefined && e.last !== (e.id ?? "")) {
      bytes.push(...enc.encode(e.last), 13);
      flags |= FLAG_OWN_LAST_ID;
    }
    meta.push(flags);
  }
  const memory = { buffer: new ArrayBuffer(128 + bytes.length + 4 * meta.length + wide.length + long.length + raw.length + 4 * ends.length) };
  const ptr = 64;
  new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
  const metaPtr = (ptr + bytes.length + 3) & ~3;
  new Uint32Array(memory.buffer, metaPtr, meta.length).set(meta);
  const widePtr = metaPtr + 4 * meta.length;
  new Uint8Array(memory.buffer, widePtr, wide.length).set(wide);
  const endsPtr = (widePtr + wide.length + 3) & ~3;
  new Uint32Array(memory.buffer, endsPtr, ends.length).set(ends);
  const rawPtr = endsPtr + 4 * ends.length;
  new Uint8Array(memory.buffer, rawPtr, raw.length).set(raw);
  const longPtr = rawPtr + raw.length;
  new Uint8Array(memory.buffer, longPtr, long.length).set(long);
  const fields = {
    text: ptr, textLen: bytes.length, meta: metaPtr, count: events.length, wide: widePtr, wideLen: wide.length,
    long: longPtr, raw: rawPtr, ends: endsPtr, endsLen: ends.length,
  };
  const header = 8;
  new Uint32Array(memory.buffer, header, 10).set(LAYOUT.trim().split(" ").map((name) => fields[name]));
  return [memory, header];
}

function run(decodeEach, events, terminal = ["session.thread_status_terminated"]) {
  const [memory, header] = batch(events, decodeEach);
  const errors = [];
  const d = new Dispatcher(terminal, (type, id, raw, notObject) => errors.push({ type, id, raw, notObject }), memory, LAYOUT, decodeEach);
  const seen = [];
  d.add("any", null, (e, meta) => seen.push([e, meta.update]));
  const typed = [];
  d.add("type", "agent.message", (e) => typed.push(e.id));
  const handled = d.deliver(header);
  return { seen, typed, errors, stop: d.stopped, handled, after: d.handled };
}

const text = "調査結果を、まとめました。".repeat(300); // 11 KB, not ASCII
const EVENTS = [
  { type: "agent.message", id: "e1", data: '{"type":"agent.message","content":"é"}' },
  { type: "agent.message", id: "e2", data: '{"content":"type and id from the SSE lines"}' },
  { type: "message", data: '{"type":"session.thread_created","parent_thread_id":"t0"}' },
  { type: "agent.message", id: "e3", data: "not json" },
  { type: "x.y", id: "e4", data: "[1,2]" },
  { type: "agent.message", id: "e5", data: '{"type":7,"id":"own"}', update: true },
  { type: "agent.message", id: "e6", data: `{"content":"${text}"}` },
  { type: "agent.message", id: "e7", data: [...enc.encode('{"content":"'), 0xe3, 0x81, ...enc.encode('x"}')] },
  { type: "agent.message", id: "e8", data: "\ufeff{}" },
  // Large events cut up by Rust: strings put back, and the original text in decode errors.
  {
    type: "agent.message", id: "h1", data: `{"a":"${text}","b":[{"c":"${text}\\n"}],"k":"short"}`,
    skeleton: '{"a":"\\u00000","b":[{"c":"\\u00001"}],"k":"short"}', strings: [text, text + "\n"],
  },
  { type: "agent.message", id: "h2", data: `{"a":"${text}",}`, skeleton: '{"a":"\\u00000",}', strings: [text] },
  { type: "agent.message", id: "h3", data: `"${text}"`, skeleton: '"\\u00000"', strings: [text] },
  { type: "agent.message", id: "", data: '{"multi":\n"line"}' },
  { type: "session.thread_status_terminated", id: "e9", data: "{}" },
  { type: "agent.message", id: "e10", data: '{"after":"the end"}' },
];

for (const decodeEach of [true, false]) {
  test(`${decodeEach ? "each event decoded on its own" : "the whole batch decoded at once"}: what is delivered`, () => {
    const r = run(decodeEach, EVENTS);
    assert.equal(r.stop, true, "the terminal event stops the stream");
    assert.equal(r.handled, 14, "handed over or reported: everything up to the terminal event");
    assert.equal(r.after, -1, "no delivery in progress");
    assert.deepEqual(r.seen.map(([e]) => [e.type, e.id]), [
      ["agent.message", "e1"],
      ["agent.message", "e2"],
      ["session.thread_created", undefined],
      [7, "own"],
      ["agent.message", "e6"],
      ["agent.message", "e7"],
      ["agent.message", "h1"],
      ["agent.message", ""],
      ["session.thread_status_terminated", "e9"],
    ]);
    assert.equal(r.seen[3][0].type, 7, "a type that is not a string is left as the JSON has it");
    assert.deepEqual(r.seen.map(([, u]) => u), [false, false, false, true, false, false, false, false, false]);
    assert.deepEqual(r.typed, ["e1", "e2", "own", "e6", "e7", "h1", ""], "typed listeners go by the SSE type when the JSON type is not a string");
    assert.deepEqual(r.seen[6][0], { a: text, b: [{ c: text + "\n" }], k: "short", id: "h1", type: "agent.message" }, "strings put back, only where they were cut out");
    assert.equal(r.seen[4][0].content, text);
    assert.equal(r.seen[5][0].content, "\ufffdx", "an invalid sequence becomes U+FFFD");
    assert.deepEqual(r.seen[7][0].multi, "line");
    assert.deepEqual(r.errors, [
      { type: "agent.message", id: "e3", raw: "not json", notObject: false },
      { type: "x.y", id: "e4", raw: "[1,2]", notObject: true },
      { type: "agent.message", id: "e8", raw: "\ufeff{}", notObject: false },
      { type: "agent.message", id: "h2", raw: `{"a":"${text}",}`, notObject: false },
      { type: "agent.message", id: "h3", raw: `"${text}"`, notObject: true },
    ], "a leading U+FEFF is data; a cut-up event's error shows its original text");
  });
}

test("both ways agree on random batches", () => {
  let seed = 11;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const pieces = ["a", "é", "調", "😀", " ", "\\n", '\\"', "x".repeat(40)];
  for (let round = 0; round < 50; round++) {
    const events = [];
    for (let i = 0, n = 1 + rnd(30); i < n; i++) {
      let s = "";
      for (let k = 0, m = rnd(200); k < m; k++) s += pieces[rnd(pieces.length)];
      const data = rnd(10) === 0 ? s : JSON.stringify({ n: i, s });
      events.push({ type: ["agent.message", "a", ""][rnd(3)], id: rnd(4) ? `evt_${round}_${i}` : undefined, data, update: rnd(5) === 0 });
    }
    const a = run(true, events), b = run(false, events);
    assert.deepEqual(b.seen, a.seen, `round ${round}`);
    assert.deepEqual(b.errors, a.errors, `round ${round}`);
    assert.equal(a.seen.length + a.errors.length, events.length);
  }
});

test("SseParser's events: decoded in one call or event by event, the same", () => {
  // In Node, Rust hands data that is not ASCII over as UTF-16 (FLAG_WIDE_DATA), in a region of its own.
  let seed = 5;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const pieces = ["a", "é", "調", "😀", " ", "\n", "{}", "x".repeat(30)];
  const text = (n) => Array.from({ length: n }, () => pieces[rnd(pieces.length)]).join("");
  let wideSeen = false, ownLastSeen = false;
  for (let round = 0; round < 50; round++) {
    const events = [];
    const want = [];
    for (let i = 0, n = 1 + rnd(20); i < n; i++) {
      const type = ["message", "agent.message", text(3)][rnd(3)];
      const hasId = rnd(3) > 0, id = hasId ? text(rnd(6)) : undefined;
      const data = text(rnd(300));
      const last = hasId && rnd(2) === 0 ? id : text(rnd(4));
      events.push({ type, id, data, last });
      want.push(hasId ? { type, data, id, lastEventId: last } : { type, data, lastEventId: last });
      wideSeen ||= /[^\x00-\x7f]/.test(data);
      ownLastSeen ||= last !== (id ?? "");
    }
    for (const each of [false, true]) {
      const [memory, header] = batch(events, each);
      const got = new BatchReader(memory, LAYOUT, each).sseEvents(header);
      assert.deepEqual(got, want, `round ${round}, ${each ? "event by event" : "in one call"}`);
    }
  }
  assert.ok(wideSeen && ownLastSeen, "UTF-16 data and own last event IDs are covered");
});
