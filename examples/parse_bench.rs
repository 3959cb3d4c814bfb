//! Native benchmark of the SSE parser (issue 3): MB/s and events/s for
//! 100,000 events of ~500 bytes and 2,000 events of ~32 KB, LF and CRLF, chunked at random
//! sizes from 1 byte to 64 KB, and 64 KB vs 1 KB fixed chunks (the slowdown must stay under 10%).
//!
//! `cargo run --profile bench --example parse_bench [-- --json]` (seeded: same input every run).

use std::time::Instant;
use threadtail::sse::{EventRef, Parser, Sink};

/// splitmix64: a tiny seeded PRNG (no crates).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "調査",
    "結果",
    "を",
    "まとめ",
    "ました",
    "エージェント",
    "スレッド",
    "の",
    "状態",
    "は",
    "research",
    "agent",
    "thread",
    "summary",
    "tool",
    "result",
    "ok",
    "。",
    "、",
    "です",
];

fn text(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes {
        s.push_str(WORDS[rng.range(0, WORDS.len() - 1)]);
        if rng.range(0, 3) == 0 {
            s.push(' ');
        }
    }
    s
}

/// One SSE frame: `id`, `event` and one or more `data:` lines of JSON (large payloads are
/// sometimes split over several `data:` lines, as a server may pretty-print).
fn frame(rng: &mut Rng, i: usize, size: usize, eol: &str) -> String {
    let t = text(rng, size.saturating_sub(260));
    let json = format!(
        "{{\"id\":\"evt_{i:032x}\",\"type\":\"agent.thread_message_received\",\"schema_version\":\"1.0\",\
\"session_id\":\"sess_0000000000000000000000000001\",\"session_thread_id\":\"sthr_00000000000000000000000000000002\",\
\"content\":[{{\"type\":\"text\",\"text\":\"{t}\"}}],\"created_at\":\"2026-06-15T08:01:00.000Z\"}}"
    );
    let mut f = format!("id: evt_{i:032x}{eol}event: agent.thread_message_received{eol}");
    if size > 8192 && i % 3 == 0 {
        // Split the JSON over several data: lines (at char boundaries, on commas).
        for (n, part) in json.split(",\"").enumerate() {
            f.push_str("data: ");
            if n > 0 {
                f.push('"');
            }
            f.push_str(part);
            f.push_str(eol);
        }
        // Joined with LF, the JSON stays valid: the splits fall between members.
    } else {
        f.push_str("data: ");
        f.push_str(&json);
        f.push_str(eol);
    }
    f.push_str(eol);
    f
}

fn stream(seed: u64, events: usize, lo: usize, hi: usize, eol: &str) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = String::new();
    for i in 0..events {
        let size = rng.range(lo, hi);
        out.push_str(&frame(&mut rng, i, size, eol));
    }
    out.into_bytes()
}

fn random_chunks(seed: u64, len: usize, lo: usize, hi: usize) -> Vec<usize> {
    let mut rng = Rng(seed);
    let mut cuts = Vec::new();
    let mut at = 0;
    while at < len {
        // Log-uniform from lo to hi, so that small chunks are common too.
        let bits = rng.range(0, 16);
        let size = (1usize << bits).min(hi).max(lo) + rng.range(0, (1usize << bits) - 1);
        let size = size.clamp(lo, hi).min(len - at);
        cuts.push(size);
        at += size;
    }
    cuts
}

fn fixed_chunks(len: usize, size: usize) -> Vec<usize> {
    let mut v = vec![size; len / size];
    if len % size > 0 {
        v.push(len % size);
    }
    v
}

#[derive(Default)]
struct Count {
    events: usize,
    data_bytes: usize,
}
impl Sink for Count {
    fn on_event(&mut self, e: EventRef<'_>) {
        self.events += 1;
        self.data_bytes += e.data_bytes.len();
    }
}

/// Median, min, max of `reps` runs in seconds.
fn run(bytes: &[u8], chunks: &[usize], reps: usize, want: usize) -> (f64, f64, f64) {
    let mut times = Vec::new();
    for _ in 0..reps {
        let mut p = Parser::new();
        let mut sink = Count::default();
        let start = Instant::now();
        let mut at = 0;
        for &c in chunks {
            p.push(&bytes[at..at + c], &mut sink);
            at += c;
        }
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(sink.events, want, "event count");
        std::hint::black_box(sink.data_bytes);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (times[times.len() / 2], times[0], times[times.len() - 1])
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let reps = 7;
    let cases: [(&str, usize, usize, usize); 2] = [
        ("small ~500 B", 100_000, 300, 700),
        ("large ~32 KB", 2_000, 16 * 1024, 48 * 1024),
    ];
    let mut rows = Vec::new();
    for (name, n, lo, hi) in cases {
        for eol in ["\n", "\r\n"] {
            let bytes = stream(42, n, lo, hi, eol);
            let eol_name = if eol == "\n" { "LF" } else { "CRLF" };
            for (chunking, chunks) in [
                ("random 1 B-64 KB", random_chunks(7, bytes.len(), 1, 65536)),
                ("64 KB", fixed_chunks(bytes.len(), 65536)),
                ("1 KB", fixed_chunks(bytes.len(), 1024)),
            ] {
                let (med, min, max) = run(&bytes, &chunks, reps, n);
                let mb = bytes.len() as f64 / 1e6;
                rows.push((
                    format!("{name} {eol_name}"),
                    chunking,
                    mb / med,
                    mb / max,
                    mb / min,
                    n as f64 / med,
                ));
            }
        }
    }
    if json {
        print!("[");
        for (i, (case, chunking, mbs, lo, hi, evs)) in rows.iter().enumerate() {
            if i > 0 {
                print!(",");
            }
            print!(
                "{{\"case\":\"{case}\",\"chunking\":\"{chunking}\",\"mb_s\":{mbs:.1},\"mb_s_min\":{lo:.1},\"mb_s_max\":{hi:.1},\"events_s\":{evs:.0}}}"
            );
        }
        println!("]");
        return;
    }
    println!(
        "{:<20} {:<18} {:>10} {:>21} {:>12}",
        "stream", "chunks", "MB/s", "range", "events/s"
    );
    for (case, chunking, mbs, lo, hi, evs) in &rows {
        println!(
            "{case:<20} {chunking:<18} {mbs:>10.0} {:>21} {evs:>12.0}",
            format!("{lo:.0}-{hi:.0}")
        );
    }
    for pair in rows.chunks(3) {
        // Time ratio: MB/s at 64 KB over MB/s at 1 KB.
        let slow = pair[1].2 / pair[2].2 - 1.0;
        println!(
            "{}: 1 KB chunks vs 64 KB chunks: {:+.1}% time (target: under +10%)",
            pair[0].0,
            slow * 100.0
        );
    }
}
