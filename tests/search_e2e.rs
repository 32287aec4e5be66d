//! End-to-end searches: every stage runs and every output is written; kill-and-resume
//! continues exactly; bad inputs give their errors without touching outputs.

mod common;

use common::StopAfterEpochs;

use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, NdArray};
use tnd_nas::data::{Cifar10, FashionMnistSample, ImageDataset, Split};
use tnd_nas::objective::{
    Direction, MnasReward, Objective, ParamCount, ValidationAccuracy, WeightedSum,
};
use tnd_nas::policy::UpdaterConfig;
use tnd_nas::schedule::{ShrinkScheduleConfig, StageConfig};
use tnd_nas::search::{JsonlLog, Search, SearchConfig, SearchError, TrainMode};
use tnd_nas::spaces::darts::DartsSpaceConfig;
use tnd_nas::spaces::nb201::Nb201Space;

type B = Autodiff<NdArray>;

/// Burn's CPU backends keep one random state per process, and a search seeds it: tests
/// that compare runs must not interleave with other searches, so every test holds this.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tnd-nas-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Three stages of 2 cells, 2 epochs (1 warm-up) of 3 steps, TND drop counts.
fn tiny_config(mode: TrainMode) -> SearchConfig {
    let stages = ShrinkScheduleConfig::paper_tnd()
        .stages
        .into_iter()
        .map(|s| {
            StageConfig { cells: 2, ..s }
                .with_epochs(2, 1)
                .with_channels(4)
        })
        .collect();
    let mut c = SearchConfig::paper()
        .with_schedule(ShrinkScheduleConfig::new(stages))
        .with_updater(UpdaterConfig::new().with_samples(2).with_lr(0.1))
        .with_batch_size(16)
        .with_max_steps_per_epoch(Some(3))
        .with_mode(mode)
        .with_seed(3);
    c.train.alpha_every = 1;
    c
}

fn sample_data(n: usize) -> ImageDataset {
    let all = FashionMnistSample::load().unwrap();
    let idx: Vec<usize> = (0..n).map(|i| i * (all.len() / n)).collect();
    all.subset(&idx).unwrap()
}

fn objectives() -> Vec<Box<dyn Objective>> {
    vec![
        Box::new(ValidationAccuracy::new()),
        Box::new(ParamCount::new().in_millions()),
    ]
}

fn search(config: SearchConfig, data: ImageDataset) -> Search {
    let space = DartsSpaceConfig::tnd().init().unwrap();
    let reward = MnasReward::new(vec![1.0], vec![-0.3]).unwrap();
    Search::builder(space)
        .objectives(objectives())
        .reward(reward)
        .build::<B>(config, data, Default::default())
        .unwrap()
}

fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("invalid JSONL line {l}: {e}")))
        .collect()
}

#[test]
fn bundled_sample_search_runs_every_stage_and_writes_every_output() {
    let _serial = serial();
    let out = temp_dir("sample");
    std::fs::create_dir_all(&out).unwrap();
    for mode in [TrainMode::Weighted, TrainMode::SinglePath] {
        let log_path = out.join(format!("{mode:?}.jsonl"));
        let mut log = JsonlLog::append(&log_path).unwrap();
        let mut s = search(tiny_config(mode), sample_data(300));
        let result = s.run(&mut [&mut log]).unwrap();
        assert_eq!(result.stages.len(), 3);
        assert_eq!(result.final_architecture.architecture.len(), 28);
        assert!(result.final_architecture.genotype.is_some());
        assert!(result.final_architecture.text.starts_with("TndGenotype("));
        assert!(
            result.sample_count >= 3 * 3 * 2,
            "{} samples",
            result.sample_count
        );
        assert!(!result.front.is_empty());
        assert!(result.final_supernet_accuracy.is_some());
        for (stage, summary) in result.stages.iter().enumerate() {
            assert_eq!(summary.stage, stage);
            assert!(
                summary
                    .probabilities
                    .iter()
                    .all(|p| (p.iter().sum::<f64>() - 1.0).abs() < 1e-9)
            );
        }
        let dir = out.join(format!("{mode:?}"));
        result.write_to(&dir).unwrap();
        tnd_nas::plot::plot_result(&result, &dir).unwrap();
        for file in [
            "result.json",
            "genotype.txt",
            "cells.dot",
            "front.svg",
            "front.png",
            "alpha.svg",
            "alpha.png",
        ] {
            assert!(dir.join(file).is_file(), "{file} missing");
        }
        // One genotype per file, each readable by the parser `retrain`/`inspect` use.
        let genotype_txt = std::fs::read_to_string(dir.join("genotype.txt")).unwrap();
        assert_eq!(genotype_txt.lines().count(), 1, "{genotype_txt}");
        assert_eq!(genotype_txt.trim(), result.final_architecture.text);
        let parsed: tnd_nas::space::Genotype = genotype_txt.trim().parse().unwrap();
        assert_eq!(Some(&parsed), result.final_architecture.genotype.as_ref());
        let darts_file = dir.join("genotype-darts.txt");
        match &result.final_architecture.darts_text {
            Some(darts) => {
                let text = std::fs::read_to_string(&darts_file).unwrap();
                assert_eq!(text.lines().count(), 1, "{text}");
                assert_eq!(text.trim(), darts);
                let from_darts: tnd_nas::space::Genotype = text.trim().parse().unwrap();
                assert_eq!(from_darts, parsed);
            }
            None => assert!(!darts_file.exists()),
        }
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap();
        for key in [
            "final",
            "front",
            "samples",
            "stages",
            "wall_seconds",
            "peak_memory_bytes",
        ] {
            assert!(json.get(key).is_some(), "result.json lacks {key}");
        }
        let records = read_jsonl(&log_path);
        let steps: Vec<_> = records.iter().filter(|r| r["kind"] == "step").collect();
        assert_eq!(steps.len(), 3 * 2 * 3);
        for key in [
            "stage",
            "epoch",
            "step",
            "loss",
            "train_acc",
            "lr",
            "step_ms",
            "images_per_sec",
        ] {
            assert!(
                steps.iter().all(|r| r.get(key).is_some()),
                "step record lacks {key}"
            );
        }
        let alphas: Vec<_> = records.iter().filter(|r| r["kind"] == "alpha").collect();
        assert_eq!(alphas.len(), 3 * 3);
        for key in ["reward_mean", "baseline", "entropy", "probabilities"] {
            assert!(
                alphas.iter().all(|r| r.get(key).is_some()),
                "alpha record lacks {key}"
            );
        }
        let stage_ids: Vec<_> = steps.iter().map(|r| r["stage"].as_u64().unwrap()).collect();
        assert_eq!(stage_ids.first(), Some(&0));
        assert_eq!(stage_ids.last(), Some(&2));
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Writes CIFAR-10 binary files (1 label byte + 3072 pixel bytes per record).
fn write_cifar(dir: &Path, records: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let names = [
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
    ];
    for (f, name) in names.iter().enumerate() {
        let mut bytes = Vec::new();
        for r in 0..records {
            let label = ((r + f) % 10) as u8;
            bytes.push(label);
            // Class-dependent brightness so that there is something to learn.
            for p in 0..3072 {
                bytes.push(((label as usize * 25 + p % 7 + r) % 256) as u8);
            }
        }
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn nb201_search_on_synthetic_cifar_files() {
    let _serial = serial();
    let dir = temp_dir("cifar");
    write_cifar(&dir, 20);
    let data = Cifar10::read(&dir, Split::Train).unwrap();
    assert_eq!(data.len(), 100);
    let stages = ShrinkScheduleConfig::nb201()
        .stages
        .into_iter()
        .map(|s| {
            StageConfig { cells: 1, ..s }
                .with_epochs(2, 1)
                .with_channels(4)
        })
        .collect();
    let mut config =
        tiny_config(TrainMode::Weighted).with_schedule(ShrinkScheduleConfig::new(stages));
    config.train.max_steps_per_epoch = Some(2);
    let objectives: Vec<Box<dyn Objective>> = objectives();
    let reward = WeightedSum::new(vec![1.0, 10.0]).unwrap();
    let mut s = Search::builder(Nb201Space::new())
        .objectives(objectives)
        .reward(reward)
        .build::<B>(config, data, Default::default())
        .unwrap();
    let result = s.run(&mut []).unwrap();
    assert_eq!(result.stages.len(), 3);
    let text = &result.final_architecture.text;
    assert!(Nb201Space::new().parse(text).is_ok(), "{text}");
    result.write_to(dir.join("out")).unwrap();
    assert!(dir.join("out/cells.dot").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

fn losses(records: &[serde_json::Value]) -> Vec<(u64, f64)> {
    records
        .iter()
        .filter(|r| r["kind"] == "step")
        .map(|r| {
            (
                r["global_step"].as_u64().unwrap(),
                r["loss"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn kill_and_resume_matches_the_uninterrupted_run() {
    let _serial = serial();
    let dir = temp_dir("resume");
    std::fs::create_dir_all(&dir).unwrap();
    let data = sample_data(240);
    let config = tiny_config(TrainMode::Weighted);
    // Uninterrupted.
    let mut log_a = JsonlLog::append(dir.join("a.jsonl")).unwrap();
    let full = search(config.clone(), data.clone())
        .with_checkpoint_dir(dir.join("ck-a"))
        .run(&mut [&mut log_a])
        .unwrap();
    // Interrupted after 3 epochs (inside the second stage), then resumed, twice.
    for (i, stop_after) in [3usize, 1].into_iter().enumerate() {
        let log = dir.join(format!("b{i}.jsonl"));
        let ck = dir.join(format!("ck-b{i}"));
        let mut log_b = JsonlLog::append(&log).unwrap();
        let err = search(config.clone(), data.clone())
            .with_checkpoint_dir(&ck)
            .run(&mut [&mut log_b, &mut StopAfterEpochs(stop_after)])
            .unwrap_err();
        assert!(
            matches!(
                err,
                SearchError::Stopped {
                    checkpoint: Some(_),
                    ..
                }
            ),
            "{err}"
        );
        drop(log_b);
        let mut log_b = JsonlLog::append(&log).unwrap();
        let resumed = search(config.clone(), data.clone())
            .resume_from(&ck)
            .unwrap()
            .run(&mut [&mut log_b])
            .unwrap();
        assert_eq!(resumed.final_architecture, full.final_architecture);
        assert_eq!(resumed.stages.len(), full.stages.len());
        for (a, b) in resumed.stages.iter().zip(&full.stages) {
            assert_eq!(
                a.probabilities, b.probabilities,
                "stage {} probabilities differ",
                a.stage
            );
            assert_eq!(a.dropped, b.dropped);
        }
        assert_eq!(resumed.samples.len(), full.samples.len());
        let a = losses(&read_jsonl(&dir.join("a.jsonl")));
        let b = losses(&read_jsonl(&log));
        assert_eq!(a, b, "logged losses differ after resume");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_checkpoint_and_bad_config_are_refused_without_touching_outputs() {
    let _serial = serial();
    let dir = temp_dir("refuse");
    std::fs::create_dir_all(&dir).unwrap();
    let data = sample_data(160);
    let config = tiny_config(TrainMode::SinglePath);
    let ck = dir.join("ck");
    let err = search(config.clone(), data.clone())
        .with_checkpoint_dir(&ck)
        .run(&mut [&mut StopAfterEpochs(1)])
        .unwrap_err();
    assert!(matches!(err, SearchError::Stopped { .. }));
    let state_before = std::fs::read(ck.join("state.json")).unwrap();
    // Another seed, another space, another dataset.
    let err = search(config.clone().with_seed(99), data.clone())
        .resume_from(&ck)
        .unwrap_err();
    assert!(err.to_string().contains("configuration"), "{err}");
    let darts = DartsSpaceConfig::darts().init().unwrap();
    let other = Search::builder(darts)
        .objectives(objectives())
        .reward(MnasReward::new(vec![1.0], vec![-0.3]).unwrap())
        .build::<B>(
            SearchConfig {
                schedule: ShrinkScheduleConfig::paper_darts(),
                ..config.clone()
            },
            data.clone(),
            Default::default(),
        )
        .unwrap();
    let err = other.resume_from(&ck).unwrap_err();
    assert!(err.to_string().contains("space"), "{err}");
    let err = search(config.clone(), sample_data(150))
        .resume_from(&ck)
        .unwrap_err();
    assert!(err.to_string().contains("dataset"), "{err}");
    let err = search(config.clone(), data.clone())
        .resume_from(dir.join("nothing"))
        .unwrap_err();
    assert!(err.to_string().contains("no checkpoint"), "{err}");
    assert_eq!(std::fs::read(ck.join("state.json")).unwrap(), state_before);
    // Drop counts that do not fit the DARTS op set: refused before any work.
    let darts = DartsSpaceConfig::darts().init().unwrap();
    let err = Search::builder(darts)
        .objectives(objectives())
        .reward(MnasReward::new(vec![1.0], vec![-0.3]).unwrap())
        .build::<B>(config.clone(), data.clone(), Default::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("stage 2") || err.to_string().contains("normal"),
        "{err}"
    );
    // A reward that does not fit the objectives.
    let space = DartsSpaceConfig::tnd().init().unwrap();
    let err = Search::builder(space)
        .objective(ValidationAccuracy::new())
        .reward(MnasReward::new(vec![1.0], vec![-0.3]).unwrap())
        .build::<B>(config.clone(), data, Default::default())
        .unwrap_err();
    assert!(matches!(err, SearchError::Objective(_)), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_finite_loss_stops_with_its_position_and_a_checkpoint() {
    let _serial = serial();
    let dir = temp_dir("nan");
    let mut config = tiny_config(TrainMode::Weighted);
    config.train.sgd.lr = 1e30;
    config.train.sgd.grad_clip = None;
    let err = search(config, sample_data(160))
        .with_checkpoint_dir(dir.join("ck"))
        .run(&mut [])
        .unwrap_err();
    match err {
        SearchError::NonFiniteLoss {
            stage, checkpoint, ..
        } => {
            assert_eq!(stage, 0);
            let ck = checkpoint.expect("a checkpoint of the last good state");
            assert!(ck.join("state.json").is_file());
        }
        other => panic!("expected a non-finite loss, got {other}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn random_search_evolution_and_local_search_run_on_the_supernet_and_resume_exactly() {
    let _serial = serial();
    let dir = temp_dir("strategies");
    std::fs::create_dir_all(&dir).unwrap();
    let data = sample_data(160);
    for strategy in ["random", "rea:population=3,tournament=2", "ls:init=2"] {
        let config = tiny_config(TrainMode::SinglePath).with_strategy(strategy.parse().unwrap());
        let full = search(config.clone(), data.clone()).run(&mut []).unwrap();
        // 3 stages x 1 search epoch x 3 steps, a batch of 2 (random) or 1 (rea, ls) each.
        let per_batch = if strategy == "random" { 2 } else { 1 };
        assert_eq!(full.sample_count, 9 * per_batch, "{strategy}");
        assert!(
            full.stages
                .iter()
                .all(|s| s.dropped.iter().all(Vec::is_empty))
        );
        assert!(full.stages.iter().all(|s| s.probabilities.is_empty()));
        assert!(full.history.is_empty());
        // No shrinking: the final architecture is the best-rewarded sample, scored once
        // more by the last supernet.
        assert_eq!(
            full.best.as_ref().unwrap().arch,
            full.final_architecture.text
        );
        assert!(full.final_supernet_accuracy.is_some());
        assert_eq!(full.strategy, strategy.split(':').next().unwrap());
        // Stopped after 4 epochs (inside the second stage) and resumed: the same samples.
        let ck = dir.join(format!("ck-{}", full.strategy));
        let err = search(config.clone(), data.clone())
            .with_checkpoint_dir(&ck)
            .run(&mut [&mut StopAfterEpochs(3)])
            .unwrap_err();
        assert!(
            matches!(
                err,
                SearchError::Stopped {
                    checkpoint: Some(_),
                    ..
                }
            ),
            "{err}"
        );
        let resumed = search(config.clone(), data.clone())
            .resume_from(&ck)
            .unwrap()
            .run(&mut [])
            .unwrap();
        assert_eq!(resumed.samples, full.samples, "{strategy}");
        assert_eq!(resumed.final_architecture, full.final_architecture);
        assert_eq!(
            resumed.final_supernet_accuracy,
            full.final_supernet_accuracy
        );
        // A checkpoint of one strategy is refused by another.
        let other = if full.strategy == "random" {
            "tnd"
        } else {
            "random"
        };
        let err = search(
            tiny_config(TrainMode::SinglePath).with_strategy(other.parse().unwrap()),
            data.clone(),
        )
        .resume_from(&ck)
        .unwrap_err();
        assert!(err.to_string().contains("strategy"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_front_search_shares_one_supernet_between_its_preferences_and_resumes_exactly() {
    use tnd_nas::objective::reward_from_spec;
    let _serial = serial();
    let dir = temp_dir("front");
    std::fs::create_dir_all(&dir).unwrap();
    let data = sample_data(160);
    let front_search = || {
        let space = DartsSpaceConfig::tnd().init().unwrap();
        let dirs = [Direction::Maximise, Direction::Minimise];
        Search::builder(space)
            .objectives(objectives())
            .reward(reward_from_spec("front:3", &dirs, &[]).unwrap())
            .build::<B>(
                tiny_config(TrainMode::SinglePath),
                data.clone(),
                Default::default(),
            )
            .unwrap()
    };
    let full = front_search().run(&mut []).unwrap();
    // Three stages x 1 search epoch x 3 steps, one batch of 2 each, turn by turn over the
    // three preferences' policies.
    assert_eq!(full.history.len(), 9);
    assert_eq!(full.stages.len(), 3);
    assert!(!full.front.is_empty());
    assert!(full.hypervolume.is_some());
    // The shared supernet and the shrinking follow the policies' mean: every stage drops.
    assert!(
        full.stages
            .iter()
            .all(|s| s.dropped.iter().all(|d| !d.is_empty()))
    );
    // Stopped inside the second stage and resumed: the same samples, updates and result.
    let ck = dir.join("ck");
    let err = front_search()
        .with_checkpoint_dir(&ck)
        .run(&mut [&mut StopAfterEpochs(3)])
        .unwrap_err();
    assert!(matches!(err, SearchError::Stopped { .. }), "{err}");
    let resumed = front_search()
        .resume_from(&ck)
        .unwrap()
        .run(&mut [])
        .unwrap();
    assert_eq!(resumed.samples, full.samples);
    assert_eq!(resumed.history, full.history);
    assert_eq!(resumed.final_architecture, full.final_architecture);
    // The checkpoint holds three policies of the front reward: another reward is
    // refused on resume, naming both.
    let err = search(tiny_config(TrainMode::SinglePath), data.clone())
        .resume_from(&ck)
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("another reward"), "{message}");
    assert!(
        message.contains("ParetoPreferences") && message.contains("MnasReward"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
