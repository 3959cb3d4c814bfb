//! Every event once, in bounded memory, whatever the ids look like.
//!
//! Event ids are opaque strings: random UUIDs, ULIDs, counters, any prefix, any Unicode. Nothing
//! here assumes they sort in creation order, so a duplicate is recognised only from what this
//! client has seen:
//! 1. **The window**: the most recent ids delivered (4,096 by default), each kept as a 128-bit
//!    hash with a hash of its data, so its size does not depend on the ids' length. An id in the
//!    window seen again with the same data is a duplicate; with other data it is an update (one
//!    provider sends a user event first queued, then processed, under one id).
//! 2. **Replay detection**: a new connection whose first id is one already delivered (among the
//!    first ids this stream delivered, or in the window) is a server re-sending what it sent
//!    before: it ignores `Last-Event-ID` and replays the whole history, or re-sends a few recent
//!    events. Everything up to the newest id delivered is skipped (ids in the window still count
//!    as updates when their data changed), then delivery goes on. If that id never comes, the
//!    replay ends where an id the window does not know follows ids it knows, or when more ids
//!    were skipped than were ever delivered beyond the window: from there on, the window decides.
//! 3. **Ordered ids** (an option, off by default): for servers known to mint ids that sort in
//!    creation order, an id that sorts at or below the newest one delivered (same length, same
//!    prefix up to the last `_`) is a duplicate even beyond the window. Only this rule catches a
//!    server that ignores an application-given `lastEventId` and replays from the start.
//!
//! An event that has no id cannot be recognised: it is always delivered, except inside a
//! detected replay (it was part of what was sent before).
//!
//! Why a fast, unkeyed hash is enough for ids: a collision would make a never-delivered event
//! look delivered. Accidental collisions of a 128-bit hash are out of reach (2^-64 for billions
//! of ids), and a server crafting collisions gains nothing: it could as well not send the event.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// What an incoming event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Never delivered: deliver it.
    New,
    /// Delivered before with other content: deliver it again, flagged as an update.
    Update,
    /// Delivered before with the same content, or part of a server's replay: skip it.
    Duplicate,
}

/// The default number of recent ids remembered.
pub const DEFAULT_WINDOW: usize = 4096;

/// How many of the first ids a stream delivers are kept to recognise a replay from the start
/// (a few, in case the first events were deleted on the server since).
const HEAD: usize = 8;

/// An id, as a 128-bit hash.
type IdKey = u128;

/// One remembered id.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: IdKey,
    data: u64,
    /// The data hash is of a REST listing's JSON as re-serialised on the client: a streamed copy
    /// is compared in that form too (its text may be formatted differently).
    listed: bool,
}

/// Where a connection stands with respect to replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// The first event with an id of this connection has not arrived yet.
    Watching,
    /// Not a replay, or the replay is over.
    Off,
    /// Inside a replay, until the newest delivered id goes by.
    Skipping {
        /// An id of the window went by: the replay reached what the window remembers.
        reached_window: bool,
        /// A replay recognised by one of the first ids delivered is confirmed only as the
        /// ids after it follow them in order: the index in `head` the next id must match.
        /// `None` once confirmed (or recognised by the window).
        head_next: Option<usize>,
        /// Ids skipped that the window does not know (delivered before it, presumably).
        skipped_older: u64,
        /// How many such ids there can be: those delivered beyond the window.
        older_budget: u64,
    },
}

/// The dedupe state of one stream.
#[derive(Debug, Clone)]
pub struct Dedupe {
    capacity: usize,
    /// Recent ids and their data hashes, oldest first.
    window: VecDeque<Entry>,
    /// The sequence number of `window[0]`.
    front_seq: u64,
    /// Id -> sequence number of its entry.
    index: HashMap<IdKey, u64, BuildHasherDefault<KeyHasher>>,
    /// The first ids delivered.
    head: Vec<IdKey>,
    /// How many ids were delivered as new, in all.
    delivered: u64,
    /// The newest id delivered as new: where a replay ends.
    newest: Option<IdKey>,
    replay: Replay,
    /// The newest delivered id whole, when the ordered-ids rule is on (ids up to
    /// [`MAX_ORDERED_ID_BYTES`]).
    ordered: Option<Option<Vec<u8>>>,
}

/// The longest id kept whole for the ordered-ids rule.
const MAX_ORDERED_ID_BYTES: usize = 1024;

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe::new(DEFAULT_WINDOW)
    }
}

impl Dedupe {
    /// Remembers up to `capacity` recent ids.
    pub fn new(capacity: usize) -> Dedupe {
        let capacity = capacity.max(1);
        Dedupe {
            capacity,
            window: VecDeque::new(),
            front_seq: 0,
            // Both grow as ids arrive: a stream that delivers few events stays small, and
            // starts without allocating (time to first event).
            index: HashMap::default(),
            head: Vec::new(),
            delivered: 0,
            newest: None,
            replay: Replay::Off,
            ordered: None,
        }
    }

    /// Turns on the ordered-ids rule: ids sort in creation order (see the module docs).
    pub fn with_ordered_ids(mut self) -> Dedupe {
        self.ordered = Some(None);
        self
    }

    /// Starts after a resume point given by the application: that id counts as delivered.
    pub fn resume_after(&mut self, id: &str) {
        if id.is_empty() {
            return;
        }
        let key = id_key(id.as_bytes());
        if !self.index.contains_key(&key) {
            self.push(key, ANY_CONTENT, false);
        }
        self.newest = Some(key);
        if let Some(newest) = &mut self.ordered {
            *newest = (id.len() <= MAX_ORDERED_ID_BYTES).then(|| id.as_bytes().to_vec());
        }
    }

    /// A new connection's body starts: watch whether it begins with a replay.
    pub fn connected(&mut self) {
        self.replay = if self.newest.is_some() {
            Replay::Watching
        } else {
            Replay::Off
        };
    }

    /// Whether a replay is (or, before the connection's first id, may be) under way: what
    /// arrives may be older than what was delivered, so an id-only block must not move the
    /// resume point.
    pub fn replaying(&self) -> bool {
        self.replay != Replay::Off
    }

    /// Classifies a streamed event and remembers it.
    pub fn check(&mut self, id: &str, data: &[u8]) -> Seen {
        self.check_streamed(id, data, || None)
    }

    /// Classifies a streamed event; `canonical` gives the hash ([`data_hash`]) of its data as
    /// the client re-serialises a REST listing's JSON, asked only when the id was listed and
    /// the raw text differs (`None`: it cannot be re-serialised).
    pub fn check_streamed(
        &mut self,
        id: &str,
        data: &[u8],
        canonical: impl FnOnce() -> Option<u64>,
    ) -> Seen {
        let id = id.as_bytes();
        if id.is_empty() {
            return self.check_without_id();
        }
        let key = id_key(id);
        let raw = data_hash(data);
        self.classify(key, id, |entry| {
            let same = entry.data == ANY_CONTENT
                || entry.data == raw
                || (entry.listed && canonical() == Some(entry.data));
            // Either way, compare with this streamed text from now on.
            entry.data = raw;
            entry.listed = false;
            same
        })
        .unwrap_or_else(|| {
            self.push(key, raw, false);
            self.note_new(id);
            Seen::New
        })
    }

    /// Classifies an event listed over REST; `canonical` is the [`data_hash`] of its JSON as
    /// the client serialises it.
    pub fn check_listed(&mut self, id: &str, canonical: u64) -> Seen {
        let id = id.as_bytes();
        if id.is_empty() {
            return self.check_without_id();
        }
        let key = id_key(id);
        self.classify(key, id, |entry| {
            if !entry.listed && entry.data != ANY_CONTENT {
                // Streamed before, in a text that may be formatted otherwise: a listing tells
                // no update apart from formatting, so it is the same event.
                return true;
            }
            let same = entry.data == ANY_CONTENT || entry.data == canonical;
            entry.data = canonical;
            entry.listed = true;
            same
        })
        .unwrap_or_else(|| {
            self.push(key, canonical, true);
            self.note_new(id);
            Seen::New
        })
    }

    fn check_without_id(&mut self) -> Seen {
        match self.replay {
            Replay::Skipping { .. } => Seen::Duplicate,
            _ => Seen::New,
        }
    }

    /// The rules for an id; `same` tells whether a remembered entry has the same content, and
    /// records the content just seen. `None`: the id is new (not yet remembered).
    fn classify(
        &mut self,
        key: IdKey,
        id: &[u8],
        same: impl FnOnce(&mut Entry) -> bool,
    ) -> Option<Seen> {
        let at = self
            .index
            .get(&key)
            .map(|seq| (seq - self.front_seq) as usize);
        if self.replay == Replay::Watching {
            let head_at = self.head.iter().position(|&h| h == key);
            self.replay = if at.is_some() || head_at.is_some() {
                Replay::Skipping {
                    reached_window: false,
                    head_next: if at.is_some() { None } else { head_at },
                    skipped_older: 0,
                    older_budget: self.delivered.saturating_sub(self.window.len() as u64),
                }
            } else {
                Replay::Off
            };
        }
        if let Replay::Skipping {
            reached_window,
            head_next,
            skipped_older,
            older_budget,
        } = &mut self.replay
        {
            if Some(key) == self.newest {
                self.replay = Replay::Off;
            } else if at.is_some() {
                *reached_window = true;
            } else if head_next.is_some_and(|next| next < self.head.len()) {
                let next = head_next.unwrap_or_default();
                if self.head[next] == key {
                    // Still the history's start, in order.
                    *head_next = Some(next + 1);
                    *skipped_older += 1;
                    return Some(Seen::Duplicate);
                }
                // An old id, then something else: a stale re-send, not a replay.
                self.replay = Replay::Off;
            } else if !*reached_window && *skipped_older < *older_budget {
                // Confirmed (the whole head went by in order, or the window was reached):
                // ids delivered before the window, up to as many as there were.
                *head_next = None;
                *skipped_older += 1;
                return Some(Seen::Duplicate);
            } else {
                // The newest delivered id never came: the window decides from here.
                self.replay = Replay::Off;
            }
        }
        if let Some(i) = at {
            return Some(if same(&mut self.window[i]) {
                Seen::Duplicate
            } else {
                Seen::Update
            });
        }
        if let Some(Some(newest)) = &self.ordered {
            if comparable(id, newest) && id <= newest.as_slice() {
                return Some(Seen::Duplicate);
            }
        }
        None
    }

    /// Records a new id as the newest delivered.
    fn note_new(&mut self, id: &[u8]) {
        let key = id_key(id);
        self.delivered += 1;
        self.newest = Some(key);
        if self.head.len() < HEAD {
            self.head.push(key);
        }
        if let Some(newest) = &mut self.ordered {
            // An id that is not comparable with the newest starts a new order (another prefix).
            let later = newest
                .as_deref()
                .map_or(true, |n| !comparable(id, n) || id > n);
            if later {
                *newest = (id.len() <= MAX_ORDERED_ID_BYTES).then(|| id.to_vec());
            }
        }
    }

    /// Remembers an id, evicting the oldest when the window is full.
    fn push(&mut self, id: IdKey, data: u64, listed: bool) {
        if self.window.len() == self.capacity {
            if let Some(evicted) = self.window.pop_front() {
                // An entry re-pushed later has a newer sequence number: remove only our own
                // (one probe of the table).
                if let std::collections::hash_map::Entry::Occupied(e) = self.index.entry(evicted.id)
                {
                    if *e.get() == self.front_seq {
                        e.remove();
                    }
                }
                self.front_seq += 1;
            }
        }
        self.index
            .insert(id, self.front_seq + self.window.len() as u64);
        self.window.push_back(Entry { id, data, listed });
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
    let last_underscore = |s: &[u8]| s.iter().rposition(|&c| c == b'_');
    match (last_underscore(a), last_underscore(b)) {
        (Some(i), Some(j)) => i == j && a[..i] == b[..i],
        (None, None) => true,
        _ => false,
    }
}

/// The data hash that matches any content: an application-given resume point.
const ANY_CONTENT: u64 = u64::MAX;

/// The hash of an event's data (64 bits: a collision only makes an update look like a
/// duplicate).
pub fn data_hash(data: &[u8]) -> u64 {
    // Four independent lanes over 32-byte blocks (one multiply chain would wait on the
    // previous word's multiply), folded with the tail and the length.
    let mut lanes = [FxHasher::SEED, 1, 2, 3].map(|hash| FxHasher { hash });
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            lane.add(word_at(word));
        }
    }
    let mut h = FxHasher::default();
    for lane in lanes {
        h.add(lane.hash);
    }
    h.write(blocks.remainder());
    h.add(data.len() as u64);
    // Keep real hashes off the wildcard value.
    fmix64(h.hash).min(ANY_CONTENT - 1)
}

/// The 128-bit key of an id: two multiply-rotate lanes with different constants, each step a
/// bijection of the lane (so ids that differ in one word never collide), each lane finished
/// with an avalanche.
fn id_key(id: &[u8]) -> IdKey {
    let (mut a, mut b) = (0x9E37_79B9_7F4A_7C15u64, 0xC2B2_AE3D_27D4_EB4Fu64);
    let mut words = id.chunks_exact(8);
    for w in &mut words {
        let w = word_at(w);
        a = (a ^ w).wrapping_mul(0xFF51_AFD7_ED55_8CCD).rotate_left(29);
        b = (b ^ w).wrapping_mul(0xC4CE_B9FE_1A85_EC53).rotate_left(37);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    let (w, len) = (u64::from_le_bytes(tail), id.len() as u64);
    a = (a ^ w).wrapping_mul(0xFF51_AFD7_ED55_8CCD) ^ len;
    b = (b ^ w).wrapping_mul(0xC4CE_B9FE_1A85_EC53) ^ len.rotate_left(32);
    (u128::from(fmix64(a)) << 64) | u128::from(fmix64(b))
}

/// Eight bytes as a little-endian word (`word` has exactly eight).
fn word_at(word: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(word);
    u64::from_le_bytes(b)
}

/// MurmurHash3's finaliser: every input bit affects every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The window's table hashes keys that are hashes already: it takes their low bits.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A fast word-at-a-time hash (the "Fx" hash of rustc), for event data.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(word_at(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
}

#[cfg(test)]
mod tests;
