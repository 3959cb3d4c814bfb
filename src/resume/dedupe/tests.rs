use super::*;

/// A few ids of every shape: random UUIDs (no order), counters, ULID-like, other prefixes,
/// non-ASCII, mixed lengths. Distinct for distinct `i`.
fn id_of(i: u64, shape: u8) -> String {
    let r = fmix64(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(shape));
    match shape % 6 {
        0 => format!(
            "evt_{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            r >> 32,
            r & 0xffff,
            (r >> 16) & 0xfff,
            i & 0xffff,
            i
        ),
        1 => format!("evt_{i}"),
        2 => format!("01J{:020}{i:03}", r % 10u64.pow(19)),
        3 => format!("sevt_{r:x}_{i}"),
        4 => format!("evt_日本_{i}_é…"),
        _ => format!("{r:x}{i}"),
    }
}

#[test]
fn duplicates_and_updates() {
    let mut d = Dedupe::new(8);
    assert_eq!(d.check("evt_01", b"a"), Seen::New);
    assert_eq!(d.check("evt_01", b"a"), Seen::Duplicate);
    assert_eq!(d.check("evt_01", b"b"), Seen::Update);
    assert_eq!(d.check("evt_01", b"b"), Seen::Duplicate);
    assert_eq!(d.check("evt_02", b"a"), Seen::New);
    assert_eq!(d.check("", b"a"), Seen::New);
    assert_eq!(d.check("", b"a"), Seen::New);
}

#[test]
fn ids_out_of_order_are_never_dropped() {
    // The running maxima were all an order-based dedupe delivered of random ids.
    let mut d = Dedupe::default();
    for i in 0..200 {
        assert_eq!(d.check(&id_of(i, 0), b"{}"), Seen::New, "{i}");
    }
    let mut d = Dedupe::default();
    assert_eq!(d.check("evt_0005", b"x"), Seen::New);
    assert_eq!(d.check("evt_0003", b"x"), Seen::New);
    // Even with the resume point the application gave.
    let mut d = Dedupe::default();
    d.resume_after("evt_0005");
    assert_eq!(d.check("evt_0003", b"x"), Seen::New);
    assert_eq!(d.check("evt_0005", b"x"), Seen::Duplicate);
}

#[test]
fn a_replay_from_the_start_is_skipped_beyond_the_window() {
    let mut d = Dedupe::new(16);
    let ids: Vec<String> = (0..1000).map(|i| id_of(i, 0)).collect();
    d.connected();
    for id in &ids {
        assert_eq!(d.check(id, id.as_bytes()), Seen::New);
    }
    assert_eq!(d.len(), 16);
    // The server ignores Last-Event-ID and replays everything, then goes on live.
    d.connected();
    for id in &ids {
        assert_eq!(d.check(id, id.as_bytes()), Seen::Duplicate, "{id}");
    }
    assert_eq!(d.check("", b"no id, after the replay"), Seen::New);
    assert_eq!(d.check(&id_of(1000, 0), b"x"), Seen::New);
    // And again, with the new event as the newest.
    d.connected();
    for id in &ids {
        assert_eq!(d.check(id, id.as_bytes()), Seen::Duplicate, "{id}");
    }
    assert_eq!(d.check(&id_of(1000, 0), b"x"), Seen::Duplicate);
    assert_eq!(d.check(&id_of(1001, 0), b"y"), Seen::New);
}

#[test]
fn events_without_an_id_inside_a_replay_are_part_of_it() {
    let mut d = Dedupe::new(16);
    d.connected();
    assert_eq!(d.check("a", b"1"), Seen::New);
    assert_eq!(d.check("", b"2"), Seen::New);
    assert_eq!(d.check("b", b"3"), Seen::New);
    d.connected();
    assert_eq!(d.check("a", b"1"), Seen::Duplicate);
    assert_eq!(d.check("", b"2"), Seen::Duplicate);
    assert_eq!(d.check("b", b"3"), Seen::Duplicate);
    assert_eq!(d.check("", b"4"), Seen::New);
}

#[test]
fn a_server_that_resends_a_few_recent_events() {
    let mut d = Dedupe::new(64);
    d.connected();
    for i in 0..50 {
        assert_eq!(d.check(&id_of(i, 3), b"v"), Seen::New);
    }
    d.connected();
    for i in 45..50 {
        assert_eq!(d.check(&id_of(i, 3), b"v"), Seen::Duplicate);
    }
    assert_eq!(d.check(&id_of(50, 3), b"v"), Seen::New);
}

#[test]
fn a_replay_whose_newest_id_never_comes_falls_back_to_the_window() {
    let mut d = Dedupe::new(8);
    d.connected();
    for i in 0..20 {
        d.check(&id_of(i, 5), b"v");
    }
    // Replays 0..=15 (the window holds 12..20), then the server lost 16..20: new events follow.
    d.connected();
    for i in 0..16 {
        assert_eq!(d.check(&id_of(i, 5), b"v"), Seen::Duplicate, "{i}");
    }
    assert_eq!(d.check(&id_of(100, 5), b"v"), Seen::New);
    assert_eq!(d.check(&id_of(101, 5), b"v"), Seen::New);
    // A replay of only old events, longer than what was ever delivered beyond the window.
    let mut d = Dedupe::new(4);
    d.connected();
    for i in 0..10 {
        d.check(&id_of(i, 1), b"v");
    }
    d.connected();
    for i in 0..6 {
        assert_eq!(d.check(&id_of(i, 1), b"v"), Seen::Duplicate, "{i}");
    }
    // Six were delivered beyond the window: a seventh unknown id cannot be a replayed one.
    assert_eq!(d.check(&id_of(200, 1), b"v"), Seen::New);
}

#[test]
fn one_stale_old_id_at_the_start_is_not_a_replay() {
    // A server that honours Last-Event-ID but first re-sends the thread's first event (a
    // status snapshot under its original id, say): the new events after it are delivered.
    let mut d = Dedupe::new(16);
    d.connected();
    for i in 0..100 {
        d.check(&id_of(i, 0), b"v");
    }
    d.connected();
    assert_eq!(d.check(&id_of(0, 0), b"v"), Seen::Duplicate);
    for i in 100..150 {
        assert_eq!(d.check(&id_of(i, 0), b"v"), Seen::New, "{i}");
    }
    // The first ids in order are a replay from the start, even when the first was deleted.
    d.connected();
    for i in 1..150 {
        assert_eq!(d.check(&id_of(i, 0), b"v"), Seen::Duplicate, "{i}");
    }
    assert_eq!(d.check(&id_of(150, 0), b"v"), Seen::New);
}

#[test]
fn a_replay_delivers_what_changed_meanwhile() {
    let mut d = Dedupe::new(8);
    d.connected();
    d.check("a", b"queued");
    d.check("b", b"v");
    d.connected();
    assert_eq!(d.check("a", b"processed"), Seen::Update);
    assert_eq!(d.check("b", b"v"), Seen::Duplicate);
    assert_eq!(d.check("c", b"v"), Seen::New);
}

#[test]
fn a_first_connection_is_never_a_replay() {
    let mut d = Dedupe::new(8);
    d.connected();
    assert_eq!(d.check("a", b"v"), Seen::New);
    assert_eq!(d.check("b", b"v"), Seen::New);
}

#[test]
fn ordered_ids_are_an_option() {
    let mut d = Dedupe::new(4).with_ordered_ids();
    d.resume_after("evt_000500");
    assert_eq!(d.check("evt_000001", b"x"), Seen::Duplicate);
    assert_eq!(d.check("evt_000500", b"x"), Seen::Duplicate);
    assert_eq!(d.check("evt_000501", b"x"), Seen::New);
    assert_eq!(d.check("other_1", b"x"), Seen::New, "not comparable");
    assert_eq!(d.check("evt_000502", b"x"), Seen::New);
    let mut d = Dedupe::new(4);
    d.resume_after("evt_000500");
    assert_eq!(d.check("evt_000001", b"x"), Seen::New, "off by default");
}

#[test]
fn listed_events_keep_their_content() {
    let canonical = |s: &str| data_hash(s.as_bytes());
    let mut d = Dedupe::new(8);
    assert_eq!(d.check_listed("x1", canonical("{\"a\":1}")), Seen::New);
    // The same event streamed in another formatting: the client's re-serialisation matches.
    assert_eq!(
        d.check_streamed("x1", b"{ \"a\": 1 }", || Some(canonical("{\"a\":1}"))),
        Seen::Duplicate
    );
    assert_eq!(d.check("x1", b"{ \"a\": 1 }"), Seen::Duplicate);
    assert_eq!(
        d.check_listed("x1", canonical("{\"a\":1}")),
        Seen::Duplicate
    );
    // Listed queued, streamed processed: an update.
    assert_eq!(d.check_listed("x2", canonical("{\"q\":1}")), Seen::New);
    assert_eq!(
        d.check_streamed("x2", b"{\"q\":2}", || Some(canonical("{\"q\":2}"))),
        Seen::Update
    );
    assert_eq!(d.check("x2", b"{\"q\":2}"), Seen::Duplicate);
}

#[test]
fn memory_does_not_depend_on_id_length() {
    assert!(std::mem::size_of::<Entry>() <= 32);
    let mut d = Dedupe::new(100);
    let long = "x".repeat(64 * 1024);
    for i in 0..1_000 {
        assert_eq!(d.check(&format!("{long}{i}"), b"v"), Seen::New);
    }
    assert_eq!(d.len(), 100);
    assert_eq!(d.index.len(), 100);
    assert!(d.ordered.is_none());
}

#[test]
fn hashes_tell_contents_and_ids_apart() {
    let samples = [
        "",
        "a",
        "b",
        "ab",
        "ba",
        "abcdefgh",
        "abcdefgi",
        "abcdefgh\0",
        "日本語",
    ];
    let data: std::collections::HashSet<u64> =
        samples.iter().map(|s| data_hash(s.as_bytes())).collect();
    assert_eq!(data.len(), samples.len());
    let ids: std::collections::HashSet<IdKey> =
        samples.iter().map(|s| id_key(s.as_bytes())).collect();
    assert_eq!(ids.len(), samples.len());
    let many: std::collections::HashSet<IdKey> = (0..100_000)
        .map(|i| id_key(id_of(i, 1).as_bytes()))
        .collect();
    assert_eq!(many.len(), 100_000);
}

/// The dedupe against a plain reference model, on simulated servers (proptest is native only).
#[cfg(not(target_arch = "wasm32"))]
mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{HashMap as Map, HashSet};

    /// How a server answers one connection.
    #[derive(Debug, Clone, Copy)]
    enum Server {
        /// Sends what follows `Last-Event-ID`.
        Honours,
        /// Ignores it: the whole history, then live.
        ReplaysAll,
        /// Re-sends this many events before `Last-Event-ID`, then what follows.
        ResendsRecent(usize),
        /// Re-sends the thread's first event, then what follows `Last-Event-ID`.
        ResendsFirst,
    }

    /// One thing that happens on the server: a new event, or new data for a recent one.
    #[derive(Debug, Clone)]
    enum Change {
        Create { shape: u8 },
        Update { back: usize },
    }

    fn server() -> impl Strategy<Value = Server> {
        prop_oneof![
            Just(Server::Honours),
            Just(Server::ReplaysAll),
            (1usize..6).prop_map(Server::ResendsRecent),
            Just(Server::ResendsFirst),
        ]
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            8 => any::<u8>().prop_map(|shape| Change::Create { shape }),
            1 => (0usize..4).prop_map(|back| Change::Update { back }),
        ]
    }

    /// The reference: a client with unlimited memory delivers each (id, data) it receives
    /// once; a known id with new data is an update.
    #[derive(Default)]
    struct Reference {
        delivered: HashSet<(String, String)>,
        ids: HashSet<String>,
    }

    impl Reference {
        fn check(&mut self, id: &str, data: &str) -> Seen {
            if !self.delivered.insert((id.to_owned(), data.to_owned())) {
                return Seen::Duplicate;
            }
            if self.ids.insert(id.to_owned()) {
                Seen::New
            } else {
                Seen::Update
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]
        #[test]
        fn matches_the_reference_on_every_kind_of_server(
            capacity in 8usize..40,
            changes in proptest::collection::vec(change(), 1..160),
            connections in proptest::collection::vec((server(), 0usize..30, 0usize..6), 1..14),
        ) {
            // The server's history: ids in creation order, each with its latest data.
            let mut history: Vec<(String, u32)> = Vec::new();
            let mut position: Map<String, usize> = Map::new();
            // What it emits live, in order.
            let mut live: Vec<(String, u32)> = Vec::new();
            for (i, change) in changes.iter().enumerate() {
                match change {
                    Change::Create { shape } => {
                        let id = id_of(i as u64, *shape);
                        position.insert(id.clone(), history.len());
                        history.push((id.clone(), 0));
                        live.push((id, 0));
                    }
                    // Updates touch recent events (queued, then processed), which the window
                    // remembers: capacity is at least 8, `back` at most 3.
                    Change::Update { back } if history.len() > *back => {
                        let at = history.len() - 1 - back;
                        history[at].1 += 1;
                        live.push(history[at].clone());
                    }
                    Change::Update { .. } => {}
                }
            }
            let data = |v: u32, id: &str| format!("{{\"id\":\"{id}\",\"v\":{v}}}");

            let mut d = Dedupe::new(capacity);
            let mut reference = Reference::default();
            let mut resume = String::new();
            let mut produced = 0usize; // live changes the server has made so far
            let mut delivered_new: Vec<String> = Vec::new();
            let mut new_at: Map<String, usize> = Map::new(); // id -> its New delivery number
            for (n, (server, length, advance)) in connections.iter().enumerate() {
                // The server moves on while the client is away; the last connection reads all.
                produced = (produced + advance).min(live.len());
                let drain = n + 1 == connections.len();
                // The history as of now: events created so far, with their data so far.
                let mut snapshot: Vec<(String, u32)> = Vec::new();
                let mut at: Map<String, usize> = Map::new();
                for (id, v) in &live[..produced] {
                    match at.get(id) {
                        Some(&i) => snapshot[i].1 = *v,
                        None => {
                            at.insert(id.clone(), snapshot.len());
                            snapshot.push((id.clone(), *v));
                        }
                    }
                }
                let start = match (server, position.get(&resume)) {
                    (Server::ReplaysAll, _) | (_, None) => 0,
                    (Server::Honours | Server::ResendsFirst, Some(&p)) => p + 1,
                    (Server::ResendsRecent(k), Some(&p)) => (p + 1).saturating_sub(*k),
                };
                let first = match (server, snapshot.first()) {
                    (Server::ResendsFirst, Some(e)) if start > 1 => vec![e.clone()],
                    _ => Vec::new(),
                };
                let replayed = first.len() + snapshot.len().saturating_sub(start);
                let mut sent: Vec<(String, u32)> = first;
                sent.extend(snapshot.into_iter().skip(start));
                // Then live, as it happens.
                sent.extend(live[produced..].iter().cloned());
                let take = if drain { sent.len() } else { (*length).min(sent.len()) };
                d.connected();
                for (id, v) in &sent[..take] {
                    let text = data(*v, id);
                    let mut want = reference.check(id, &text);
                    let got = d.check(id, text.as_bytes());
                    // The one thing a bounded window cannot know: new data, never received,
                    // for an event delivered longer ago than the window reaches.
                    let beyond = new_at.get(id).is_some_and(|&k| delivered_new.len() - k > capacity);
                    if want == Seen::Update && got == Seen::Duplicate && beyond {
                        want = Seen::Duplicate;
                    }
                    prop_assert_eq!(got, want, "connection {} ({:?}) id {:?}", n, server, id);
                    if got == Seen::New {
                        resume = id.clone();
                        new_at.insert(id.clone(), delivered_new.len());
                        delivered_new.push(id.clone());
                    }
                }
                // What the server sent live counts as produced.
                produced = (produced + take.saturating_sub(replayed)).min(live.len());
                prop_assert!(d.len() <= capacity);
            }
            // Every event created was delivered, once, in creation order.
            prop_assert_eq!(delivered_new.len(), history.len());
            for (i, id) in delivered_new.iter().enumerate() {
                prop_assert_eq!(&history[i].0, id);
            }
        }
    }
}
