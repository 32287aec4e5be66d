//! A `--config` file, whatever its bytes (the first byte picks TOML or JSON): every
//! subcommand reads it with `--print-config` and prints a configuration or refuses the
//! file with an error, never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tnd-nas-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((first, body)) = data.split_first() else {
        return;
    };
    let ext = if first & 1 == 0 { "toml" } else { "json" };
    let path = dir().join(format!("config.{ext}"));
    std::fs::write(&path, body).unwrap();
    let path = path.to_string_lossy().into_owned();
    for sub in [
        "search", "retrain", "tabular", "score", "fidelity", "inspect", "export", "plot",
    ] {
        let _ = tnd_nas::cli::run_args(["tnd-nas", sub, "--config", &path, "--print-config"]);
    }
});
