//! The configuration formats do not drift: the presets and defaults serialise to the
//! JSON stored under `tests/golden/`, byte for byte, and read back to the same values.
//! A search's checkpoint and a ground truth's protocol compare these texts, so a change
//! here would refuse every earlier run directory. After an intended format change, rerun
//! with `UPDATE_GOLDEN=1` and say so in CHANGELOG.md.

use std::path::PathBuf;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tnd_nas::fidelity::GroundTruthProtocol;
use tnd_nas::train::RetrainConfig;
use tnd_nas::{SearchConfig, TableSearchConfig};

fn golden<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let stored = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        text,
        stored,
        "{name} serialises differently from {}",
        path.display()
    );
    let back: T = serde_json::from_str(&stored).unwrap();
    assert_eq!(
        &back,
        value,
        "{name} does not read back from {}",
        path.display()
    );
}

#[test]
fn search_presets_keep_their_format() {
    golden("search-paper", &SearchConfig::paper());
    golden("search-quick", &SearchConfig::quick());
    golden("search-cpu", &SearchConfig::cpu());
    golden("table-search", &TableSearchConfig::new(300).with_seed(7));
}

#[test]
fn retraining_keeps_its_format_and_fills_missing_fields_from_the_default() {
    golden("retrain-default", &RetrainConfig::default());
    golden("ground-truth-protocol", &GroundTruthProtocol::default());
    golden(
        "ground-truth-retrain",
        &GroundTruthProtocol::default().retrain_config(3),
    );
    let partial: RetrainConfig =
        serde_json::from_str(r#"{"epochs": 3, "lr": 0.1, "grad_clip": null}"#).unwrap();
    assert_eq!(
        partial,
        RetrainConfig::default()
            .with_epochs(3)
            .with_lr(0.1)
            .with_grad_clip(None)
    );
}
