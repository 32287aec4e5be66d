//! CIFAR-10 and CIFAR-100 binary batches: errors naming the file, never panics.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tnd_nas::data::{Cifar10, Cifar100, Cifar100Labels};

/// One file, rewritten for each input.
fn file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tnd-nas-fuzz-cifar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("data_batch_1.bin")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    std::fs::write(path, data).unwrap();
    let _ = Cifar10::read_file(path);
    let _ = Cifar100::read_file(path, Cifar100Labels::Fine);
    let _ = Cifar100::read_file(path, Cifar100Labels::Coarse);
});
