//! base64url without padding (RFC 7515 §2), the only encoding JOSE uses.
//!
//! Decoding is strict: padding characters, characters outside the URL-safe
//! alphabet and non-zero trailing bits are all rejected, so every byte string
//! has exactly one accepted encoding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes bytes as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url; `None` if the text is not canonical base64url.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = [0u8, 1, 2, 250, 251, 252, 253, 254, 255];
        assert_eq!(decode(&encode(&bytes)).as_deref(), Some(&bytes[..]));
    }

    #[test]
    fn rejects_padding_and_standard_alphabet() {
        assert_eq!(decode("AQ").as_deref(), Some(&[1u8][..]));
        assert!(decode("AQ==").is_none());
        assert!(decode("+/8").is_none());
        assert!(decode("A").is_none());
        // Non-zero trailing bits: "AR" would also decode to [1] if lenient.
        assert!(decode("AR").is_none());
    }
}
