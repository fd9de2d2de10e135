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
    /// Lowest start of any range: addresses are stored as offsets from it.
    base: usize,
    /// Highest end of any range, as an offset from `base`, capped to 32 bits: no
    /// literal is at or beyond it.
    extent: u32,
}

impl Image {
    /// The executable's read-only image, read once per process.
    pub(crate) fn get() -> Image {
        static IMAGE: OnceLock<Image> = OnceLock::new();
        *IMAGE.get_or_init(|| read_image().unwrap_or_default())
    }

    /// The offset of `s` from the image's base if all of `s` lies in one read-only
    /// range of the executable and the offset fits in 32 bits.
    pub(crate) fn offset_of(&self, s: &str) -> Option<u32> {
        let start = s.as_ptr() as usize;
        let end = start.wrapping_add(s.len());
        let inside = self
            .ranges
            .get(..self.len)
            .unwrap_or_default()
            .iter()
            .any(|&(lo, hi)| start >= lo && end <= hi);
        if !inside {
            return None;
        }
        u32::try_from(start - self.base).ok()
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
    image.base = image.ranges[..n].iter().map(|r| r.0).min()?;
    let end = image.ranges[..n].iter().map(|r| r.1).max()?;
    image.extent = u32::try_from(end - image.base).unwrap_or(u32::MAX);
    Some(image)
}

#[cfg(not(target_os = "linux"))]
fn read_image() -> Option<Image> {
    None
}

/// Slots in one [`StaticVerdicts`] table (direct-mapped; 32 KiB).
const SLOTS: usize = 4096;
/// Largest verdict a slot holds (the low 15 bits of its word).
pub(crate) const MAX_VERDICT: u16 = 0x7FFF;
/// The bits of a slot's word that hold the verdict.
const VERDICT: u64 = MAX_VERDICT as u64;
/// Set in every stored entry: tells a stored verdict 0 from an empty slot.
const STORED: u64 = 0x8000;

/// A verdict cache for strings in the read-only image, shared by every thread: each
/// slot holds the string's offset, its length and a 15-bit verdict in one atomic
/// word, so a lookup is one load and one compare, and a racing insert can only
/// replace a whole entry, never tear one.
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

    /// The slot and the tag (offset from the image's base and length) of `s`, if
    /// both fit the tag. Says nothing about whether `s` is a literal: two strings
    /// with the same tag are at the same address with the same length.
    #[inline]
    fn locate(&self, s: &str) -> Option<(usize, u64)> {
        // One compare turns away heap strings (above the image) and anything below
        // (wrapped around to a huge offset); `extent` fits 32 bits, so the offset
        // does too.
        let offset = (s.as_ptr() as usize).wrapping_sub(self.image.base);
        if offset >= self.image.extent as usize {
            return None;
        }
        let len = u16::try_from(s.len()).ok()?;
        let tag = (offset as u64) << 32 | u64::from(len) << 16;
        // Literals are distinct addresses packed together in the image, so the low
        // bits of the offset already spread them over the slots (no multiply on
        // the path every attribute takes).
        Some((offset % SLOTS, tag))
    }

    /// The verdict stored for `s`, if `s` is a literal seen before.
    ///
    /// No image check here: only literals are ever stored, and a string with a
    /// stored tag is at that literal's address, so it is that literal.
    #[inline]
    pub(crate) fn get(&self, s: &str) -> Option<u16> {
        let (slot, tag) = self.locate(s)?;
        let entry = self.slots[slot % SLOTS].load(Ordering::Relaxed);
        // A stored entry has its `STORED` bit set, so an empty slot (0) never
        // matches; one compare checks both.
        (entry & !VERDICT == tag | STORED).then_some((entry & VERDICT) as u16)
    }

    /// Remembers `verdict` for `s` if `s` is a literal; returns whether it was one.
    /// Verdicts above [`MAX_VERDICT`] are not kept.
    #[inline]
    pub(crate) fn put(&self, s: &str, verdict: u16) -> bool {
        if self.image.offset_of(s).is_none() {
            return false;
        }
        let Some((slot, tag)) = self.locate(s) else {
            return true;
        };
        if verdict <= MAX_VERDICT {
            self.slots[slot % SLOTS].store(tag | STORED | u64::from(verdict), Ordering::Relaxed);
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
        assert!(image.offset_of("a literal").is_some());
        let owned = String::from("a literal");
        assert!(image.offset_of(&owned).is_none());
        let leaked: &'static str = Box::leak(owned.into_boxed_str());
        assert!(image.offset_of(leaked).is_none(), "heap, even if 'static");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn verdicts_are_found_by_address_and_length_only() {
        let cache = StaticVerdicts::new(Image::get());
        let text = "order.status.previous";
        assert!(cache.put(text, 7), "a literal is kept");
        assert_eq!(cache.get(text), Some(7));
        // Same address, other length: another string.
        assert_eq!(cache.get(&text[..5]), None);
        // A heap copy with the same bytes is neither kept nor found.
        assert!(!cache.put(&String::from(text), 7));
        let copy = String::from(text);
        assert_eq!(cache.get(copy.as_str()), None);
    }
}
