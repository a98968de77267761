//! Download sizes: `bytes` gzipped as a web server sends them, and how many bytes that is.

use std::io::Write as _;

/// `bytes` gzipped at the best level.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// Size of `bytes` after gzip at the best level, as a web server would send it (bytes).
pub(crate) fn gzip_len(bytes: &[u8]) -> usize {
    gzip(bytes).len()
}
