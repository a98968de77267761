//! Download sizes: `bytes` gzipped as `sottovoce serve` sends them, and how many bytes that is.
//!
//! The compressor is libdeflate at level 12, its slowest and smallest level (Eric Biggers'
//! libdeflate, through the `libdeflater` crate). Measured on 2026-12-06 against flate2 at its
//! best level: the demo's English model part went from 143,436 to 125,974 bytes in 42 ms, and
//! the common part from 26,085 to 22,437. That is within 1 % of Zopfli, which the static files
//! of `make pkg` use (`scripts/served-gzip.mjs`), and about 30 times faster. So a server can
//! compress its models when it starts.

/// `bytes` gzipped at libdeflate's level 12: a complete gzip stream that any browser decodes.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut compressor = libdeflater::Compressor::new(libdeflater::CompressionLvl::best());
    let mut out = vec![0; compressor.gzip_compress_bound(bytes.len())];
    // The buffer is as large as libdeflate's bound for this input, so compression cannot run out of room.
    let n = compressor.gzip_compress(bytes, &mut out).unwrap_or(0);
    out.truncate(n);
    out
}

/// Size in bytes of `bytes` after [`gzip`], as `sottovoce serve` sends it.
pub(crate) fn gzip_len(bytes: &[u8]) -> usize {
    gzip(bytes).len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn the_stream_is_gzip_that_decodes_to_the_input() {
        let input: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8 ^ (i / 97) as u8).collect();
        let gz = gzip(&input);
        assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic bytes");
        assert!(gz.len() < input.len(), "{} bytes compressed to {}", input.len(), gz.len());
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, input);
        assert_eq!(gzip_len(&input), gz.len());
        let empty = gzip(b"");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&empty[..]).read_to_end(&mut back).unwrap();
        assert!(back.is_empty());
    }
}
