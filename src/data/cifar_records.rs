//! Decoding the CIFAR binary record format shared by CIFAR-10 and CIFAR-100.

use std::path::Path;

use super::DataError;

/// Pixels per CIFAR image: 3 planes (R, G, B) of 32x32.
pub(crate) const CIFAR_PIXELS: usize = 3 * 32 * 32;

/// Decodes the records of one CIFAR binary file and appends them to `pixels`/`labels`.
///
/// Each record is `label_limits.len()` label bytes followed by [`CIFAR_PIXELS`] pixel
/// bytes already in CHW order. Every label byte `k` must be below `label_limits[k]`;
/// the label at position `keep` is the one stored.
pub(crate) fn decode_records(
    path: &Path,
    bytes: &[u8],
    label_limits: &[usize],
    keep: usize,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u16>,
) -> Result<(), DataError> {
    let header = label_limits.len();
    let record_len = header + CIFAR_PIXELS;
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if !bytes.len().is_multiple_of(record_len) {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            record: bytes.len() / record_len,
            record_len,
            available: bytes.len() % record_len,
        });
    }
    let count = bytes.len() / record_len;
    pixels.reserve(count * CIFAR_PIXELS);
    labels.reserve(count);
    for (record, chunk) in bytes.chunks_exact(record_len).enumerate() {
        for (&label, &num_classes) in chunk[..header].iter().zip(label_limits) {
            if usize::from(label) >= num_classes {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_path_buf(),
                    record,
                    label: u16::from(label),
                    num_classes,
                });
            }
        }
        labels.push(u16::from(chunk[keep]));
        pixels.extend_from_slice(&chunk[header..]);
    }
    Ok(())
}
