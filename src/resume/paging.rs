//! Following a list route's `next_page` to the end, and knowing when it will not end: a
//! cursor seen before in the same listing, or more pages than [`MAX_PAGES`], is a server bug
//! that would loop forever (or fill memory), and ends the listing with [`Error::Paging`].

use crate::error::Error;
use std::collections::HashSet;

/// The most pages one listing follows: 1,000 pages of up to 1,000 items.
pub const MAX_PAGES: u32 = 1_000;

/// Where one listing is: the cursor of the page to fetch next, and the cursors followed so far.
/// Every listing (a stream's backfill, `listThreads`/`listThreadEvents`, the Rust list
/// functions) pages with it:
/// `while let Some(cursor) = paging.next_page() { fetch; hand out the items; paging.arrived(..)? }`.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    /// Hashes of the cursors followed so far (a cursor can be long; a collision only ends a
    /// listing early, with an error that says so).
    seen: HashSet<u64>,
    pages: u32,
    /// The cursor of the next page, once a page said there is one.
    cursor: Option<String>,
    /// No page is to be fetched any more: the last one said so, or paging failed.
    done: bool,
}

impl Paging {
    /// A new listing.
    pub fn new() -> Paging {
        Paging::default()
    }

    /// The page to fetch next: `Some(None)` for the first, `Some(Some(cursor))` for the one a
    /// page pointed to, or `None` once the listing is complete or ended by an error.
    pub fn next_page(&self) -> Option<Option<&str>> {
        (!self.done).then_some(self.cursor.as_deref())
    }

    /// A page of `items` items arrived with `next_page`. Returns the error that ends a listing
    /// that would not end; the page's items are still the listing's (hand them out first).
    pub fn arrived(&mut self, next_page: Option<&str>, items: usize) -> Result<(), Error> {
        self.pages += 1;
        self.done = true;
        let next = match next_page {
            // An empty page ends the listing even with a cursor: nothing more to read.
            Some(cursor) if !cursor.is_empty() && items > 0 => cursor,
            _ => return Ok(()),
        };
        if !self.seen.insert(super::data_hash(next.as_bytes())) {
            return Err(Error::Paging {
                pages: self.pages,
                reason: "the server repeated a page cursor (next_page) it had already given",
            });
        }
        if self.pages >= MAX_PAGES {
            return Err(Error::Paging {
                pages: self.pages,
                reason: "the listing has more pages than the limit of 1000",
            });
        }
        self.cursor = Some(next.to_owned());
        self.done = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// The page after one with `next_page` and `items` items, from a fresh listing.
    fn after_one(next_page: Option<&str>, items: usize) -> Option<Option<String>> {
        let mut p = Paging::new();
        p.arrived(next_page, items).unwrap();
        p.next_page().map(|c| c.map(str::to_owned))
    }

    #[test]
    fn follows_cursors_to_the_end() {
        let mut p = Paging::new();
        assert_eq!(p.next_page(), Some(None), "the first page has no cursor");
        p.arrived(Some("a"), 10).unwrap();
        assert_eq!(p.next_page(), Some(Some("a")));
        p.arrived(Some("b"), 10).unwrap();
        assert_eq!(p.next_page(), Some(Some("b")));
        p.arrived(None, 10).unwrap();
        assert_eq!(p.next_page(), None);
        assert_eq!(after_one(Some(""), 3), None);
        assert_eq!(after_one(Some("x"), 0), None);
    }

    #[test]
    fn a_repeated_cursor_ends_the_listing() {
        let mut p = Paging::new();
        p.arrived(Some("a"), 1).unwrap();
        p.arrived(Some("b"), 1).unwrap();
        let e = p.arrived(Some("a"), 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Paging);
        assert!(e.to_string().contains("3 pages"), "{e}");
        assert_eq!(p.next_page(), None, "no page after the error");
    }

    #[test]
    fn an_endless_listing_ends_at_the_limit() {
        let mut p = Paging::new();
        let mut n = 0;
        while p.arrived(Some(&format!("c{n}")), 1).is_ok() {
            n += 1;
        }
        assert_eq!(n, MAX_PAGES - 1);
        assert_eq!(p.next_page(), None);
    }
}
