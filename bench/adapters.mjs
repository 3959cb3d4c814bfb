// One adapter per library: run(dataset) delivers every event of the dataset's chunks the way an
// application would and returns the number of events its callback saw. Shared by Node and
// Chromium; the libraries are passed in (`libs`), so each environment imports them its own way.

import { TYPES } from "./gen.mjs";

/** A Response whose body yields exactly the prepared chunks. */
export function responseOf(chunks) {
  const it = chunks[Symbol.iterator]();
  const body = new ReadableStream({
    pull(c) {
      const { done, value } = it.next();
      if (done) c.close();
      else c.enqueue(value);
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

/** A sink the optimiser cannot drop: what a callback does with an event. */
let sinkValue = 0;
export const consume = (v) => { sinkValue = (sinkValue + (v === undefined ? 0 : 1)) | 0; };
export const sink = () => sinkValue;

export function adapters(libs) {
  const { threadtail, createParser, fetchEventSource, EventSource } = libs;
  const list = {
    // JSON.parse of every event's data, already a string: the baseline of the typed path.
    "JSON.parse": {
      kind: "baseline",
      async run(d) {
        let n = 0;
        for (const s of d.datas) { consume(JSON.parse(s).type); n++; }
        return n;
      },
    },
    // TextDecoder decode + JSON.parse of the data of every event, no framing at all.
    floor: {
      kind: "floor",
      prepare: (d) => (d.dataBytes ??= d.datas.map((s) => new TextEncoder().encode(s))),
      async run(d) {
        const dec = new TextDecoder();
        let n = 0;
        for (const b of d.dataBytes) { consume(JSON.parse(dec.decode(b)).type); n++; }
        return n;
      },
    },
    "threadtail SseParser": {
      kind: "framing", lib: "threadtail",
      async run(d) {
        const p = new threadtail.SseParser();
        let n = 0;
        for (const c of d.chunks) {
          const evs = p.push(c);
          for (let i = 0; i < evs.length; i++) consume(evs[i].data);
          n += evs.length;
        }
        return n;
      },
    },
    "eventsource-parser": {
      kind: "framing", lib: "eventsource-parser",
      async run(d) {
        let n = 0;
        const p = createParser({ onEvent(e) { consume(e.data); n++; } });
        const dec = new TextDecoder();
        for (const c of d.chunks) p.feed(dec.decode(c, { stream: true }));
        return n;
      },
    },
    "threadtail ThreadStream": {
      kind: "typed", lib: "threadtail",
      run(d) {
        return new Promise((resolve, reject) => {
          let n = 0;
          const s = new threadtail.ThreadStream({
            baseUrl: "http://bench.invalid", sessionId: "sess_0000000000000000000000000001",
            threadId: "sthr_00000000000000000000000000000002", token: "t",
            fetch: async () => responseOf(d.chunks),
          });
          s.onEvent((e) => { consume(e.type); n++; });
          s.onError((e) => { if (e.kind !== "decode") reject(e); });
          s.onStateChange((st) => { if (st === "closed") resolve(n); });
        });
      },
    },
    "eventsource-parser + JSON.parse": {
      kind: "typed", lib: "eventsource-parser",
      async run(d) {
        // fetch + a reader loop, as the eventsource-parser README shows.
        const res = responseOf(d.chunks);
        let n = 0;
        const onEvent = (e) => { consume(e.type); n++; };
        const p = createParser({ onEvent(e) { onEvent(JSON.parse(e.data)); } });
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          p.feed(dec.decode(value, { stream: true }));
        }
        return n;
      },
    },
    "@microsoft/fetch-event-source": {
      kind: "typed", lib: "@microsoft/fetch-event-source",
      async run(d) {
        let n = 0;
        await fetchEventSource("http://bench.invalid/stream", {
          fetch: async () => responseOf(d.chunks),
          openWhenHidden: true,
          onmessage(ev) { consume(JSON.parse(ev.data).type); n++; },
          onerror(e) { throw e; },
        });
        return n;
      },
    },
    eventsource: {
      kind: "typed", lib: "eventsource",
      run(d) {
        return new Promise((resolve, reject) => {
          let n = 0;
          const es = new EventSource("http://bench.invalid/stream", {
            fetch: async () => responseOf(d.chunks),
          });
          const on = (ev) => {
            consume(JSON.parse(ev.data).type);
            if (++n === d.count) { es.close(); resolve(n); }
          };
          for (const t of TYPES) es.addEventListener(t, on);
          es.onmessage = on;
          es.onerror = (e) => { if (n < d.count) { es.close(); reject(new Error("eventsource: " + (e.message ?? "error") + " after " + n)); } };
        });
      },
    },
  };
  return list;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** One timed run: events/s and MB/s. */
async function timed(adapter, d, now) {
  const t0 = now();
  const n = await adapter.run(d);
  const s = (now() - t0) / 1000;
  if (n !== d.count) throw new Error(`delivered ${n} of ${d.count} events`);
  return [n / s, d.bytes.length / 1e6 / s];
}

const figures = (runs) => {
  const eps = runs.map((r) => r[0]), mbs = runs.map((r) => r[1]);
  return {
    events_s: median(eps), events_s_min: Math.min(...eps), events_s_max: Math.max(...eps),
    mb_s: median(mbs), mb_s_min: Math.min(...mbs), mb_s_max: Math.max(...mbs), reps: runs.length,
  };
};

/**
 * Every adapter on every dataset: {dataset: {events, bytes, chunks, adapter: figures}}. Each
 * adapter runs once to warm up, then the timed runs go round the adapters `reps` times, so
 * that a slow patch of the machine weighs on all of them alike. `only` keeps the adapters
 * whose name contains it (and both baselines); `report(dataset, name, figures)` is told of
 * each result.
 */
export async function throughput(ad, sets, reps, only, now, report = () => {}) {
  const out = {};
  for (const d of sets) {
    out[d.name] = { events: d.count, bytes: d.bytes.length, chunks: d.chunks.length };
    const chosen = Object.entries(ad).filter(([name]) => !only || name.includes(only) || name === "floor" || name === "JSON.parse");
    const runs = new Map();
    for (const [name, a] of chosen) {
      a.prepare?.(d);
      const warm = await a.run(d);
      if (warm !== d.count) throw new Error(`${name} delivered ${warm} of ${d.count} events`);
      runs.set(name, []);
    }
    for (let i = 0; i < reps; i++) for (const [name, a] of chosen) runs.get(name).push(await timed(a, d, now));
    for (const [name] of chosen) {
      out[d.name][name] = figures(runs.get(name));
      report(d.name, name, out[d.name][name]);
    }
    // Free the dataset before generating the next one.
    d.chunks = d.datas = d.dataBytes = null;
  }
  return out;
}
