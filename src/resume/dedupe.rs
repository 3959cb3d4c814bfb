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
#[derive(Debug, Clone)]
pub struct Dedupe {
    capacity: usize,
    // The map and the queue share each id's allocation.
    hashes: HashMap<Rc<str>, u64, BuildHasherDefault<FxHasher>>,
    order: VecDeque<Rc<str>>,
    newest: Option<Rc<str>>,
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
            hashes: HashMap::default(),
            order: VecDeque::new(),
            newest: None,
        }
    }

    /// Starts after a resume point: ids at or below it are duplicates.
    pub fn resume_after(&mut self, id: &str) {
        if !id.is_empty() {
            self.newest = Some(Rc::from(id));
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
        if id.is_empty() {
            return Seen::New;
        }
        if let Some(old) = self.hashes.get_mut(id) {
            if *old == hash || *old == ANY_CONTENT {
                return Seen::Duplicate;
            }
            *old = hash;
            return Seen::Update;
        }
        if let Some(newest) = &self.newest {
            if comparable(id, newest) && id <= &**newest {
                return Seen::Duplicate;
            }
        }
        if self.order.len() == self.capacity {
            if let Some(evicted) = self.order.pop_front() {
                self.hashes.remove(&evicted);
            }
        }
        let shared: Rc<str> = Rc::from(id);
        self.hashes.insert(shared.clone(), hash);
        let newer = match &self.newest {
            Some(n) => !comparable(id, n) || id > &**n,
            None => true,
        };
        if newer {
            self.newest = Some(shared.clone());
        }
        self.order.push_back(shared);
        Seen::New
    }

    /// How many ids are remembered now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Two ids compare by creation order when they have the same length and the same prefix up to
/// the last `_` (`evt_…`, `sevt_…`).
fn comparable(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match (a.rfind('_'), b.rfind('_')) {
        (Some(i), Some(j)) => i == j && a[..i] == b[..i],
        (None, None) => true,
        _ => false,
    }
}

/// The hash recorded for listed events: matches any content.
const ANY_CONTENT: u64 = u64::MAX;

fn hash_of(data: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(data);
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
        assert_eq!(d.hashes.len(), 100);
    }
}
