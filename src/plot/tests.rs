//! Every plot rendered for a small synthetic search, and the error cases.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::objective::Direction;
use crate::search::{SampleRecord, SearchEvent, SearchResult, StageSummary};
use crate::space::FinalArchitecture;
use crate::{Architecture, OpKind};

const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// A fresh empty directory under the system's temp dir.
fn temp_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tnd-nas-plot-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A two-stage search of a NAS-Bench-201-like space: accuracy (max) and params (min).
fn synthetic() -> SearchResult {
    use OpKind::*;
    let all = vec![None, SkipConnect, NorConv1x1, NorConv3x3, AvgPool3x3];
    let kept = vec![SkipConnect, NorConv1x1, NorConv3x3];
    let sample = |i: usize| SampleRecord {
        arch: format!("arch-{i}"),
        objectives: vec![60.0 + (i * 7 % 30) as f64, 0.1 + (i * 3 % 11) as f64 / 10.0],
        stage: usize::from(i >= 12),
        step: i as u64,
    };
    let samples: Vec<SampleRecord> = (0..24).map(sample).collect();
    let front: Vec<SampleRecord> = [3, 7, 13].iter().map(|&i| samples[i].clone()).collect();
    let stage = |k: usize, active: &Vec<OpKind>, dropped: Vec<OpKind>| {
        let n = active.len();
        StageSummary {
            stage: k,
            cells: 2 + k,
            channels: 8,
            supernet_params: 1000,
            samples: 12,
            active: vec![active.clone(); 6],
            probabilities: (0..6)
                .map(|e| {
                    let w: Vec<f64> = (0..n).map(|j| 1.0 + ((e + j) % n) as f64).collect();
                    let s: f64 = w.iter().sum();
                    w.into_iter().map(|x| x / s).collect()
                })
                .collect(),
            entropy: Some(1.5 - k as f64 * 0.5),
            max_entropy: 6.0 * (n as f64).ln(),
            dropped: vec![dropped; 6],
            seconds: 1.0,
        }
    };
    SearchResult {
        space: "nb201".into(),
        strategy: "tnd".into(),
        evaluator: "table".into(),
        final_architecture: FinalArchitecture {
            architecture: Architecture::new(vec![NorConv3x3; 6]),
            text: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|".into(),
            darts_text: Option::None,
            genotype: Option::None,
        },
        final_reward: Some(0.9),
        best: Some(samples[7].clone()),
        best_reward: Some(0.95),
        objectives: vec!["accuracy".into(), "params".into()],
        directions: vec![Direction::Maximise, Direction::Minimise],
        reward: String::new(),
        final_values: vec![Some(85.0), Some(0.7)],
        final_supernet_accuracy: Some(85.0),
        final_params: Some(700_000),
        sample_count: samples.len(),
        samples,
        front,
        hypervolume: Option::None,
        stages: vec![
            stage(0, &all, vec![None, AvgPool3x3]),
            stage(1, &kept, vec![SkipConnect, NorConv1x1]),
        ],
        history: Vec::new(),
        wall_seconds: 1.0,
        peak_memory_bytes: Option::None,
    }
}

/// A log of the synthetic search: steps and alpha updates over two stages.
fn log_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for g in 0..60u64 {
        let stage = usize::from(g >= 30);
        lines.push(format!(
            r#"{{"kind":"step","stage":{stage},"epoch":0,"step":{g},"global_step":{g},"loss":{},"train_acc":{},"lr":0.05,"step_ms":10.0,"images_per_sec":100.0}}"#,
            2.3 - g as f64 * 0.02,
            10.0 + g as f64
        ));
        if g % 3 == 0 {
            let u = g / 3;
            lines.push(format!(
                r#"{{"kind":"alpha","stage":{stage},"epoch":0,"global_step":{g},"update":{u},"reward_mean":{},"reward_max":{},"baseline":null,"entropy":{},"grad_norm":null,"sample_acc_mean":null,"update_ms":1.0,"probabilities":[]}}"#,
                0.5 + u as f64 * 0.01,
                0.6 + u as f64 * 0.01,
                9.0 - u as f64 * 0.1
            ));
        }
    }
    lines
}

fn assert_png(path: &Path) {
    let bytes = fs::read(path).unwrap();
    assert!(
        bytes.len() > 1000,
        "{} is {} bytes",
        path.display(),
        bytes.len()
    );
    assert_eq!(bytes[..8], PNG_MAGIC, "{}", path.display());
}

fn svg_text(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(80)]);
    text
}

#[test]
fn front_shows_units_directions_stages_and_markers() {
    let dir = temp_dir("front");
    let result = synthetic();
    front(&result, &dir.join("front.svg")).unwrap();
    front(&result, &dir.join("front.png")).unwrap();
    assert_png(&dir.join("front.png"));
    let svg = svg_text(&dir.join("front.svg"));
    for text in [
        "validation accuracy (%) - higher is better",
        "params (M) - lower is better",
        "stage 1 samples (12)",
        "stage 2 samples (12)",
        "Pareto front (3)",
        "final architecture",
        "best-rewarded sample (reward 0.9500)",
        "tnd search (table evaluator): 24 samples, 3 on the Pareto front",
    ] {
        assert!(svg.contains(text), "front.svg lacks `{text}`");
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn front_needs_two_objectives() {
    let mut result = synthetic();
    result.objectives.truncate(1);
    result.directions.truncate(1);
    let err = front(&result, &temp_dir("one").join("front.svg")).unwrap_err();
    assert!(
        matches!(err, PlotError::NothingToPlot { plot: "front", .. }),
        "{err}"
    );
}

#[test]
fn alpha_has_a_panel_per_stage_with_its_entropy() {
    let dir = temp_dir("alpha");
    let result = synthetic();
    alpha(&result, &dir.join("alpha.svg")).unwrap();
    alpha(&result, &dir.join("alpha.png")).unwrap();
    assert_png(&dir.join("alpha.png"));
    let svg = svg_text(&dir.join("alpha.svg"));
    for text in [
        "stage 1: 2 cells, entropy 1.50 / max 9.66",
        "stage 2: 3 cells, entropy 1.00 / max 6.59",
        "nor_conv_3x3",
        "avg_pool_3x3",
        "3&lt;-2",
        "probability",
        "not active in the stage",
        "dropped at the stage",
    ] {
        assert!(svg.contains(text), "alpha.svg lacks `{text}`");
    }
    let mut rea = result;
    for s in &mut rea.stages {
        s.probabilities.clear(); // evolution's stages: active ops, no policy
    }
    let err = alpha(&rea, &dir.join("a.svg")).unwrap_err();
    assert!(err.to_string().contains("no policy probabilities"), "{err}");
    let mut random = rea;
    random.stages.clear();
    let err = alpha(&random, &dir.join("a.svg")).unwrap_err();
    assert!(matches!(err, PlotError::NothingToPlot { .. }), "{err}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn curves_from_a_log_with_a_truncated_last_line() {
    let dir = temp_dir("curves");
    // A search resumed from its checkpoint at step 45 logs steps 45.. again.
    let lines = log_lines();
    let resumed = lines
        .iter()
        .position(|l| l.contains("\"global_step\":45,"))
        .unwrap();
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(&lines[resumed..].join("\n"));
    text.push_str("\n{\"kind\":\"step\",\"stage\":1,\"ep");
    let log = dir.join("search.jsonl");
    fs::write(&log, text).unwrap();
    let events = read_log(&log).unwrap();
    assert_eq!(events.len(), 2 * lines.len() - resumed);
    assert!(matches!(events[0], SearchEvent::Step(_)));
    curves(&events, &dir.join("curves.svg")).unwrap();
    curves(&events, &dir.join("curves.png")).unwrap();
    assert_png(&dir.join("curves.png"));
    let svg = svg_text(&dir.join("curves.svg"));
    for text in [
        "search curves: 60 logged steps, 20 scored batches in 2 stages",
        "supernet training loss",
        "train accuracy (%)",
        "reward of each scored batch",
        "policy entropy",
        "stage 2",
        "global step",
    ] {
        assert!(svg.contains(text), "curves.svg lacks `{text}`");
    }
    assert!(matches!(
        curves(&[], &dir.join("c.svg")),
        Err(PlotError::NothingToPlot { .. })
    ));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_broken_line_before_the_last_names_file_and_line() {
    let dir = temp_dir("broken");
    let mut lines = log_lines();
    lines.insert(2, "{not json".into());
    let log = dir.join("search.jsonl");
    fs::write(&log, lines.join("\n")).unwrap();
    match read_log(&log).unwrap_err() {
        PlotError::Parse { path, line, .. } => assert_eq!((path, line), (log, 3)),
        other => panic!("{other}"),
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn write_plots_writes_all_six_and_replaces_them() {
    let dir = temp_dir("run");
    fs::write(
        dir.join("result.json"),
        serde_json::to_vec(&synthetic()).unwrap(),
    )
    .unwrap();
    fs::write(dir.join("search.jsonl"), log_lines().join("\n") + "\n").unwrap();
    for _ in 0..2 {
        let summary = write_plots(&dir).unwrap();
        assert!(summary.skipped.is_empty(), "{summary}");
        let mut names: Vec<String> = summary
            .written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let expected = [
            "alpha.png",
            "alpha.svg",
            "curves.png",
            "curves.svg",
            "front.png",
            "front.svg",
        ];
        assert_eq!(names, expected);
    }
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn write_plots_skips_what_a_random_table_search_lacks() {
    let dir = temp_dir("random");
    let mut result = synthetic();
    result.strategy = "random".into();
    result.stages.clear();
    result.objectives.truncate(1);
    result.directions.truncate(1);
    fs::write(
        dir.join("result.json"),
        serde_json::to_vec(&result).unwrap(),
    )
    .unwrap();
    let summary = write_plots(&dir).unwrap();
    assert!(summary.written.is_empty(), "{summary}");
    assert_eq!(summary.skipped.len(), 6, "{summary}");
    let text = summary.to_string();
    assert!(text.contains("a front needs two"), "{text}");
    assert!(text.contains("no stage probabilities"), "{text}");
    assert!(text.contains("search.jsonl"), "{text}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bad_extension_and_bad_result_are_errors_naming_the_file() {
    let dir = temp_dir("errors");
    let err = front(&synthetic(), &dir.join("front.jpeg")).unwrap_err();
    assert!(matches!(err, PlotError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("front.jpeg"), "{err}");
    fs::write(dir.join("result.json"), "{\n  \"strategy\": tnd\n}").unwrap();
    let err = write_plots(&dir).unwrap_err();
    match &err {
        PlotError::Parse { path, line, .. } => {
            assert_eq!((path, *line), (&dir.join("result.json"), 2));
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("result.json, line 2"), "{err}");
    let missing = write_plots(&dir.join("nowhere")).unwrap_err();
    assert!(matches!(missing, PlotError::Io { .. }), "{missing}");
    let _ = fs::remove_dir_all(&dir);
}
