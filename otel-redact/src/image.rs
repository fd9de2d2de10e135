//! Which strings live in the program's read-only image: string literals, and so
//! attribute keys, most span and event names and enum-like values (`GET`, `https`,
//! `PAID`).
//!
//! Bytes in a read-only mapping of the executable never change and are never freed,
//! so what was decided about a string there (its key verdict, that it is clean) holds
//! for every later string at the same address with the same length. The
//! [`StaticVerdicts`] caches use that to skip the work for literals, keyed by address
//! alone. Heap strings are never taken for literals: they cannot lie in the image.
//!
//! The image is found once per process from `/proc/self/maps`: the mappings of the
//! running executable (matched by inode) that are readable and not writable. Where
//! that is unavailable (not Linux, no `/proc`), no string counts as static and every
//! string takes the general path, which is correct, only slower.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Most read-only ranges kept (an executable has two or three: rodata, text).
const MAX_RANGES: usize = 4;

/// The read-only ranges of the executable, as `[start, end)` addresses.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Image {
    ranges: [(usize, usize); MAX_RANGES],
    /// How many of `ranges` are in use.
    len: usize,
}

impl Image {
    /// The executable's read-only image, read once per process.
    pub(crate) fn get() -> Image {
        static IMAGE: OnceLock<Image> = OnceLock::new();
        *IMAGE.get_or_init(|| read_image().unwrap_or_default())
    }

    /// Whether all of `s` lies in one read-only range of the executable.
    pub(crate) fn contains(&self, s: &str) -> bool {
        let start = s.as_ptr() as usize;
        let end = start.wrapping_add(s.len());
        self.ranges
            .get(..self.len)
            .unwrap_or_default()
            .iter()
            .any(|&(lo, hi)| start >= lo && end <= hi)
    }
}

#[cfg(target_os = "linux")]
fn read_image() -> Option<Image> {
    use std::os::unix::fs::MetadataExt;

    let inode = std::fs::metadata(std::env::current_exe().ok()?).ok()?.ino();
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let mut image = Image::default();
    let mut n = 0;
    for line in maps.lines() {
        // start-end perms offset dev inode [path]
        let mut fields = line.split_ascii_whitespace();
        let (Some(span), Some(perms), Some(_), Some(_), Some(ino)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let readable_only = perms.starts_with('r') && perms.as_bytes().get(1) == Some(&b'-');
        if !readable_only || ino.parse::<u64>().ok() != Some(inode) {
            continue;
        }
        let Some((lo, hi)) = span.split_once('-') else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        else {
            continue;
        };
        // Adjacent mappings (rodata then text) merge into one range.
        if n > 0 && image.ranges[n - 1].1 == lo {
            image.ranges[n - 1].1 = hi;
        } else if n < MAX_RANGES {
            image.ranges[n] = (lo, hi);
            n += 1;
        }
    }
    image.len = n;
    Some(image)
}

#[cfg(not(target_os = "linux"))]
fn read_image() -> Option<Image> {
    None
}

/// Slots in one [`StaticVerdicts`] table (direct-mapped; 32 KiB), indexed by the
/// low bits of a string's address.
const SLOT_BITS: u32 = 12;
const SLOTS: usize = 1 << SLOT_BITS;
/// Addresses at or above `1 << ADDRESS_BITS` are never kept (user space on x86-64
/// and AArch64 Linux lies below it unless a program asks for more).
const ADDRESS_BITS: u32 = 48;
/// Lengths at or above `1 << LEN_BITS` are never kept.
const LEN_BITS: u32 = 16;
/// Set in every stored entry: tells a stored verdict 0 from an empty slot.
const STORED: u64 = 1 << 11;
/// Largest verdict a slot holds (the bits below `STORED`).
pub(crate) const MAX_VERDICT: u16 = (STORED - 1) as u16;

/// A verdict cache for strings in the read-only image, shared by every thread.
///
/// A slot is chosen by the low 12 bits of a string's address and holds, in one
/// atomic word, the rest of the address (bits 12–47, as bits 28–63), the length
/// (bits 12–27), [`STORED`] and an 11-bit verdict. So a lookup is one load and one
/// compare of the whole word, with no check that the string is in the image: only
/// strings in the image are ever stored, and a string with a stored address and
/// length *is* that string (the image never changes and no other allocation can
/// lie there). A racing insert can only replace a whole entry, never tear one.
#[derive(Debug)]
pub(crate) struct StaticVerdicts {
    image: Image,
    slots: Box<[AtomicU64; SLOTS]>,
}

impl StaticVerdicts {
    pub(crate) fn new(image: Image) -> StaticVerdicts {
        StaticVerdicts {
            image,
            slots: Box::new([const { AtomicU64::new(0) }; SLOTS]),
        }
    }

    /// The slot of `s` and the word a stored entry for `s` holds with verdict 0, if
    /// its address and length fit that word. Says nothing about whether `s` is a
    /// literal.
    #[inline(always)]
    fn locate(s: &str) -> Option<(usize, u64)> {
        let address = s.as_ptr() as u64;
        let len = s.len() as u64;
        // One test for both: shifted out of the word, a high address or length bit
        // could make two strings look alike.
        if (address >> ADDRESS_BITS) | (len >> LEN_BITS) != 0 {
            return None;
        }
        // Literals are distinct addresses packed together in the image, so the
        // low bits of the address already spread them over the slots.
        let slot = (address as usize) & (SLOTS - 1);
        Some((
            slot,
            (address >> SLOT_BITS) << 28 | len << SLOT_BITS | STORED,
        ))
    }

    /// The verdict stored for `s`, if `s` is a literal seen before.
    #[inline(always)]
    pub(crate) fn get(&self, s: &str) -> Option<u16> {
        let (slot, tag) = Self::locate(s)?;
        let entry = self.slots[slot].load(Ordering::Relaxed);
        // Equal above the verdict bits: the same address and length, and stored
        // (an empty slot, 0, never has `STORED`).
        ((entry ^ tag) <= u64::from(MAX_VERDICT)).then_some((entry & u64::from(MAX_VERDICT)) as u16)
    }

    /// Whether `s` is a literal seen before with exactly `verdict`: one compare,
    /// for the verdict nearly every lookup finds.
    #[inline(always)]
    pub(crate) fn holds(&self, s: &str, verdict: u16) -> bool {
        match Self::locate(s) {
            Some((slot, tag)) => {
                self.slots[slot].load(Ordering::Relaxed) == tag | u64::from(verdict)
            }
            None => false,
        }
    }

    /// Remembers `verdict` for `s` if `s` is a literal; returns whether it was one.
    /// Verdicts above [`MAX_VERDICT`] are not kept.
    #[inline]
    pub(crate) fn put(&self, s: &str, verdict: u16) -> bool {
        if !self.image.contains(s) {
            return false;
        }
        if let Some((slot, tag)) = Self::locate(s) {
            if verdict <= MAX_VERDICT {
                self.slots[slot].store(tag | u64::from(verdict), Ordering::Relaxed);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn literals_are_in_the_image_and_heap_strings_are_not() {
        let image = Image::get();
        assert!(image.contains("a literal"));
        let owned = String::from("a literal");
        assert!(!image.contains(&owned));
        let leaked: &'static str = Box::leak(owned.into_boxed_str());
        assert!(!image.contains(leaked), "heap, even if 'static");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn verdicts_are_found_by_address_and_length_only() {
        let cache = StaticVerdicts::new(Image::get());
        let text = "order.status.previous";
        assert!(cache.put(text, 7), "a literal is kept");
        assert_eq!(cache.get(text), Some(7));
        assert!(cache.holds(text, 7));
        assert!(!cache.holds(text, 6), "holds compares the verdict too");
        // Same address, other length: another string.
        assert_eq!(cache.get(&text[..5]), None);
        // A heap copy with the same bytes is neither kept nor found.
        assert!(!cache.put(&String::from(text), 7));
        let copy = String::from(text);
        assert_eq!(cache.get(copy.as_str()), None);
        assert!(!cache.holds(copy.as_str(), 7));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_largest_verdict_is_kept_and_larger_ones_are_not() {
        let cache = StaticVerdicts::new(Image::get());
        let text = "http.response.status_code";
        assert!(cache.put(text, MAX_VERDICT));
        assert_eq!(cache.get(text), Some(MAX_VERDICT));
        assert!(cache.put(text, MAX_VERDICT + 1), "still a literal");
        assert_eq!(cache.get(text), Some(MAX_VERDICT), "not overwritten");
    }
}
