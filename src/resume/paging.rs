//! Following a list route's `next_page` to the end, and knowing when it will not end: a
//! cursor seen before in the same listing, or more pages than [`MAX_PAGES`], is a server bug
//! that would loop forever (or fill memory), and ends the listing with [`Error::Paging`].

use crate::error::Error;
use std::collections::HashSet;

/// The most pages one listing follows: 1,000 pages of up to 1,000 items.
pub const MAX_PAGES: u32 = 1_000;

/// The cursors of one listing.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    /// Hashes of the cursors followed so far (a cursor can be long; a collision only ends a
    /// listing early, with an error that says so).
    seen: HashSet<u64>,
    pages: u32,
}

impl Paging {
    /// A new listing.
    pub fn new() -> Paging {
        Paging::default()
    }

    /// A page of `items` items arrived with `next_page`: the cursor to fetch next, `None` when
    /// the listing is complete, or the error that ends a listing that would not.
    pub fn next(&mut self, next_page: Option<&str>, items: usize) -> Result<Option<String>, Error> {
        self.pages += 1;
        let next = match next_page {
            // An empty page ends the listing even with a cursor: nothing more to read.
            Some(cursor) if !cursor.is_empty() && items > 0 => cursor,
            _ => return Ok(None),
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
        Ok(Some(next.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn follows_cursors_to_the_end() {
        let mut p = Paging::new();
        assert_eq!(p.next(Some("a"), 10).unwrap().as_deref(), Some("a"));
        assert_eq!(p.next(Some("b"), 10).unwrap().as_deref(), Some("b"));
        assert_eq!(p.next(None, 10).unwrap(), None);
        assert_eq!(Paging::new().next(Some(""), 3).unwrap(), None);
        assert_eq!(Paging::new().next(Some("x"), 0).unwrap(), None);
    }

    #[test]
    fn a_repeated_cursor_ends_the_listing() {
        let mut p = Paging::new();
        p.next(Some("a"), 1).unwrap();
        p.next(Some("b"), 1).unwrap();
        let e = p.next(Some("a"), 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Paging);
        assert!(e.to_string().contains("3 pages"), "{e}");
    }

    #[test]
    fn an_endless_listing_ends_at_the_limit() {
        let mut p = Paging::new();
        let mut n = 0;
        while let Ok(Some(_)) = p.next(Some(&format!("c{n}")), 1) {
            n += 1;
        }
        assert_eq!(n, MAX_PAGES - 1);
    }
}
