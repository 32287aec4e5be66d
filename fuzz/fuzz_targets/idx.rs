//! IDX image and label files: errors naming the file, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tnd_nas::data::{IdxImages, IdxLabels};

fuzz_target!(|data: &[u8]| {
    let _ = IdxImages::from_bytes("fuzz-images-idx3-ubyte", data.to_vec());
    let _ = IdxLabels::from_bytes("fuzz-labels-idx1-ubyte", data.to_vec());
});
