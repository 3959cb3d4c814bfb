//! Text helpers shared by the parser's JavaScript bindings. Pure: no browser types.

/// The UTF-16 length of a string (what JavaScript's `slice` counts): the UTF-8 length, less
/// one per continuation byte (`10xxxxxx`), plus one per 4-byte sequence (a surrogate pair).
/// Counted eight bytes at a time: it runs over every event's data.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn utf16_len(s: &str) -> u32 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const SIX: u64 = 0x4040_4040_4040_4040;
    let bytes = s.as_bytes();
    let mut words = bytes.chunks_exact(8);
    let (mut continuation, mut four) = (0u32, 0u32);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let w = u64::from_le_bytes(b);
        if w & HIGH == 0 {
            continue;
        }
        // Bit 7 set and bit 6 clear: a continuation byte.
        continuation += (w & HIGH & ((!w & SIX) << 1)).count_ones();
        // Bits 7 to 4 set: the lead byte of a 4-byte sequence.
        four += (w & (w << 1) & (w << 2) & (w << 3) & HIGH).count_ones();
    }
    for &b in words.remainder() {
        continuation += u32::from(b & 0xC0 == 0x80);
        four += u32::from(b >= 0xF0);
    }
    bytes.len() as u32 - continuation + four
}

#[cfg(test)]
mod tests {
    use super::utf16_len;

    #[test]
    fn utf16_len_matches_encode_utf16_at_every_start() {
        let samples = [
            String::new(),
            "a".into(),
            "héllo wörld".into(),
            "日本語のテキスト、スレッド".into(),
            "🧵🧵 emoji 🌸 mix ascii and 日本".into(),
            "x".repeat(100),
            "日本🌸é".repeat(37),
        ];
        for s in &samples {
            for start in (0..=s.len()).filter(|&i| s.is_char_boundary(i)) {
                let t = &s[start..];
                assert_eq!(utf16_len(t) as usize, t.encode_utf16().count(), "{t:?}");
            }
        }
    }
}
