//! What happens to a value once a rule matched it: a typed mask, a keyed hash, or
//! removal.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::RedactError;
use crate::label::{validate_label, MAX_LABEL_LEN};

/// Hex characters of the HMAC kept in a hash mask (64 bits: enough to correlate one
/// customer's spans, too short to be a useful offline dictionary target on its own).
pub const HASH_HEX_LEN: usize = 16;

/// Longest replacement any action writes for one match, in bytes. With it an output
/// length bound holds: see [`Redactor::output_len_bound`](crate::Redactor::output_len_bound).
pub const MAX_REPLACEMENT_LEN: usize =
    "[HASH:".len() + MAX_LABEL_LEN + 1 + MAX_LABEL_LEN + 1 + HASH_HEX_LEN + 1;

/// What to write in place of a match.
///
/// | action | in text | whole attribute value |
/// | --- | --- | --- |
/// | [`Action::Mask`] | `[REDACTED:phone]` | string `[REDACTED:phone]` |
/// | [`Action::hash`] | `[HASH:phone:k1:3f2a9c1b0d4e5f67]` | string of the same form |
/// | [`Action::Drop`] | the match is removed (empty string) | the attribute is removed |
///
/// The hash is HMAC-SHA256 over a normalised form of the match (digits only for
/// phones, cards, passports, SNILS and INN, with a Russian `8` prefix read as `7`;
/// lower case for e-mails), so `+7 916 123-45-67` and `89161234567` hash alike and
/// support can correlate one customer's traces without seeing who it is. Values under
/// key rules with those labels (`customer.phone` → `phone`) are normalised the same
/// way, so a phone under a key and the same phone in free text get one pseudonym. The key id
/// names the secret so it can be rotated.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Action {
    /// Replace with `[REDACTED:<label>]`, where the label names the rule.
    #[default]
    Mask,
    /// Replace with `[HASH:<label>:<key id>:<16 hex>]`. Build with [`Action::hash`].
    Hash(HashKey),
    /// Remove: an attribute is dropped from its list, a match inside text is cut out.
    Drop,
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Mask => f.write_str("Mask"),
            Action::Hash(k) => f.debug_tuple("Hash").field(k).finish(),
            Action::Drop => f.write_str("Drop"),
        }
    }
}

impl Action {
    /// A keyed-hash action. `key_id` (a short label such as `k1`) is written into
    /// every hash so the secret can be rotated; `secret` must not be empty.
    pub fn hash(key_id: &str, secret: &[u8]) -> Result<Action, RedactError> {
        if validate_label(key_id).is_err() {
            return Err(RedactError::InvalidHashKey("key id must be a short label"));
        }
        if secret.is_empty() {
            return Err(RedactError::InvalidHashKey("secret must not be empty"));
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|_| RedactError::InvalidHashKey("secret rejected by HMAC"))?;
        Ok(Action::Hash(HashKey {
            key_id: key_id.to_owned(),
            mac,
        }))
    }
}

/// The secret and id of a keyed-hash [`Action`]. Its `Debug` shows the id only.
#[derive(Clone)]
pub struct HashKey {
    key_id: String,
    mac: Hmac<Sha256>,
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl HashKey {
    /// Appends `[HASH:<label>:<key id>:<hex>]` for `normalised` to `out`.
    pub(crate) fn write_hash(&self, label: &str, normalised: &[u8], out: &mut String) {
        let mut mac = self.mac.clone();
        mac.update(normalised);
        let digest = mac.finalize().into_bytes();
        out.push_str("[HASH:");
        out.push_str(label);
        out.push(':');
        out.push_str(&self.key_id);
        out.push(':');
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for byte in digest.iter().take(HASH_HEX_LEN / 2) {
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
        out.push(']');
    }
}

/// How a detector's matches are normalised before hashing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Normalise {
    /// Hash the bytes as they are.
    AsIs,
    /// Hash the ASCII-lower-cased bytes.
    Lowercase,
    /// Hash the digits only.
    Digits,
    /// Digits only, and an 11-digit number starting with `8` is read as `7...`.
    RussianPhone,
}

impl Normalise {
    /// The normalisation of the detector named `label` (as-is for other labels).
    pub(crate) fn for_label(label: &str) -> Normalise {
        match label {
            "phone" => Normalise::RussianPhone,
            "email" => Normalise::Lowercase,
            "card" | "snils" | "inn" | "passport" => Normalise::Digits,
            _ => Normalise::AsIs,
        }
    }

    pub(crate) fn apply(self, text: &str) -> Vec<u8> {
        match self {
            Normalise::AsIs => text.as_bytes().to_vec(),
            Normalise::Lowercase => text.to_ascii_lowercase().into_bytes(),
            Normalise::Digits | Normalise::RussianPhone => {
                let mut digits: Vec<u8> = text.bytes().filter(|b| b.is_ascii_digit()).collect();
                if self == Normalise::RussianPhone && digits.len() == 11 && digits[0] == b'8' {
                    digits[0] = b'7';
                }
                digits
            }
        }
    }
}

/// Appends the replacement `action` writes for `matched` under `label`.
pub(crate) fn write_replacement(
    action: &Action,
    label: &str,
    mask: &str,
    normalise: Normalise,
    matched: &str,
    out: &mut String,
) {
    match action {
        Action::Mask => out.push_str(mask),
        Action::Hash(key) => key.write_hash(label, &normalise.apply(matched), out),
        Action::Drop => {}
    }
}
