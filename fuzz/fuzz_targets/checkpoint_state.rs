//! A checkpoint's `state.json`, whatever its bytes: a table search resumes from it or
//! refuses it with an error, and a search that resumes runs to an end or an error,
//! never a panic or an endless loop.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use tnd_nas::objective::{
    Direction, NB201_CIFAR10_ACCURACY, Objective, Tabular, TabularTable, WeightedSum,
};
use tnd_nas::search::{Search, TableSearchConfig};
use tnd_nas::space::Nb201Space;

fn table() -> Arc<TabularTable> {
    static TABLE: OnceLock<Arc<TabularTable>> = OnceLock::new();
    TABLE
        .get_or_init(|| Arc::new(TabularTable::nb201_cifar10().unwrap()))
        .clone()
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tnd-nas-fuzz-ck-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    std::fs::write(dir.join("state.json"), data).unwrap();
    // The manifest lists the state as written, so the fuzzed state reaches the checks
    // behind the checksum.
    let manifest = serde_json::json!([
        {"name": "state.json", "bytes": data.len(), "crc32": crc32fast::hash(data)}
    ]);
    std::fs::write(dir.join("files.json"), manifest.to_string()).unwrap();
    let objective: Box<dyn Objective> =
        Box::new(Tabular::new(table(), NB201_CIFAR10_ACCURACY, Direction::Maximise).unwrap());
    let search = Search::builder(Nb201Space::new())
        .objectives([objective])
        .reward(WeightedSum::new(vec![1.0]).unwrap())
        .build_table(TableSearchConfig::new(20).with_seed(0))
        .unwrap();
    if let Ok(mut resumed) = search.resume_from(dir) {
        let _ = resumed.run(&mut []);
    }
});
