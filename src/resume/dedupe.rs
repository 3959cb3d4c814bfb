//! Every event once, in bounded memory, whether or not the server honours `Last-Event-ID`.
//!
//! Two rules, in order:
//! 1. A window of the most recent ids with a hash of their `data`: an id seen again with the
//!    same data is a duplicate; with different data it is an update (one provider sends a
//!    user event first queued, then processed, under one id).
//! 2. Beyond the window, ids of this API sort in creation order (`evt_019f…`, time-ordered): an
//!    id that sorts at or below the newest id delivered (or the resume point the application
//!    gave), with the same prefix and length, was delivered before: a duplicate. Ids that
//!    cannot be compared that way (other lengths or prefixes) are only deduped by the window.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// What an incoming id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Never delivered: deliver it.
    New,
    /// Delivered before with other content: deliver it again, flagged as an update.
    Update,
    /// Delivered before with the same content (or older than the resume point): skip it.
    Duplicate,
}

/// The dedupe state of one stream.
///
/// The window is a queue of recent ids with their data hashes, oldest first. While ids arrive
/// in creation order (the usual case) the queue is sorted: an id newer than every id seen
/// cannot be in it, so the common path is one comparison with the newest id and a push, and
/// a re-sent id is found by binary search. The first id out of order builds a hash index of
/// the window, kept from then on.
#[derive(Debug, Clone)]
pub struct Dedupe {
    capacity: usize,
    /// Recent ids and their data hashes, oldest first. The queue, the index and `newest`
    /// share each id's allocation.
    window: VecDeque<(Rc<[u8]>, u64)>,
    /// The sequence number of `window[0]`; the index maps ids to sequence numbers.
    front_seq: u64,
    /// Id -> sequence number, once the window is not sorted.
    index: Option<HashMap<Rc<[u8]>, u64, BuildHasherDefault<FxHasher>>>,
    newest: Option<Rc<[u8]>>,
}

/// The default number of recent ids remembered.
pub const DEFAULT_WINDOW: usize = 4096;

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe::new(DEFAULT_WINDOW)
    }
}

impl Dedupe {
    /// Remembers up to `capacity` recent ids.
    pub fn new(capacity: usize) -> Dedupe {
        Dedupe {
            capacity: capacity.max(1),
            window: VecDeque::new(),
            front_seq: 0,
            index: None,
            newest: None,
        }
    }

    /// Starts after a resume point: ids at or below it are duplicates.
    pub fn resume_after(&mut self, id: &str) {
        if !id.is_empty() {
            self.newest = Some(Rc::from(id.as_bytes()));
        }
    }

    /// Classifies an event and remembers it. Events without an id are always new.
    pub fn check(&mut self, id: &str, data: impl AsRef<[u8]>) -> Seen {
        self.check_hash(id, hash_of(data.as_ref()))
    }

    /// Classifies an event listed over REST: its JSON text may be formatted differently from
    /// the streamed copy, so a later streamed copy with the same id is a duplicate whatever
    /// its text (an update cannot be told apart from formatting here).
    pub fn check_listed(&mut self, id: &str) -> Seen {
        self.check_hash(id, ANY_CONTENT)
    }

    fn check_hash(&mut self, id: &str, hash: u64) -> Seen {
        // Ids compare as bytes (the same order as strings).
        let id = id.as_bytes();
        if id.is_empty() {
            return Seen::New;
        }
        // A live stream: the window is sorted, its last id is the newest, and this id is
        // greater. One comparison instead of three.
        if let (None, Some(newest), Some((last, _))) =
            (&self.index, &self.newest, self.window.back())
        {
            if Rc::ptr_eq(newest, last) && comparable(id, newest) && id > &**newest {
                self.push(id, hash, true);
                return Seen::New;
            }
        }
        if let Some(i) = self.find(id) {
            let old = &mut self.window[i].1;
            if *old == hash || *old == ANY_CONTENT {
                return Seen::Duplicate;
            }
            *old = hash;
            return Seen::Update;
        }
        if let Some(n) = &self.newest {
            if comparable(id, n) && id <= &**n {
                return Seen::Duplicate;
            }
        }
        let in_order = match self.window.back() {
            Some((last, _)) => comparable(id, last) && id > &**last,
            None => true,
        };
        // It is greater than the newest, or not comparable: it becomes the newest.
        self.push(id, hash, in_order);
        Seen::New
    }

    /// Where `id` is in the window.
    fn find(&self, id: &[u8]) -> Option<usize> {
        if let Some(index) = &self.index {
            return index.get(id).map(|seq| (seq - self.front_seq) as usize);
        }
        // Sorted: every id in the window is comparable to the last one, which is the
        // greatest. A live stream's next id is greater still: one comparison.
        let (last, _) = self.window.back()?;
        if !comparable(id, last) || id > &**last {
            return None;
        }
        self.window.binary_search_by(|(e, _)| (**e).cmp(id)).ok()
    }

    /// Adds a new id, the newest; `in_order` tells whether it sorts after the window's last
    /// id. The evicted id's allocation is reused when it has the same length (ids of one
    /// stream usually do): no allocation per event.
    fn push(&mut self, id: &[u8], hash: u64, in_order: bool) {
        let mut recycled = None;
        if self.window.len() == self.capacity {
            if let Some((mut evicted, _)) = self.window.pop_front() {
                if let Some(index) = &mut self.index {
                    index.remove(&*evicted);
                }
                self.front_seq += 1;
                if let Some(slot) = Rc::get_mut(&mut evicted).filter(|s| s.len() == id.len()) {
                    slot.copy_from_slice(id);
                    recycled = Some(evicted);
                }
            }
        }
        let id: Rc<[u8]> = recycled.unwrap_or_else(|| Rc::from(id));
        if self.index.is_none() && !in_order {
            // The first id out of order: index the window from now on.
            let front = self.front_seq;
            self.index = Some(
                self.window
                    .iter()
                    .enumerate()
                    .map(|(i, (e, _))| (e.clone(), front + i as u64))
                    .collect(),
            );
        }
        if let Some(index) = &mut self.index {
            index.insert(id.clone(), self.front_seq + self.window.len() as u64);
        }
        self.newest = Some(id.clone());
        self.window.push_back((id, hash));
    }

    /// How many ids are remembered now.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }
}

/// Two ids compare by creation order when they have the same length and the same prefix up to
/// the last `_` (`evt_…`, `sevt_…`).
fn comparable(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Ids are short: a plain loop beats a search routine's set-up.
    let last_underscore = |s: &[u8]| s.iter().rposition(|&c| c == b'_');
    match (last_underscore(a), last_underscore(b)) {
        (Some(i), Some(j)) => i == j && a[..i] == b[..i],
        (None, None) => true,
        _ => false,
    }
}

/// The hash recorded for listed events: matches any content.
const ANY_CONTENT: u64 = u64::MAX;

fn hash_of(data: &[u8]) -> u64 {
    // Four independent lanes over 32-byte blocks (one multiply chain would wait on the
    // previous word's multiply), folded with the tail and the length.
    let mut lanes = [FxHasher::SEED, 1, 2, 3].map(|hash| FxHasher { hash });
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            lane.add(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
    }
    let mut h = FxHasher::default();
    for lane in lanes {
        h.add(lane.hash);
    }
    h.write(blocks.remainder());
    h.write_usize(data.len());
    // Keep real hashes off the wildcard value.
    h.finish().min(ANY_CONTENT - 1)
}

/// A fast word-at-a-time hash (the "Fx" hash of rustc), for ids and event data. It runs on
/// every event, so speed matters more than resistance to crafted collisions: the table is
/// small and bounded, and a collision only makes an update look like a duplicate.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.add(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_updates() {
        let mut d = Dedupe::new(8);
        assert_eq!(d.check("evt_01", "a"), Seen::New);
        assert_eq!(d.check("evt_01", "a"), Seen::Duplicate);
        assert_eq!(d.check("evt_01", "b"), Seen::Update);
        assert_eq!(d.check("evt_01", "b"), Seen::Duplicate);
        assert_eq!(d.check("evt_02", "a"), Seen::New);
        assert_eq!(d.check("", "a"), Seen::New);
        assert_eq!(d.check("", "a"), Seen::New);
    }

    #[test]
    fn a_full_replay_after_reconnect_is_skipped_beyond_the_window() {
        let mut d = Dedupe::new(16);
        let ids: Vec<String> = (0..1000).map(|i| format!("evt_{i:06}")).collect();
        for id in &ids {
            assert_eq!(d.check(id, id), Seen::New);
        }
        assert_eq!(d.len(), 16);
        // The server ignores Last-Event-ID and replays everything: nothing is delivered twice.
        for id in &ids {
            assert_eq!(d.check(id, id), Seen::Duplicate, "{id}");
        }
        assert_eq!(d.check("evt_001000", "x"), Seen::New);
    }

    #[test]
    fn resume_point_from_the_application() {
        let mut d = Dedupe::default();
        d.resume_after("evt_000500");
        assert_eq!(d.check("evt_000001", "x"), Seen::Duplicate);
        assert_eq!(d.check("evt_000500", "x"), Seen::Duplicate);
        assert_eq!(d.check("evt_000501", "x"), Seen::New);
    }

    #[test]
    fn incomparable_ids_rely_on_the_window() {
        let mut d = Dedupe::new(2);
        assert_eq!(d.check("b-1", "x"), Seen::New);
        assert_eq!(d.check("a-22", "x"), Seen::New);
        assert_eq!(d.check("zz", "x"), Seen::New);
        assert_eq!(d.check("zz", "x"), Seen::Duplicate);
    }

    #[test]
    fn listed_events_match_any_streamed_text() {
        let mut d = Dedupe::new(8);
        assert_eq!(d.check_listed("x1"), Seen::New);
        assert_eq!(d.check("x1", "{\"b\":1,\"a\":2}"), Seen::Duplicate);
        assert_eq!(d.check_listed("x1"), Seen::Duplicate);
    }

    #[test]
    fn data_hashes_tell_contents_apart() {
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
        let hashes: std::collections::HashSet<u64> =
            samples.iter().map(|s| hash_of(s.as_bytes())).collect();
        assert_eq!(hashes.len(), samples.len());
    }

    #[test]
    fn memory_stays_bounded() {
        let mut d = Dedupe::new(100);
        for i in 0..100_000 {
            d.check(&format!("evt_{i:08}"), "x");
        }
        assert_eq!(d.len(), 100);
        assert!(d.index.is_none(), "ordered ids need no index");
        for i in 0..100_000 {
            d.check(&format!("id-{}", 100_000 - i), "x");
        }
        assert_eq!(d.len(), 100);
        assert_eq!(d.index.as_ref().map(HashMap::len), Some(100));
    }

    #[test]
    fn a_resent_id_inside_a_sorted_window_is_found() {
        let mut d = Dedupe::new(64);
        for i in 0..50 {
            assert_eq!(d.check(&format!("evt_{i:04}"), format!("v{i}")), Seen::New);
        }
        assert!(d.index.is_none());
        assert_eq!(d.check("evt_0007", "v7"), Seen::Duplicate);
        assert_eq!(d.check("evt_0007", "v7 processed"), Seen::Update);
        assert_eq!(d.check("evt_0007", "v7 processed"), Seen::Duplicate);
        assert_eq!(d.check("evt_0049", "v49"), Seen::Duplicate);
        assert!(d.index.is_none(), "look-ups keep the window sorted");
        // An id from the past that was never delivered is older than the newest: a duplicate
        // by the ordered-id rule.
        assert_eq!(d.check("evt_003a", "x"), Seen::Duplicate);
        // An id of another length cannot be compared: new, and the window is no longer sorted.
        assert_eq!(
            d.check("evt_0000x", "x"),
            Seen::New,
            "other length: not comparable"
        );
        assert!(d.index.is_some(), "an id out of order builds the index");
        assert_eq!(d.check("evt_0007", "v7 processed"), Seen::Duplicate);
        assert_eq!(d.check("evt_0007", "v7 again"), Seen::Update);
        assert_eq!(d.check("evt_0000x", "x"), Seen::Duplicate);
    }
}

/// The dedupe against its plain definition, on random id sequences (proptest is native only).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod model {
    use super::*;

    /// The plain definition: a list of (id, hash) searched from end to end.
    #[derive(Default)]
    struct Model {
        window: VecDeque<(String, u64)>,
        newest: Option<String>,
    }

    impl Model {
        fn check(&mut self, capacity: usize, id: &str, hash: u64) -> Seen {
            if id.is_empty() {
                return Seen::New;
            }
            if let Some((_, old)) = self.window.iter_mut().find(|(e, _)| e == id) {
                if *old == hash || *old == ANY_CONTENT {
                    return Seen::Duplicate;
                }
                *old = hash;
                return Seen::Update;
            }
            if let Some(n) = &self.newest {
                if comparable(id.as_bytes(), n.as_bytes()) && id <= n.as_str() {
                    return Seen::Duplicate;
                }
            }
            if self.window.len() == capacity {
                self.window.pop_front();
            }
            self.window.push_back((id.to_owned(), hash));
            if self
                .newest
                .as_deref()
                .map_or(true, |n| !comparable(id.as_bytes(), n.as_bytes()) || id > n)
            {
                self.newest = Some(id.to_owned());
            }
            Seen::New
        }
    }

    use proptest::prelude::*;

    fn step() -> impl Strategy<Value = (String, u64)> {
        let id = prop_oneof![
            4 => (0u32..40).prop_map(|i| format!("evt_{i:03}")),
            1 => (0u32..8).prop_map(|i| format!("sevt_{i}")),
            1 => (0u32..6).prop_map(|i| format!("x{i}")),
            1 => Just(String::new()),
        ];
        // Increasing ids most of the time, as a live stream sends them.
        (id, prop_oneof![Just(1u64), Just(2u64), Just(ANY_CONTENT)])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]
        #[test]
        fn matches_the_plain_definition(
            capacity in 1usize..12,
            resume in prop_oneof![Just(String::new()), (0u32..40).prop_map(|i| format!("evt_{i:03}"))],
            ordered in 0usize..60,
            steps in proptest::collection::vec(step(), 0..120),
        ) {
            let mut d = Dedupe::new(capacity);
            let mut m = Model::default();
            d.resume_after(&resume);
            if !resume.is_empty() {
                m.newest = Some(resume.clone());
            }
            // A run of ordered ids first (the sorted window), then anything.
            let run = (0..ordered).map(|i| (format!("evt_{:03}", i * 2 % 40 + i / 20), 1u64));
            for (i, (id, hash)) in run.chain(steps).enumerate() {
                let want = m.check(capacity, &id, hash);
                let got = d.check_hash(&id, hash);
                prop_assert_eq!(got, want, "step {} id {:?}", i, id);
                prop_assert_eq!(d.len(), m.window.len());
            }
        }
    }
}
