//! UTF-8 to UTF-16LE transcoding, 14-16 bytes at a time with WebAssembly SIMD.
//!
//! JavaScript engines make a string from UTF-16 with a copy (Node) or a simple loop (browsers),
//! but decode UTF-8 that is not ASCII a byte at a time; transcoding here first makes text several
//! times cheaper to hand over (see `Batch` in `js/stream.rs` and [`crate::holes`]).
//!
//! Each 16-byte block is classified with a few vector compares into bit masks (one bit per
//! byte). A block of ASCII is widened as is. Otherwise the block must start on a character
//! boundary and hold characters of one to three bytes: every byte position gets the code unit a
//! character starting there would have, and the positions that do start one (up to byte 13, so
//! that the character's bytes are all in the block; the block ends at the first start from byte
//! 14 on) are packed together with a shuffle from a table. The masks also check the UTF-8: continuation bytes exactly where a lead byte needs
//! them, no overlong form, no surrogate. Anything else (4-byte characters, the last bytes of
//! the input) goes through a plain per-character path.
//!
//! Invalid UTF-8 is not transcoded at all: [`transcode`] reports it, so that the caller keeps
//! the bytes and the decoder it would have used replaces the bad sequences as the SSE spec says.
//! [`transcode_json`] does the same for the content of a JSON string, escapes decoded.
//!
//! The block code is written once against the few vector operations of [`v`], which are
//! WebAssembly SIMD instructions on `wasm32` with `simd128` and a plain per-lane model
//! elsewhere, so that the native property tests check the same masks, shuffles and tables.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

/// The room [`transcode`] needs in `dst` for `len` bytes of input: ASCII doubles, and a block
/// is written with whole-vector stores that may reach past its last code unit.
pub(crate) const fn room(len: usize) -> usize {
    2 * len + 32
}

/// Writes the UTF-16LE encoding of `src` to the start of `dst` and returns its length in bytes,
/// or returns None when `src` is not valid UTF-8. `dst` must hold at least
/// [`room`]`(src.len())` bytes; bytes past the returned length may be overwritten.
pub(crate) fn transcode(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    transcode_as::<false>(src, dst)
}

/// [`transcode`] for the content of a JSON string (between its quotes, which the caller has
/// found): escapes are decoded, and None is also returned where `JSON.parse` would fail (a
/// control character, an invalid escape). `\uXXXX` escapes give their code unit as is, lone
/// surrogates included, as `JSON.parse` does.
pub(crate) fn transcode_json(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let mut i = 0;
    let mut o = 0;
    while let Some(at) = memchr::memchr(b'\\', &src[i..]) {
        o += transcode_as::<true>(&src[i..i + at], &mut dst[o..])?;
        i += at + 1;
        let unit = match *src.get(i)? {
            b'"' => 0x22,
            b'\\' => 0x5C,
            b'/' => 0x2F,
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => 0x0A,
            b'r' => 0x0D,
            b't' => 0x09,
            b'u' => {
                let hex = core::str::from_utf8(src.get(i + 1..i + 5)?).ok()?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                i += 4;
                u16::from_str_radix(hex, 16).ok()?
            }
            _ => return None,
        };
        dst[o..o + 2].copy_from_slice(&unit.to_le_bytes());
        o += 2;
        i += 1;
    }
    Some(o + transcode_as::<true>(&src[i..], &mut dst[o..])?)
}

/// [`transcode`]; with `JSON`, a control character (below 0x20) is refused too.
fn transcode_as<const JSON: bool>(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let mut i = 0;
    let mut o = 0;
    while i + 16 <= src.len() {
        let v = v::load(&src[i..i + 16]);
        let high = v::bitmask(v);
        if JSON && v::bitmask(v::lt_u8(v, 0x20)) != 0 {
            // The per-character path finds the control character and refuses it.
        } else if high == 0 {
            let zero = v::splat(0);
            v::store(dst, o, v::interleave_low(v, zero));
            v::store(dst, o + 16, v::interleave_high(v, zero));
            i += 16;
            o += 32;
            continue;
        } else if let Some(b) = block(v, high) {
            v::store(dst, o, b.low);
            o += 2 * b.low_keep as usize;
            v::store(dst, o, b.high);
            o += 2 * b.high_keep as usize;
            i += b.consumed;
            continue;
        }
        let (c, len) = scalar::<JSON>(src, i)?;
        o = put(dst, o, c);
        i += len;
    }
    while i < src.len() {
        let (c, len) = scalar::<JSON>(src, i)?;
        o = put(dst, o, c);
        i += len;
    }
    Some(o)
}

/// One transcoded block: its code units (the first `low_keep` lanes of `low`, then the first
/// `high_keep` of `high`) and how many input bytes it used.
struct Block {
    consumed: usize,
    low: v::V,
    low_keep: u32,
    high: v::V,
    high_keep: u32,
}

/// Transcodes the characters that start in bytes 0..=13 of `v`, or returns None when the block
/// needs the per-character path: it does not start on a character boundary, holds a byte of
/// 0xF0 or more there, or is not valid UTF-8. `high` is the block's bitmask of bytes >= 0x80.
#[inline(always)]
fn block(v: v::V, high: u32) -> Option<Block> {
    use v::*;
    const FIRST14: u32 = 0x3FFF;
    let cont = bitmask(lt_i8(v, -64)); // 0x80..=0xBF
    let three_v = ge_u8(v, 0xE0);
    let ge_e0 = bitmask(three_v);
    let ge_f0 = bitmask(ge_u8(v, 0xF0));
    if ge_f0 & FIRST14 != 0 || cont & 1 != 0 {
        return None;
    }
    // Lead bytes of the characters that start in bytes 0..=13.
    let two = high & !cont & !ge_e0 & FIRST14; // 0xC0..=0xDF
    let three = ge_e0 & !ge_f0 & FIRST14; // 0xE0..=0xEF
                                          // They end by byte 15, so the block ends at the first character start from byte 14 on:
                                          // this depends on one mask only, which keeps the loop's critical path short.
    let (c14, c15) = (cont >> 14 & 1, cont >> 15 & 1);
    let consumed = 14 + c14 + (c14 & c15);
    // Continuation bytes exactly after the lead bytes that need them, and nowhere else.
    let needed = ((two | three) << 1) | (three << 2);
    if (needed ^ cont) & (((1 << consumed) - 1) | needed) != 0 {
        return None;
    }
    let keep = !cont & FIRST14;
    // Each byte's next two bytes (zero past the block).
    let (n1, n2) = (next1(v), next2(v));
    // Overlong forms (0xC0 and 0xC1 leads; 0xE0 then below 0xA0) and surrogates (0xED then
    // 0xA0 or more).
    let n1_low = bitmask(lt_u8(n1, 0xA0));
    let bad = (bitmask(lt_u8(v, 0xC2)) & two)
        | (bitmask(eq_u8(v, 0xE0)) & n1_low)
        | (bitmask(eq_u8(v, 0xED)) & !n1_low);
    if bad & keep != 0 {
        return None;
    }
    // The code unit of a character starting at each byte, as its high and low bytes:
    //   1 byte   0aaaaaaa                   -> 00000000 0aaaaaaa
    //   2 bytes  110aaabb 10cccccc          -> 00000aaa bbcccccc
    //   3 bytes  1110aaaa 10bbbbcc 10dddddd -> aaaabbbb ccdddddd
    let low6 = splat(0x3F);
    let hi3 = or(shl::<4>(v), and(shr::<2>(n1), splat(0x0F)));
    let lo3 = or(shl::<6>(n1), and(n2, low6));
    let (hi, lo) = if two & keep == 0 {
        (and(hi3, three_v), bitselect(lo3, v, three_v))
    } else {
        let two_v = andnot(ge_u8(v, 0xC0), three_v);
        let hi2 = and(shr::<2>(v), splat(0x07));
        let lo2 = or(shl::<6>(v), and(n1, low6));
        (
            or(and(hi3, three_v), and(hi2, two_v)),
            bitselect(lo3, bitselect(lo2, v, two_v), three_v),
        )
    };
    let (low_mask, high_mask) = (keep & 0xFF, keep >> 8);
    Some(Block {
        consumed: consumed as usize,
        low: swizzle(interleave_low(lo, hi), &PACK[low_mask as usize]),
        low_keep: low_mask.count_ones(),
        high: swizzle(interleave_high(lo, hi), &PACK[(high_mask & 0xFF) as usize]),
        high_keep: high_mask.count_ones(),
    })
}

/// For each 8-bit mask of u16 lanes, the byte shuffle that moves the chosen lanes to the
/// front in order (the rest of the bytes become 0, index 0x80 being out of range).
static PACK: [[u8; 16]; 256] = pack_table();

const fn pack_table() -> [[u8; 16]; 256] {
    let mut table = [[0x80u8; 16]; 256];
    let mut mask = 0;
    while mask < 256 {
        let mut lane = 0;
        let mut at = 0;
        while lane < 8 {
            if mask >> lane & 1 == 1 {
                table[mask][at] = 2 * lane as u8;
                table[mask][at + 1] = 2 * lane as u8 + 1;
                at += 2;
            }
            lane += 1;
        }
        mask += 1;
    }
    table
}

/// The character starting at `src[i]` and its length in bytes, or None if it is not valid
/// (with `JSON`, nor a control character).
fn scalar<const JSON: bool>(src: &[u8], i: usize) -> Option<(u32, usize)> {
    let b = src[i];
    let len = match b {
        0x00..=0x1F if JSON => return None,
        0x00..=0x7F => return Some((u32::from(b), 1)),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let c = core::str::from_utf8(src.get(i..i + len)?)
        .ok()?
        .chars()
        .next()?;
    Some((c as u32, len))
}

/// Writes `c` as one or two UTF-16LE code units at `dst[o..]`; returns the new offset.
fn put(dst: &mut [u8], o: usize, c: u32) -> usize {
    if c < 0x1_0000 {
        dst[o..o + 2].copy_from_slice(&(c as u16).to_le_bytes());
        o + 2
    } else {
        let c = c - 0x1_0000;
        dst[o..o + 2].copy_from_slice(&(0xD800 | (c >> 10) as u16).to_le_bytes());
        dst[o + 2..o + 4].copy_from_slice(&(0xDC00 | (c & 0x3FF) as u16).to_le_bytes());
        o + 4
    }
}

/// The vector operations of the block code: WebAssembly SIMD.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod v {
    use core::arch::wasm32::*;

    pub(super) type V = v128;

    #[inline(always)]
    pub(super) fn load(b: &[u8]) -> V {
        let lo = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let hi = u64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
        u64x2(lo, hi)
    }

    #[inline(always)]
    pub(super) fn store(dst: &mut [u8], o: usize, v: V) {
        let dst = &mut dst[o..o + 16];
        dst[..8].copy_from_slice(&u64x2_extract_lane::<0>(v).to_le_bytes());
        dst[8..].copy_from_slice(&u64x2_extract_lane::<1>(v).to_le_bytes());
    }

    /// One bit per byte: its top bit.
    #[inline(always)]
    pub(super) fn bitmask(v: V) -> u32 {
        u32::from(i8x16_bitmask(v))
    }

    #[inline(always)]
    pub(super) fn splat(x: u8) -> V {
        u8x16_splat(x)
    }

    #[inline(always)]
    pub(super) fn lt_i8(v: V, x: i8) -> V {
        i8x16_lt(v, i8x16_splat(x))
    }

    #[inline(always)]
    pub(super) fn lt_u8(v: V, x: u8) -> V {
        u8x16_lt(v, u8x16_splat(x))
    }

    #[inline(always)]
    pub(super) fn ge_u8(v: V, x: u8) -> V {
        u8x16_ge(v, u8x16_splat(x))
    }

    #[inline(always)]
    pub(super) fn eq_u8(v: V, x: u8) -> V {
        u8x16_eq(v, u8x16_splat(x))
    }

    #[inline(always)]
    pub(super) fn and(a: V, b: V) -> V {
        v128_and(a, b)
    }

    #[inline(always)]
    pub(super) fn or(a: V, b: V) -> V {
        v128_or(a, b)
    }

    /// `a & !b`.
    #[inline(always)]
    pub(super) fn andnot(a: V, b: V) -> V {
        v128_andnot(a, b)
    }

    /// `a` where `mask` is set, `b` elsewhere.
    #[inline(always)]
    pub(super) fn bitselect(a: V, b: V, mask: V) -> V {
        v128_bitselect(a, b, mask)
    }

    #[inline(always)]
    pub(super) fn shl<const N: u32>(v: V) -> V {
        u8x16_shl(v, N)
    }

    #[inline(always)]
    pub(super) fn shr<const N: u32>(v: V) -> V {
        u8x16_shr(v, N)
    }

    /// Byte k + 1 in lane k (0 in the last lane).
    #[inline(always)]
    pub(super) fn next1(v: V) -> V {
        u8x16_shuffle::<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16>(v, u8x16_splat(0))
    }

    /// Byte k + 2 in lane k (0 in the last two lanes).
    #[inline(always)]
    pub(super) fn next2(v: V) -> V {
        u8x16_shuffle::<2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17>(v, u8x16_splat(0))
    }

    /// Bytes 0..=7 of `lo` and `hi` as the low and high bytes of eight u16 lanes.
    #[inline(always)]
    pub(super) fn interleave_low(lo: V, hi: V) -> V {
        u8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(lo, hi)
    }

    /// Bytes 8..=15 of `lo` and `hi` as the low and high bytes of eight u16 lanes.
    #[inline(always)]
    pub(super) fn interleave_high(lo: V, hi: V) -> V {
        u8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(lo, hi)
    }

    /// Byte `table[k]` of `v` in lane k (0 where the index is 16 or more).
    #[inline(always)]
    pub(super) fn swizzle(v: V, table: &[u8; 16]) -> V {
        i8x16_swizzle(v, load(table))
    }
}

/// The vector operations of the block code: a per-lane model of the same instructions.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod v {
    pub(super) type V = [u8; 16];

    pub(super) fn load(b: &[u8]) -> V {
        b[..16].try_into().unwrap_or_default()
    }

    pub(super) fn store(dst: &mut [u8], o: usize, v: V) {
        dst[o..o + 16].copy_from_slice(&v);
    }

    pub(super) fn bitmask(v: V) -> u32 {
        v.iter()
            .enumerate()
            .fold(0, |m, (k, &b)| m | u32::from(b >> 7) << k)
    }

    pub(super) fn splat(x: u8) -> V {
        [x; 16]
    }

    fn map(v: V, f: impl Fn(u8) -> bool) -> V {
        v.map(|b| if f(b) { 0xFF } else { 0 })
    }

    fn zip(a: V, b: V, f: impl Fn(u8, u8) -> u8) -> V {
        core::array::from_fn(|k| f(a[k], b[k]))
    }

    pub(super) fn lt_i8(v: V, x: i8) -> V {
        map(v, |b| (b as i8) < x)
    }

    pub(super) fn lt_u8(v: V, x: u8) -> V {
        map(v, |b| b < x)
    }

    pub(super) fn ge_u8(v: V, x: u8) -> V {
        map(v, |b| b >= x)
    }

    pub(super) fn eq_u8(v: V, x: u8) -> V {
        map(v, |b| b == x)
    }

    pub(super) fn and(a: V, b: V) -> V {
        zip(a, b, |x, y| x & y)
    }

    pub(super) fn or(a: V, b: V) -> V {
        zip(a, b, |x, y| x | y)
    }

    pub(super) fn andnot(a: V, b: V) -> V {
        zip(a, b, |x, y| x & !y)
    }

    pub(super) fn bitselect(a: V, b: V, mask: V) -> V {
        core::array::from_fn(|k| (a[k] & mask[k]) | (b[k] & !mask[k]))
    }

    pub(super) fn shl<const N: u32>(v: V) -> V {
        v.map(|b| b << N)
    }

    pub(super) fn shr<const N: u32>(v: V) -> V {
        v.map(|b| b >> N)
    }

    pub(super) fn next1(v: V) -> V {
        core::array::from_fn(|k| v.get(k + 1).copied().unwrap_or(0))
    }

    pub(super) fn next2(v: V) -> V {
        core::array::from_fn(|k| v.get(k + 2).copied().unwrap_or(0))
    }

    pub(super) fn interleave_low(lo: V, hi: V) -> V {
        core::array::from_fn(|k| if k % 2 == 0 { lo[k / 2] } else { hi[k / 2] })
    }

    pub(super) fn interleave_high(lo: V, hi: V) -> V {
        core::array::from_fn(|k| {
            if k % 2 == 0 {
                lo[8 + k / 2]
            } else {
                hi[8 + k / 2]
            }
        })
    }

    pub(super) fn swizzle(v: V, table: &[u8; 16]) -> V {
        table.map(|t| if t < 16 { v[t as usize] } else { 0 })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{room, transcode};
    use proptest::prelude::*;

    fn expected(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn check(bytes: &[u8]) {
        // Whatever the room held before must not show through.
        let mut dst = vec![0xA5; room(bytes.len())];
        let got = transcode(bytes, &mut dst);
        match core::str::from_utf8(bytes) {
            Ok(s) => {
                let n = got.unwrap_or_else(|| panic!("valid UTF-8 refused: {bytes:02x?}"));
                assert_eq!(dst[..n], expected(s), "for {bytes:02x?}");
            }
            Err(_) => assert_eq!(got, None, "invalid UTF-8 accepted: {bytes:02x?}"),
        }
    }

    /// Text from a small alphabet of 1- to 4-byte characters, so that every block mixes them.
    fn text() -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec![
            'a',
            ' ',
            '"',
            '\\',
            '\u{7F}',
            'é',
            'ß',
            '\u{7FF}',
            '\u{800}',
            '調',
            'ー',
            '。',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{FEFF}',
            '\u{FFFF}',
            '😀',
            '\u{10000}',
            '\u{10FFFF}',
        ]);
        prop::collection::vec(chars, 0..80).prop_map(|v| v.into_iter().collect())
    }

    #[test]
    fn ascii_and_cjk_blocks() {
        check(b"");
        check(b"0123456789abcdef0123456789abcdef!");
        let japanese = "エージェントの調査結果をまとめました。次の手順はレビューです。";
        check(japanese.as_bytes());
        check(format!("{{\"text\":\"{japanese} research {japanese}\"}}").as_bytes());
        check("é".repeat(40).as_bytes());
        check("😀調a".repeat(20).as_bytes());
    }

    #[test]
    fn invalid_utf8_is_refused_wherever_it_is() {
        let good = "調査結果をまとめました。abc".repeat(3);
        // A lone continuation, overlong 2- and 3-byte forms, a surrogate, a truncated
        // sequence, a lead byte followed by ASCII, and bytes that never occur.
        let bad: [&[u8]; 9] = [
            &[0x80],
            &[0xC0, 0x80],
            &[0xC1, 0xBF],
            &[0xE0, 0x9F, 0xBF],
            &[0xED, 0xA0, 0x80],
            &[0xE8, 0xAA],
            &[0xE8, b'a', b'b'],
            &[0xF5, 0x80, 0x80, 0x80],
            &[0xFF],
        ];
        for b in bad {
            for at in [0, 1, 5, 13, 14, 15, 16, 17, 30, good.len()] {
                let at = (0..=at.min(good.len()))
                    .rev()
                    .find(|&k| good.is_char_boundary(k))
                    .unwrap_or(0);
                let mut bytes = good.as_bytes()[..at].to_vec();
                bytes.extend_from_slice(b);
                bytes.extend_from_slice(&good.as_bytes()[at..]);
                check(&bytes);
                // Also as the very end of the input.
                check(&[&good.as_bytes()[..at], b].concat());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn matches_std_on_valid_text(s in text()) {
            check(s.as_bytes());
        }

        #[test]
        fn refuses_exactly_what_std_refuses(s in text(), at in any::<prop::sample::Index>(), b in any::<u8>(), flip in any::<bool>()) {
            // One byte replaced or inserted anywhere: valid or not, the answer matches std.
            let mut bytes = s.into_bytes();
            let k = at.index(bytes.len() + 1);
            if flip && k < bytes.len() {
                bytes[k] = b;
            } else {
                bytes.insert(k, b);
            }
            check(&bytes);
        }

        #[test]
        fn any_bytes(bytes in prop::collection::vec(prop_oneof![Just(0x80u8), Just(0xBF), Just(0xE3), Just(0xC3), Just(b'a'), any::<u8>()], 0..64)) {
            check(&bytes);
        }
    }
}
