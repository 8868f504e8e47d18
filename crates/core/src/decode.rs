//! Capped decoding: base64, then gzip or zlib, never past a byte cap.
//!
//! This is the only place that may use `flate2`'s decoders (see `clippy.toml`): every
//! decompression goes through [`decompress_capped`], which stops reading at the cap, so a
//! decompression bomb becomes [`DecodeError::TooLarge`] instead of an out-of-memory.

use std::io::Read;

use base64::Engine as _;

use crate::DecodeError;

/// The default cap on decompressed bytes: 32 MiB, well above what a 6 MB Lambda payload of
/// `CloudWatch` Logs data decompresses to in practice (a `PutLogEvents` batch is at most 1 MiB).
pub const DEFAULT_MAX_DECODED_BYTES: usize = 32 * 1024 * 1024;

/// Decodes standard base64 (with padding), tolerating surrounding whitespace.
///
/// # Errors
/// [`DecodeError::Base64`] when the input is not base64.
pub fn base64(data: &str) -> Result<Vec<u8>, DecodeError> {
    Ok(base64::engine::general_purpose::STANDARD.decode(data.trim())?)
}

/// Decompresses gzip (magic `1f 8b`) or zlib (`78 ..`) data, reading at most `cap` bytes.
///
/// # Errors
/// [`DecodeError::NotCompressed`], [`DecodeError::Decompress`] or [`DecodeError::TooLarge`].
#[allow(clippy::disallowed_types)] // The one place decoders are allowed: capped below.
pub fn decompress_capped(data: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    match data {
        [0x1f, 0x8b, ..] => read_capped(flate2::read::MultiGzDecoder::new(data), cap),
        [0x78, second, ..] if (u16::from(0x78_u8) << 8 | u16::from(*second)) % 31 == 0 => {
            read_capped(flate2::read::ZlibDecoder::new(data), cap)
        }
        _ => Err(DecodeError::NotCompressed(data.iter().take(4).copied().collect())),
    }
}

/// Base64 then capped decompression: the `CloudWatch` Logs `awslogs.data` path.
///
/// # Errors
/// Any [`DecodeError`] of the two steps.
pub fn gunzip_base64(data: &str, cap: usize) -> Result<Vec<u8>, DecodeError> {
    decompress_capped(&base64(data)?, cap)
}

fn read_capped(reader: impl Read, cap: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    // Read one byte past the cap: reaching it means the stream is larger than allowed.
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut out).map_err(DecodeError::Decompress)?;
    if out.len() > cap {
        return Err(DecodeError::TooLarge { cap });
    }
    Ok(out)
}

/// Gzip-compresses `data` (used for request bodies and by tests that build envelopes).
#[must_use]
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Base64 of gzip of `data`: the inverse of [`gunzip_base64`].
#[must_use]
pub fn gzip_base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(gzip(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let data = br#"{"a":1}"#;
        assert_eq!(gunzip_base64(&gzip_base64(data), 100).unwrap(), data);
    }

    #[test]
    fn bad_base64_is_typed() {
        assert!(matches!(gunzip_base64("!!!not base64", 100), Err(DecodeError::Base64(_))));
    }

    #[test]
    fn not_gzip_is_typed() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"plain text");
        let err = gunzip_base64(&b64, 100).unwrap_err();
        assert_eq!(err.kind(), "not_compressed");
    }

    #[test]
    fn truncated_gzip_is_typed() {
        let gz = gzip(&[b'x'; 10_000]);
        let err = decompress_capped(&gz[..gz.len() / 2], 1 << 20).unwrap_err();
        assert_eq!(err.kind(), "bad_compression");
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        // 64 MiB of zeros compresses to about 64 KiB; the cap is 1 MiB.
        let bomb = gzip(&vec![0_u8; 64 << 20]);
        assert!(bomb.len() < 1 << 20);
        let err = decompress_capped(&bomb, 1 << 20).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { cap } if cap == 1 << 20));
    }

    #[test]
    fn exactly_the_cap_is_allowed() {
        let data = vec![7_u8; 4096];
        assert_eq!(decompress_capped(&gzip(&data), 4096).unwrap().len(), 4096);
    }

    #[test]
    fn zlib_is_accepted() {
        use std::io::Write as _;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"hello").unwrap();
        assert_eq!(decompress_capped(&enc.finish().unwrap(), 10).unwrap(), b"hello");
    }

    proptest! {
        #[test]
        fn decode_of_encode_is_identity(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            prop_assert_eq!(gunzip_base64(&gzip_base64(&data), 4096).unwrap(), data);
        }

        #[test]
        fn arbitrary_input_never_panics(s in ".{0,256}") {
            let _ = gunzip_base64(&s, 1024);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decompress_capped(&b, 1024);
        }
    }
}
