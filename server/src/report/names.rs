//! Safe, reversible file names for match ids.
//!
//! A GameLift match id is an ARN (`arn:aws:gamelift:us-west-2::gamesession/fleet-…/…`):
//! it holds `:` (forbidden on Windows) and `/` (a path separator everywhere). The stem
//! is the id's UTF-8 bytes with every byte outside `[a-z0-9_-]` written `%XX` (uppercase
//! hex). Uppercase letters are escaped too, so two ids that differ only in case never
//! share a file on a case-insensitive file system; `.` is escaped so no stem is `.`,
//! `..` or hidden, and a stem never contains the `.json`/`.tmp` separators.
//!
//! Stems longer than [`MAX_STEM_BYTES`] (an id of up to 256 bytes can triple) would pass
//! the 255-byte name limit of common file systems once a suffix is added. Those become
//! `~<readable prefix>~<32 hex digits of FNV-1a 128>`: not reversible, but the outbox never
//! needs to reverse a name (the match id is inside the file, and the outbox checks that
//! the file's id maps back to its name). FNV is fixed here, not `std`'s hasher, whose
//! algorithm may change between Rust releases and the name must be stable across an
//! upgrade-and-restart.

/// Longest stem written; with the longest suffix the outbox adds (a temp suffix of about
/// 30 bytes, or `.json.corrupt.N`) a name stays under 255 bytes.
pub const MAX_STEM_BYTES: usize = 200;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_safe(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

/// Percent-encodes `id` (no length cap). The inverse is [`decode_stem`].
pub fn encode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for &b in id.as_bytes() {
        if is_safe(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

/// Reverses [`encode_id`]. `None` for a hashed long stem, a malformed escape, a byte
/// that `encode_id` would have escaped, or bytes that are not UTF-8.
pub fn decode_stem(stem: &str) -> Option<String> {
    let bytes = stem.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else if is_safe(b) {
            out.push(b);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The file stem the outbox uses for `match_id`: [`encode_id`], or a hashed form when
/// that is longer than [`MAX_STEM_BYTES`]. Deterministic across runs and releases.
pub fn stem_for(match_id: &str) -> String {
    let full = encode_id(match_id);
    if full.len() <= MAX_STEM_BYTES {
        return full;
    }
    // "~" + prefix + "~" + 32 hex digits; cut the prefix before any '%' escape it splits.
    let room = MAX_STEM_BYTES - 2 - 32;
    let mut cut = room;
    if let Some(p) = full[..room].rfind('%').filter(|p| p + 3 > room) {
        cut = p;
    }
    format!("~{}~{:032x}", &full[..cut], fnv1a_128(match_id.as_bytes()))
}

/// FNV-1a, 128-bit: a fixed, well-known non-cryptographic hash (names, not security).
pub(crate) fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u128::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_is_readable_and_round_trips() {
        let arn = "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b/Gs-7";
        let stem = stem_for(arn);
        assert_eq!(
            stem,
            "arn%3Aaws%3Agamelift%3Aus-west-2%3A%3Agamesession%2Ffleet-1a2b%2F%47s-7"
        );
        assert_eq!(decode_stem(&stem).as_deref(), Some(arn));
    }

    #[test]
    fn case_and_dots_never_collide_or_hide() {
        assert_ne!(stem_for("Ab"), stem_for("ab"));
        assert_eq!(stem_for(".."), "%2E%2E");
        assert_eq!(
            decode_stem("%2e"),
            None,
            "lowercase escapes are never written"
        );
        assert_eq!(decode_stem("A"), None);
        assert_eq!(decode_stem("%4"), None);
    }

    #[test]
    fn long_ids_are_capped_distinct_and_stable() {
        let a = "é".repeat(128); // 256 bytes, each escaped: 768 encoded bytes
        let b = format!("{}x", "é".repeat(127));
        let (sa, sb) = (stem_for(&a), stem_for(&b));
        assert!(sa.len() <= MAX_STEM_BYTES && sb.len() <= MAX_STEM_BYTES);
        assert_ne!(sa, sb);
        assert_eq!(sa, stem_for(&a));
        assert!(sa.starts_with("~%C3%A9"));
        assert_eq!(decode_stem(&sa), None);
    }
}
