//! Helpers shared by the tests of this module (compiled only for tests).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed again on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "tnd-nas-data-test-{}-{n}-{tag}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A deterministic CIFAR pixel value for record `r` (global), channel `c`, row `y`, column `x`.
pub(crate) fn cifar_pixel(r: usize, c: usize, y: usize, x: usize) -> u8 {
    ((r * 31 + c * 85 + y * 7 + x * 3) % 256) as u8
}

/// One CIFAR record: `header` label bytes then R, G, B planes from [`cifar_pixel`].
pub(crate) fn cifar_record(r: usize, header: &[u8]) -> Vec<u8> {
    let mut rec = header.to_vec();
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                rec.push(cifar_pixel(r, c, y, x));
            }
        }
    }
    rec
}
