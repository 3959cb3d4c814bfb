// SseParser through the built package: the WHATWG parsing rules, from Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SseParser, ThreadtailError } from "../../pkg/node.js";

const enc = new TextEncoder();

/** Parses `input` pushed in the given pieces (strings or byte arrays); returns all events. */
function parseChunks(chunks, options) {
  const p = new SseParser(options);
  const out = [];
  for (const c of chunks) out.push(...p.push(c));
  return { events: out, parser: p };
}

/** Every split of `bytes` into two pushes yields the same events as one push. */
function assertEverySplit(bytes, want) {
  for (let i = 0; i <= bytes.length; i++) {
    const { events } = parseChunks([bytes.slice(0, i), bytes.slice(i)]);
    assert.deepEqual(events, want, `split at byte ${i}`);
  }
}

test("one event: type, data, id and lastEventId", () => {
  const { events, parser } = parseChunks(["id: 1\nevent: agent.message\ndata: {\"a\":1}\n\n"]);
  assert.deepEqual(events, [{ type: "agent.message", data: '{"a":1}', id: "1", lastEventId: "1" }]);
  assert.equal(parser.lastEventId, "1");
  assert.equal(parser.retry, undefined);
});

test("default type is message; several data lines are joined with LF; id persists", () => {
  const { events } = parseChunks(["id: a\ndata: x\ndata: y\n\ndata\n\n"]);
  assert.deepEqual(events, [
    { type: "message", data: "x\ny", id: "a", lastEventId: "a" },
    // a field with no colon has an empty value; the last event ID persists (no own id)
    { type: "message", data: "", lastEventId: "a" },
  ]);
});

test("CR, LF and CRLF line ends; a CRLF split across pushes is one line end", () => {
  const want = [
    { type: "message", data: "1", lastEventId: "" },
    { type: "message", data: "2", lastEventId: "" },
    { type: "message", data: "3", lastEventId: "" },
  ];
  assert.deepEqual(parseChunks(["data: 1\r\n\r\ndata: 2\r\rdata: 3\n\n"]).events, want);
  // CRLF split: "data: a\r" | "\n\r" | "\ndata: b\r\n\r\n" — one event each, no empty extra
  const { events } = parseChunks(["data: a\r", "\n\r", "\ndata: b\r", "\n", "\r", "\n"]);
  assert.deepEqual(events, [
    { type: "message", data: "a", lastEventId: "" },
    { type: "message", data: "b", lastEventId: "" },
  ]);
  // every split position of a CRLF stream, as bytes
  assertEverySplit(enc.encode("data: a\r\n\r\ndata: b\r\n\r\n"), [
    { type: "message", data: "a", lastEventId: "" },
    { type: "message", data: "b", lastEventId: "" },
  ]);
});

test("a multi-byte character split at every byte position decodes once", () => {
  const text = "id: é\ndata: こんにちは😀\n\n";
  assertEverySplit(enc.encode(text), [
    { type: "message", data: "こんにちは😀", id: "é", lastEventId: "é" },
  ]);
  // one byte per push
  const bytes = enc.encode(text);
  const { events } = parseChunks(Array.from(bytes, (b) => Uint8Array.of(b)));
  assert.equal(events.length, 1);
  assert.equal(events[0].data, "こんにちは😀");
});

test("invalid UTF-8 becomes U+FFFD", () => {
  const bytes = Uint8Array.of(...enc.encode("data: a"), 0xff, 0xc3, ...enc.encode("b\n\n"));
  const { events } = parseChunks([bytes]);
  assert.equal(events.length, 1);
  assert.match(events[0].data, /^a\uFFFD+b$/);
});

test("a leading BOM is stripped once, also when split; a second BOM is not", () => {
  const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
  const body = enc.encode("data: 1\n\n");
  const all = new Uint8Array([...bom, ...body]);
  assertEverySplit(all, [{ type: "message", data: "1", lastEventId: "" }]);
  // a BOM as a string chunk
  assert.deepEqual(parseChunks(["\uFEFFdata: 1\n\n"]).events, [
    { type: "message", data: "1", lastEventId: "" },
  ]);
  // two BOMs: the second is part of the field name "\uFEFFdata", an unknown field
  assert.deepEqual(parseChunks([new Uint8Array([...bom, ...bom, ...body])]).events, []);
  // a BOM in the middle of the stream is not stripped
  assert.deepEqual(parseChunks(["data: 1\n\n", "\uFEFFdata: 2\n\n"]).events, [
    { type: "message", data: "1", lastEventId: "" },
  ]);
});

test("an id containing NUL is ignored; an empty id clears the last event ID", () => {
  const { events, parser } = parseChunks([
    "id: good\ndata: 1\n\nid: b\0d\ndata: 2\n\nid\ndata: 3\n\n",
  ]);
  assert.deepEqual(events, [
    { type: "message", data: "1", id: "good", lastEventId: "good" },
    { type: "message", data: "2", lastEventId: "good" },
    { type: "message", data: "3", id: "", lastEventId: "" },
  ]);
  assert.equal(parser.lastEventId, "");
});

test("retry: digits only; bogus values are ignored; huge values saturate", () => {
  const cases = [
    ["retry: 1000\n", 1000],
    ["retry:1000\n", 1000],
    ["retry: 0\n", 0],
    ["retry\n", undefined],
    ["retry:\n", undefined],
    ["retry: \n", undefined],
    ["retry: 10 00\n", undefined],
    ["retry: 1000 \n", undefined],
    ["retry:  1000\n", undefined],
    ["retry: -1\n", undefined],
    ["retry: 1e3\n", undefined],
    ["retry: 1.5\n", undefined],
    ["retry: ١٢\n", undefined],
  ];
  for (const [input, want] of cases) {
    const { parser, events } = parseChunks([input]);
    assert.equal(parser.retry, want, JSON.stringify(input));
    assert.deepEqual(events, [], JSON.stringify(input));
  }
  const huge = parseChunks(["retry: 99999999999999999999999999\n"]).parser.retry;
  assert.ok(huge >= 1.8e19, `saturated, got ${huge}`);
  // an invalid value keeps the previous valid one; retry inside a block does not stop the event
  const { parser, events } = parseChunks(["retry: 250\nretry: x\ndata: y\n\n"]);
  assert.equal(parser.retry, 250);
  assert.deepEqual(events, [{ type: "message", data: "y", lastEventId: "" }]);
});

test("comments go to onComment, never as events; unknown fields are ignored", () => {
  const comments = [];
  const { events } = parseChunks([": heartbeat\n\n:\n\n: a\n", "data: x\nfoo: bar\n: b\n\n"], {
    onComment: (c) => comments.push(c),
  });
  assert.deepEqual(events, [{ type: "message", data: "x", lastEventId: "" }]);
  assert.equal(comments.length, 4);
  assert.ok(comments[0].includes("heartbeat"), comments[0]);
  // without onComment, comments are simply dropped
  assert.deepEqual(parseChunks([": only a comment\n\n"]).events, []);
  // a block with no data line dispatches nothing
  assert.deepEqual(parseChunks(["event: x\nid: 5\n\n"]).events, []);
});

test("end() discards an unterminated block; the parser then reads a new stream", () => {
  const p = new SseParser();
  assert.deepEqual(p.push("data: complete\n\ndata: partial\n"), [
    { type: "message", data: "complete", lastEventId: "" },
  ]);
  p.end();
  assert.deepEqual(p.push("\n"), []); // the partial block is gone
  assert.deepEqual(p.push("data: next\n\n"), [{ type: "message", data: "next", lastEventId: "" }]);
  // data without any line end at the end of the stream is discarded too
  const q = new SseParser();
  assert.deepEqual(q.push("data: no end"), []);
  q.end();
  assert.deepEqual(q.push("data: after\n\n"), [{ type: "message", data: "after", lastEventId: "" }]);
});

test("reset() drops the partial block and line but keeps the last event ID", () => {
  const p = new SseParser();
  p.push("id: 7\ndata: a\n\n");
  p.push("id: 8\ndata: partial\ndat");
  p.reset();
  assert.equal(p.lastEventId, "7");
  // a BOM is expected again at the start of the reconnected stream
  assert.deepEqual(p.push("\uFEFFdata: b\n\n"), [{ type: "message", data: "b", lastEventId: "7" }]);
  // the partial line is dropped: "a: tail" does not complete "dat" into "data: tail"
  const q = new SseParser();
  q.push("data: partial\ndat");
  q.reset();
  assert.deepEqual(q.push("a: tail\n\n"), []);
});

test("lastEventId option seeds the last event ID", () => {
  const p = new SseParser({ lastEventId: "evt_9" });
  assert.equal(p.lastEventId, "evt_9");
  assert.deepEqual(p.push("data: x\n\n"), [{ type: "message", data: "x", lastEventId: "evt_9" }]);
});

test("an oversized event throws ThreadtailError too_large with the other events; parsing goes on", () => {
  const p = new SseParser({ maxEventBytes: 64 });
  const big = "x".repeat(200);
  let err;
  try {
    p.push(`data: before\n\ndata: ${big}\n\ndata: after\n\n`);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ThreadtailError, String(err));
  assert.ok(err instanceof Error);
  assert.equal(err.kind, "too_large");
  assert.deepEqual(
    err.events.map((e) => e.data),
    ["before", "after"],
  );
  // the next push goes on
  assert.deepEqual(p.push("data: next\n\n"), [{ type: "message", data: "next", lastEventId: "" }]);
  // an oversized event arriving in many small pieces is refused too, then parsing goes on
  let thrown = 0;
  for (let i = 0; i < 30; i++) {
    try {
      p.push(i === 0 ? "data: " : "yyyyyyyyyy");
    } catch (e) {
      assert.equal(e.kind, "too_large");
      thrown++;
    }
  }
  assert.equal(thrown, 1, "reported once");
  const tail = p.push("\n\ndata: ok\n\n");
  assert.deepEqual(tail, [{ type: "message", data: "ok", lastEventId: "" }]);
});

test("onError receives the size error instead of a throw", () => {
  const errors = [];
  const p = new SseParser({ maxEventBytes: 16, onError: (e) => errors.push(e) });
  const events = p.push(`data: ${"z".repeat(40)}\n\ndata: ok\n\n`);
  assert.deepEqual(events, [{ type: "message", data: "ok", lastEventId: "" }]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, "too_large");
});

test("string, Uint8Array, other views and ArrayBuffer chunks give the same events", () => {
  const text = "event: e\ndata: 日本\n\n";
  const a = parseChunks([text]).events;
  const b = parseChunks([enc.encode(text)]).events;
  const c = parseChunks([enc.encode(text).buffer]).events;
  // The same rule as for streamed bodies (chunkBytes in glue.js): any view, at its offset.
  const padded = enc.encode("xx" + text);
  const d = parseChunks([new DataView(padded.buffer, 2)]).events;
  const e = parseChunks([new Int8Array(padded.buffer, 2)]).events;
  assert.deepEqual(a, [{ type: "e", data: "日本", lastEventId: "" }]);
  for (const other of [b, c, d, e]) assert.deepEqual(other, a);
});

test("any chunking of a mixed stream yields the same events (random splits)", () => {
  const text =
    "\uFEFF: hi\r\nid: 1\r\nevent: a\r\ndata: α\r\ndata: β\r\n\r\nretry: 30\ndata: 😀\r\rid\n" +
    "data:x\n\nevent: z\ndata\n\nfoo\n\n";
  const bytes = enc.encode(text);
  const want = parseChunks([bytes]).events;
  assert.equal(want.length, 4);
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let round = 0; round < 300; round++) {
    const chunks = [];
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 8);
      chunks.push(bytes.slice(i, i + n));
      i += n;
    }
    assert.deepEqual(parseChunks(chunks).events, want, `round ${round}`);
  }
});

test("bad options and bad chunks throw invalid_argument, never crash", () => {
  for (const opts of [{ maxEventBytes: 0 }, { maxEventBytes: "big" }, { maxEventBytes: -1 }, { onComment: 3 }, { onError: "x" }, 5, "s",
    // No stream's id can hold these; a CR would also break the batch's framing.
    { lastEventId: "a\rb" }, { lastEventId: "a\nb" }, { lastEventId: "a\0b" }]) {
    assert.throws(
      () => new SseParser(opts),
      (e) => e instanceof ThreadtailError && e.kind === "invalid_argument",
      JSON.stringify(opts),
    );
  }
  const p = new SseParser();
  for (const chunk of [undefined, null, 42, {}, [1, 2], true]) {
    assert.throws(
      () => p.push(chunk),
      (e) => e instanceof ThreadtailError && e.kind === "invalid_argument",
      String(chunk),
    );
  }
  // still usable
  assert.deepEqual(p.push("data: 1\n\n"), [{ type: "message", data: "1", lastEventId: "" }]);
  // a listener that throws does not break the parser
  const q = new SseParser({ onComment: () => { throw new Error("listener"); } });
  const saved = globalThis.reportError;
  globalThis.reportError = () => {};
  try {
    assert.deepEqual(q.push(": c\ndata: 1\n\n").length, 1);
  } finally {
    globalThis.reportError = saved;
  }
});
