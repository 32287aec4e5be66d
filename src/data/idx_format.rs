//! Low-level decoding of IDX files (the MNIST format), gzipped or raw.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::DataError;

/// The two magic bytes that start every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Returns `bytes`, gunzipped first if they start with the gzip magic bytes.
pub(crate) fn maybe_gunzip(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(2));
    MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DataError::Decompress {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}

/// Checks the magic number (unsigned-byte data, `ndim` dimensions) and returns the
/// dimensions and the payload that follows the header.
pub(crate) fn parse_header<'a>(
    path: &Path,
    bytes: &'a [u8],
    ndim: u8,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let expected = 0x0000_0800 | u32::from(ndim);
    let header_len = 4 + 4 * usize::from(ndim);
    let Some(magic) = be_u32(bytes, 0) else {
        return Err(DataError::TruncatedHeader {
            path: path.to_path_buf(),
            needed: header_len,
            available: bytes.len(),
        });
    };
    if magic != expected {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            expected,
            found: magic,
        });
    }
    if bytes.len() < header_len {
        return Err(DataError::TruncatedHeader {
            path: path.to_path_buf(),
            needed: header_len,
            available: bytes.len(),
        });
    }
    let dims = (0..usize::from(ndim))
        .filter_map(|k| be_u32(bytes, 4 + 4 * k))
        .map(|d| d as usize)
        .collect();
    Ok((dims, &bytes[header_len..]))
}

/// Checks that `payload` holds exactly `count` records of `record_len` bytes.
pub(crate) fn check_payload(
    path: &Path,
    payload: &[u8],
    header_len: usize,
    count: usize,
    record_len: usize,
) -> Result<(), DataError> {
    let needed = count.saturating_mul(record_len);
    if payload.len() < needed {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            record: payload.len() / record_len.max(1),
            record_len,
            available: payload.len() % record_len.max(1),
        });
    }
    if payload.len() > needed {
        return Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            expected: header_len + needed,
            actual: header_len + payload.len(),
        });
    }
    Ok(())
}

/// An IDX file of unsigned bytes with `ndim` dimensions, decoded (gunzipped when it is
/// gzip, header and payload length checked): its dimensions and its payload, one record
/// of `dims[1] * dims[2] * ...` bytes per `dims[0]`. `path` is only used in errors.
pub(crate) fn decode(
    path: &Path,
    bytes: Vec<u8>,
    ndim: u8,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let bytes = maybe_gunzip(path, bytes)?;
    let (dims, payload) = parse_header(path, &bytes, ndim)?;
    let record_len = dims[1..].iter().fold(1usize, |a, &d| a.saturating_mul(d));
    let header_len = 4 + 4 * usize::from(ndim);
    check_payload(path, payload, header_len, dims[0], record_len)?;
    let payload = payload.to_vec();
    Ok((dims, payload))
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
