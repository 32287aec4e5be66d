//! The `tnd-nas` program as a user runs it: help and usage errors, `--print-config`
//! then `--config` reproducing a search, output folders that are never overwritten,
//! and a retrain exported to safetensors.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tnd-nas");

const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), \
    ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), \
    ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], \
    reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), \
    ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), \
    ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tnd-nas-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(BIN).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// A search small enough for a test: the bundled sample at 7x7, two steps an epoch.
fn tiny_search(out: &Path) -> Vec<String> {
    [
        "search",
        "--dataset",
        "sample",
        "--preset",
        "quick",
        "--max-steps",
        "2",
        "--downsample",
        "4",
        "--seed",
        "3",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

/// `result.json` without what differs between two identical runs: times and memory.
fn without_timings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|key, _| {
                !(key.ends_with("_ms")
                    || key.ends_with("seconds")
                    || key == "peak_memory_bytes"
                    || key == "images_per_sec")
            });
            map.values_mut().for_each(without_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

fn result_json(dir: &Path) -> serde_json::Value {
    let mut json = serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    without_timings(&mut json);
    json
}

#[test]
fn help_of_the_program_and_every_subcommand_exits_0() {
    let out = run(["--help"]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "search", "retrain", "inspect", "tabular", "plot", "export", "fidelity", "score",
    ] {
        assert!(text.contains(sub), "--help does not list {sub}:\n{text}");
        let out = run([sub, "--help"]);
        assert_exit(&out, 0);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Usage: tnd-nas"), "{sub} --help:\n{help}");
        assert!(
            help.contains("--config"),
            "{sub} --help lacks --config:\n{help}"
        );
        assert!(
            help.contains("--print-config"),
            "{sub} --help lacks --print-config:\n{help}"
        );
    }
    assert_exit(&run(["--version"]), 0);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["search", "--no-such-flag"],
        &["search", "--dataset", "imagenet", "--out", "x"],
        &["search", "--seed", "minus-one", "--out", "x"],
        &["retrain", "--epochs", "0"],
        &["tabular", "--budget", "-5"],
        &["inspect", "volume"],
        &["no-such-command"],
    ];
    for args in cases {
        let out = run(*args);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}:\n{err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
    // No command at all: the help, as a usage error.
    assert_exit(&run(Vec::<&str>::new()), 2);
    // A missing required option names it.
    let out = run(["search", "--dataset", "sample"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--out"), "{}", stderr(&out));
}

#[test]
fn the_score_prior_is_the_presets_and_can_be_turned_off() {
    let dir = scratch("score-prior");
    let print = |preset: &str, extra: &[&str]| {
        let mut args = tiny_search(&dir.join("run"));
        let at = args.iter().position(|a| a == "quick").unwrap();
        args[at] = preset.into();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push("--print-config".into());
        let out = run(&args);
        assert_exit(&out, 0);
        String::from_utf8(out.stdout).unwrap()
    };
    for preset in ["quick", "cpu"] {
        let on = print(preset, &[]);
        assert!(on.contains("[search.score_prior]"), "{preset}: {on}");
        assert!(on.contains("window = 256"), "{preset}: {on}");
        let off = print(preset, &["--score-prior", "none"]);
        assert!(!off.contains("score_prior"), "{preset}: {off}");
    }
    assert!(!print("paper", &[]).contains("score_prior"));
    assert!(print("paper", &["--score-prior", "params"]).contains("[search.score_prior]"));
}

#[test]
fn print_config_then_config_reproduces_the_search() {
    let dir = scratch("reproduce");
    let (first, second) = (dir.join("first"), dir.join("second"));
    let out = run(tiny_search(&first));
    assert_exit(&out, 0);
    let mut print = tiny_search(&first);
    print.push("--print-config".into());
    let printed = run(&print);
    assert_exit(&printed, 0);
    // Printing writes nothing and leaves the finished run alone.
    let toml_text = String::from_utf8(printed.stdout).unwrap();
    assert!(toml_text.contains("[search]"), "{toml_text}");
    let config = dir.join("search.toml");
    std::fs::write(&config, &toml_text).unwrap();
    let out = run([
        OsStr::new("search"),
        OsStr::new("--config"),
        config.as_os_str(),
        OsStr::new("--out"),
        second.as_os_str(),
    ]);
    assert_exit(&out, 0);
    assert_eq!(result_json(&first), result_json(&second));
    for file in ["genotype.txt", "cells.dot"] {
        assert_eq!(
            std::fs::read(first.join(file)).unwrap(),
            std::fs::read(second.join(file)).unwrap(),
            "{file}"
        );
    }
    // The same configuration as JSON works too.
    let as_json: toml::Value = toml::from_str(&toml_text).unwrap();
    let json_config = dir.join("search.json");
    std::fs::write(&json_config, serde_json::to_vec(&as_json).unwrap()).unwrap();
    let third = dir.join("third");
    let out = run([
        OsStr::new("search"),
        OsStr::new("--config"),
        json_config.as_os_str(),
        OsStr::new("--out"),
        third.as_os_str(),
    ]);
    assert_exit(&out, 0);
    assert_eq!(result_json(&first), result_json(&third));

    // The outputs of a search: one genotype per file, plots, log, checkpoint.
    for file in [
        "search.jsonl",
        "result.json",
        "genotype.txt",
        "cells.dot",
        "front.svg",
        "front.png",
        "alpha.svg",
        "alpha.png",
        "curves.svg",
        "curves.png",
        "checkpoint",
    ] {
        assert!(first.join(file).exists(), "search did not write {file}");
    }
    let genotype = std::fs::read_to_string(first.join("genotype.txt")).unwrap();
    assert_eq!(genotype.lines().count(), 1, "{genotype}");
    // The DARTS notation has its own file, exactly when it exists.
    let darts = result_json(&first)["final"]["darts_text"].clone();
    assert_eq!(first.join("genotype-darts.txt").exists(), !darts.is_null());
    // ... which the crate's own commands read back.
    let out = run([
        OsStr::new("inspect"),
        OsStr::new("params"),
        OsStr::new("--genotype"),
        first.join("genotype.txt").as_os_str(),
    ]);
    assert_exit(&out, 0);
}

#[test]
fn earlier_outputs_are_refused_without_force() {
    let dir = scratch("refuse");
    let run_dir = dir.join("run");
    assert_exit(&run(tiny_search(&run_dir)), 0);
    let before = std::fs::read(run_dir.join("result.json")).unwrap();
    let log_before = std::fs::read(run_dir.join("search.jsonl")).unwrap();

    let out = run(tiny_search(&run_dir));
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("already holds"), "{err}");
    assert!(err.contains("--force") && err.contains("--resume"), "{err}");
    assert_eq!(std::fs::read(run_dir.join("result.json")).unwrap(), before);
    assert_eq!(
        std::fs::read(run_dir.join("search.jsonl")).unwrap(),
        log_before
    );

    // Without checkpoint/ the other outputs are still protected.
    std::fs::remove_dir_all(run_dir.join("checkpoint")).unwrap();
    let out = run(tiny_search(&run_dir));
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("result.json"), "{}", stderr(&out));
    assert_eq!(std::fs::read(run_dir.join("result.json")).unwrap(), before);

    // A folder in use by another command is refused; the lock goes with the process.
    let lock = std::fs::File::options()
        .write(true)
        .open(run_dir.join(".tnd-nas.lock"))
        .unwrap();
    lock.lock().unwrap();
    let mut forced = tiny_search(&run_dir);
    forced.push("--force".into());
    let out = run(&forced);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("in use"), "{}", stderr(&out));
    drop(lock);

    // --force replaces them: a fresh log, not one appended to the old.
    let out = run(&forced);
    assert_exit(&out, 0);
    let log = std::fs::read_to_string(run_dir.join("search.jsonl")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.contains("\"finished\"")).count(),
        1,
        "{log}"
    );

    // An --out that is a file, or empty, is a usage error naming it.
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = run(tiny_search(&file));
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));
    let out = run(tiny_search(Path::new("")));
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--out"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_work() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("non-utf8");
    let out_file = dir.join(OsStr::from_bytes(b"r\xff.json"));
    let out = run([
        OsStr::new("tabular"),
        OsStr::new("--budget"),
        OsStr::new("20"),
        OsStr::new("--seed"),
        OsStr::new("0"),
        OsStr::new("--out"),
        out_file.as_os_str(),
    ]);
    assert_exit(&out, 0);
    assert!(out_file.is_file());
    // The second time it is refused, naming the file.
    let out = run([
        OsStr::new("tabular"),
        OsStr::new("--budget"),
        OsStr::new("20"),
        OsStr::new("--seed"),
        OsStr::new("0"),
        OsStr::new("--out"),
        out_file.as_os_str(),
    ]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("r\u{fffd}.json"), "{}", stderr(&out));
}

#[test]
fn tabular_runs_local_search() {
    let dir = scratch("tabular-ls");
    let file = dir.join("ls.json");
    let out = run([
        "tabular",
        "--strategy",
        "ls:init=5",
        "--budget",
        "60",
        "--seed",
        "1",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(result["strategy"], "ls", "{result}");
    assert!(result["best"]["objectives"].is_object() || result["best"]["objectives"].is_array());
}

#[test]
fn retrain_then_export_to_safetensors() {
    let dir = scratch("export");
    let run_dir = dir.join("retrained");
    let out = run([
        "retrain",
        "--genotype",
        DARTS_V2,
        "--dataset",
        "sample",
        "--channels",
        "4",
        "--layers",
        "3",
        "--epochs",
        "1",
        "--max-steps",
        "2",
        "--batch-size",
        "16",
        "--out",
        &run_dir.display().to_string(),
    ]);
    assert_exit(&out, 0);
    assert!(run_dir.join("train.json").is_file());
    assert!(run_dir.join("model.mpk").is_file());

    let file = dir.join("net.safetensors");
    let export = |force: bool| {
        let mut args = vec![
            OsStr::new("export").to_os_string(),
            run_dir.clone().into_os_string(),
            OsStr::new("--out").to_os_string(),
            file.clone().into_os_string(),
        ];
        if force {
            args.push("--force".into());
        }
        run(args)
    };
    assert_exit(&export(false), 0);
    let bytes = std::fs::read(&file).unwrap();
    // safetensors: an 8-byte little-endian header length, then the JSON header.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    for name in [
        "stem.0.weight",
        "stem.1.running_mean",
        "stem.1.num_batches_tracked",
        "cells.0.preprocess0.op.1.weight",
        "cells.0._ops.0.op.1.weight",
        "classifier.weight",
    ] {
        assert!(header.get(name).is_some(), "export lacks {name}");
    }
    assert!(
        header["__metadata__"]["genotype"]
            .as_str()
            .is_some_and(|g| g.contains("sep_conv_3x3")),
        "{}",
        header["__metadata__"]
    );
    // Not overwritten without --force.
    let out = export(false);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("net.safetensors"), "{}", stderr(&out));
    assert_exit(&export(true), 0);
    // A folder that is not a retrain run names what is missing.
    let out = run([
        OsStr::new("export"),
        dir.as_os_str(),
        OsStr::new("--out"),
        dir.join("x.safetensors").as_os_str(),
    ]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("train.json"), "{}", stderr(&out));
}

#[test]
fn a_resumed_log_holds_every_step_once_and_no_broken_line() {
    let dir = scratch("log-resume");
    let run_dir = dir.join("run");
    assert_exit(&run(tiny_search(&run_dir)), 0);
    let log_path = run_dir.join("search.jsonl");
    let steps_of = |text: &str| -> Vec<(u64, u64, u64)> {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a whole JSON line"))
            .filter(|r| r["kind"] == "step")
            .map(|r| {
                (
                    r["stage"].as_u64().unwrap(),
                    r["epoch"].as_u64().unwrap(),
                    r["step"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let full = std::fs::read_to_string(&log_path).unwrap();
    let full_steps = steps_of(&full);
    // A crash in the middle of writing a line, after the last checkpoint.
    std::fs::write(&log_path, format!("{full}{{\"kind\":\"st")).unwrap();
    let mut args = tiny_search(&run_dir);
    args.push("--resume".into());
    assert_exit(&run(&args), 0);
    let resumed = std::fs::read_to_string(&log_path).unwrap();
    assert!(resumed.ends_with('\n'));
    // Every line whole, every step once, the same steps as the uninterrupted run.
    assert_eq!(steps_of(&resumed), full_steps);
    let finished = resumed
        .lines()
        .filter(|l| l.contains("\"finished\""))
        .count();
    assert_eq!(finished, 1, "{resumed}");
}

/// `tiny_search` in another space.
fn tiny_search_in(space: &str, out: &Path) -> Vec<String> {
    let mut args = tiny_search(out);
    args.extend(["--space".to_string(), space.to_string()]);
    args
}

#[test]
fn an_nb201_search_runs_resumes_and_its_genotype_retrains_and_exports() {
    let dir = scratch("nb201");
    let run_dir = dir.join("run");
    assert_exit(&run(tiny_search_in("nb201", &run_dir)), 0);
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("result.json")).unwrap())
            .unwrap();
    assert_eq!(result["space"], "nb201");
    let genotype = std::fs::read_to_string(run_dir.join("genotype.txt")).unwrap();
    assert!(
        genotype.starts_with('|') && genotype.trim_end().ends_with('|'),
        "{genotype}"
    );
    // Resumed from its last checkpoint, the search ends where it ended.
    let mut args = tiny_search_in("nb201", &run_dir);
    args.push("--resume".into());
    assert_exit(&run(&args), 0);
    assert_eq!(
        std::fs::read_to_string(run_dir.join("genotype.txt")).unwrap(),
        genotype
    );
    // Resumed as a search of another space, it is refused by name.
    let mut args = tiny_search_in("tnd", &run_dir);
    args.push("--resume".into());
    let out = run(&args);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("space"), "{}", stderr(&out));
    // The genotype file reads back everywhere.
    let gfile = run_dir.join("genotype.txt");
    let out = run([
        OsStr::new("inspect"),
        OsStr::new("params"),
        OsStr::new("--nb201"),
        gfile.as_os_str(),
    ]);
    assert_exit(&out, 0);
    let trained = dir.join("trained");
    let out = run([
        OsStr::new("retrain"),
        OsStr::new("--genotype"),
        gfile.as_os_str(),
        OsStr::new("--dataset"),
        OsStr::new("sample"),
        OsStr::new("--out"),
        trained.as_os_str(),
        OsStr::new("--epochs"),
        OsStr::new("1"),
        OsStr::new("--max-steps"),
        OsStr::new("2"),
        OsStr::new("--channels"),
        OsStr::new("4"),
        OsStr::new("--layers"),
        OsStr::new("1"),
    ]);
    assert_exit(&out, 0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(trained.join("train.json")).unwrap())
            .unwrap();
    assert_eq!(report["space"], "nb201");
    assert_eq!(report["genotype"], genotype.trim());
    assert_eq!(report["network"]["cells"], 1);
    let out = run([OsStr::new("export"), trained.as_os_str()]);
    assert_exit(&out, 0);
    let bytes = std::fs::read(trained.join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8_lossy(&bytes[8..8 + header_len]);
    // The reference TinyNetwork's names.
    for name in [
        "stem.0.weight",
        "cells.1.conv_a.op.1.weight",
        "lastact.0.running_var",
    ] {
        assert!(header.contains(name), "{name} missing from {header}");
    }
    assert!(header.contains("classifier.weight"), "{header}");
}

#[test]
fn darts_and_mbconv_searches_run_from_the_command_line() {
    for space in ["darts", "mbconv"] {
        let dir = scratch(space);
        let run_dir = dir.join("run");
        let out = run(tiny_search_in(space, &run_dir));
        assert_exit(&out, 0);
        let result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run_dir.join("result.json")).unwrap())
                .unwrap();
        assert!(!result["space"].as_str().unwrap().is_empty());
    }
}

/// A ground truth of six cells (two with a second seed) in the bundled file's format.
fn small_truth(dir: &Path) -> PathBuf {
    let rows = [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,60000,1500000,0,88.0,89.0,100.0",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,60000,1500000,1,88.2,89.0,100.0",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1000,10000,0,10.0,10.0,50.0",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1000,10000,1,10.0,10.0,50.0",
        "|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|,2000,20000,0,60.0,61.0,60.0",
        "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|,30000,700000,0,86.0,87.0,80.0",
        "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|,25000,600000,0,85.0,86.0,80.0",
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|,40000,900000,0,87.0,88.0,90.0",
    ];
    let path = dir.join("truth.csv");
    std::fs::write(
        &path,
        format!(
            "arch,params,macs,seed,test_accuracy,train_accuracy,train_seconds\n{}\n",
            rows.join("\n")
        ),
    )
    .unwrap();
    path
}

#[test]
fn fidelity_scores_a_ground_truth_with_params_macs_and_a_supernet() {
    let dir = scratch("fidelity");
    let truth = small_truth(&dir);
    let json = dir.join("fidelity.json");
    let out = run([
        OsStr::new("fidelity"),
        OsStr::new("--truth"),
        truth.as_os_str(),
        OsStr::new("--evaluator"),
        OsStr::new("params"),
        OsStr::new("--evaluator"),
        OsStr::new("macs"),
        OsStr::new("--evaluator"),
        OsStr::new("supernet"),
        OsStr::new("--dataset"),
        OsStr::new("sample"),
        OsStr::new("--downsample"),
        OsStr::new("4"),
        OsStr::new("--max-steps"),
        OsStr::new("2"),
        OsStr::new("--epochs"),
        OsStr::new("2"),
        OsStr::new("--warmup"),
        OsStr::new("1"),
        OsStr::new("--batch-size"),
        OsStr::new("32"),
        OsStr::new("--score-batches"),
        OsStr::new("2"),
        OsStr::new("--score-bn"),
        OsStr::new("batch"),
        OsStr::new("--score-set"),
        OsStr::new("rolling"),
        OsStr::new("--plus-params"),
        OsStr::new("--out"),
        json.as_os_str(),
    ]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    // The ceiling from the two seeds, then one line per evaluator (and the supernet's
    // rank mean with the parameter count).
    assert!(text.contains("seed 0 vs seed 1"), "{text}");
    let params_line = text.lines().find(|l| l.starts_with("params")).unwrap();
    // Parameters rank these six cells exactly as their accuracy does: tau 1.
    assert!(params_line.contains(" 1.000 "), "{params_line}");
    // The `cpu` preset's supernet joins its scores with the parameter count.
    let supernet = text.lines().find(|l| l.starts_with("supernet")).unwrap();
    assert!(supernet.contains("prior=params"), "{supernet}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["archs"].as_array().unwrap().len(), 6);
    assert_eq!(report["options"]["score_prior"], "params");
    let evaluators = report["evaluators"].as_array().unwrap();
    assert_eq!(evaluators.len(), 4);
    assert_eq!(evaluators[2]["scores"].as_array().unwrap().len(), 6);
    // The rank mean of two rankings of six cells: its scores sum to 1 + ... + 6.
    let combined = &evaluators[3];
    assert!(
        combined["evaluator"]
            .as_str()
            .unwrap()
            .ends_with("+ params (rank mean)")
    );
    let sum: f64 = combined["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert_eq!(sum, 21.0);
    // An existing --out is refused; a missing truth is named.
    let again = run([
        OsStr::new("fidelity"),
        OsStr::new("--truth"),
        truth.as_os_str(),
        OsStr::new("--out"),
        json.as_os_str(),
    ]);
    assert_exit(&again, 2);
    let missing = dir.join("nothing.csv");
    let out = run([
        OsStr::new("fidelity"),
        OsStr::new("--truth"),
        missing.as_os_str(),
    ]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("nothing.csv"), "{}", stderr(&out));
}

#[test]
fn fidelity_runs_on_the_bundled_ground_truth() {
    let truth = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fm-nb201/ground-truth.csv");
    let out = run([
        OsStr::new("fidelity"),
        OsStr::new("--truth"),
        truth.as_os_str(),
        OsStr::new("--limit"),
        OsStr::new("8"),
    ]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("macs")), "{text}");
}

#[test]
fn fidelity_scores_ground_truth_cells_with_zero_cost_proxies() {
    let dir = scratch("fidelity-proxies");
    let json = dir.join("proxies.json");
    let truth = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fm-nb201/ground-truth.csv");
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("fidelity"),
        OsStr::new("--truth"),
        truth.as_os_str(),
        OsStr::new("--limit"),
        OsStr::new("6"),
    ];
    for e in ["synflow", "naswot", "grad-norm", "snip", "zero-cost"] {
        args.extend([OsStr::new("--evaluator"), OsStr::new(e)]);
    }
    // Without data the data-dependent proxies are refused, by name.
    let out = run(args.clone());
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("naswot needs --dataset"),
        "{}",
        stderr(&out)
    );
    args.extend([
        OsStr::new("--dataset"),
        OsStr::new("sample"),
        OsStr::new("--proxy-batch"),
        OsStr::new("16"),
        OsStr::new("--out"),
        json.as_os_str(),
    ]);
    let out = run(args);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["synflow", "naswot", "grad_norm", "snip", "zero_cost"] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name}: {text}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for line in report["evaluators"].as_array().unwrap() {
        let scores = line["scores"].as_array().unwrap();
        assert_eq!(scores.len(), 6, "{line}");
        assert!(
            scores
                .iter()
                .all(|s| s.as_f64().is_some_and(f64::is_finite)),
            "{line}"
        );
    }
}

#[test]
fn score_writes_every_proxy_for_every_row_in_order_and_refuses_bad_rows_and_old_outputs() {
    let dir = scratch("score");
    let archs = dir.join("archs.csv");
    let cells = [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    ];
    let text: String = std::iter::once("note,cell\n".to_string())
        .chain(
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("row {i},{c}\n")),
        )
        .collect();
    std::fs::write(&archs, text).unwrap();
    let out_csv = dir.join("scores.csv");
    let args = |out: &Path| -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = ["score", "--archs"].iter().map(Into::into).collect();
        a.push(archs.clone().into());
        for x in [
            "--arch-column",
            "cell",
            "--proxy",
            "synflow",
            "--proxy",
            "naswot",
            "--proxy",
            "grad-norm",
            "--proxy",
            "snip",
            "--dataset",
            "sample",
            "--proxy-batch",
            "8",
            "--channels",
            "4",
            "--cells",
            "1",
            "--out",
        ] {
            a.push(x.into());
        }
        a.push(out.into());
        a
    };
    let out = run(args(&out_csv));
    assert_exit(&out, 0);
    let written = std::fs::read_to_string(&out_csv).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "arch,synflow,naswot,grad_norm,snip");
    assert_eq!(lines.len(), 4, "{written}");
    for (line, cell) in lines[1..].iter().zip(cells) {
        let (arch, values) = line.split_once(",").unwrap();
        assert_eq!(arch, cell, "rows keep the input order");
        let values: Vec<f64> = values.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(values.len(), 4);
        assert!(values.iter().all(|v| v.is_finite()), "{line}");
    }
    // The cell without an operation: no path from input to output, synflow 0.
    assert!(
        lines[2].starts_with(&format!("{},0e0,", cells[1])),
        "{}",
        lines[2]
    );
    // The same seed gives the same scores.
    let again = dir.join("again.csv");
    assert_exit(&run(args(&again)), 0);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), written);
    // An existing --out is refused and left as it was; --force replaces it.
    let out = run(args(&out_csv));
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&out_csv).unwrap(), written);
    let mut forced = args(&out_csv);
    forced.push("--force".into());
    assert_exit(&run(forced), 0);
    // A bad architecture is named with its file and line, before anything is written.
    std::fs::write(
        &archs,
        format!(
            "note,cell\nok,{}\nbad,|nor_conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|\n",
            cells[0]
        ),
    )
    .unwrap();
    let fresh = dir.join("fresh.csv");
    let out = run(args(&fresh));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("archs.csv, line 3") && err.contains("nor_conv_9x9"),
        "{err}"
    );
    assert!(!fresh.exists());
    // A missing column is named.
    let mut wrong = args(&fresh);
    let i = wrong.iter().position(|a| a == "cell").unwrap();
    wrong[i] = "genotype".into();
    let out = run(wrong);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("no column `genotype`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn score_reads_darts_genotypes_and_mbconv_chains() {
    let dir = scratch("score-spaces");
    let darts = dir.join("darts.csv");
    std::fs::write(&darts, format!("arch\n\"{DARTS_V2}\"\n")).unwrap();
    let out_csv = dir.join("darts-scores.csv");
    let out = run([
        OsStr::new("score"),
        OsStr::new("--space"),
        OsStr::new("darts"),
        OsStr::new("--archs"),
        darts.as_os_str(),
        OsStr::new("--channels"),
        OsStr::new("4"),
        OsStr::new("--cells"),
        OsStr::new("3"),
        OsStr::new("--out"),
        out_csv.as_os_str(),
    ]);
    assert_exit(&out, 0);
    let written = std::fs::read_to_string(&out_csv).unwrap();
    // The genotype holds commas: quoted, as CSV readers expect.
    assert!(
        written.starts_with(&format!("arch,synflow\n\"{DARTS_V2}\",")),
        "{written}"
    );
    let mbconv = dir.join("mbconv.csv");
    std::fs::write(
        &mbconv,
        format!("arch\n\"{}\"\n", vec!["e3_k3"; 16].join(",")),
    )
    .unwrap();
    let out_csv = dir.join("mbconv-scores.csv");
    let out = run([
        OsStr::new("score"),
        OsStr::new("--space"),
        OsStr::new("mbconv"),
        OsStr::new("--archs"),
        mbconv.as_os_str(),
        OsStr::new("--out"),
        out_csv.as_os_str(),
    ]);
    assert_exit(&out, 0);
    let written = std::fs::read_to_string(&out_csv).unwrap();
    let value: f64 = written
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(value > 0.0 && value.is_finite(), "{written}");
}

#[test]
fn tabular_searches_by_zero_cost_proxies_without_training() {
    let dir = scratch("tabular-proxies");
    let file = dir.join("zc.json");
    let f = file.to_str().unwrap();
    // NAS-Bench-201 by zero-cost: the bundled synflow scores, no network built.
    let out = run([
        "tabular",
        "--objective",
        "zero-cost:max",
        "--budget",
        "100",
        "--seed",
        "0",
        "--out",
        f,
    ]);
    assert_exit(&out, 0);
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        result["objectives"],
        serde_json::json!(["zero_cost"]),
        "{result}"
    );
    // Another space: a zero-training search that builds every network it scores.
    let mb = dir.join("mbconv.json");
    let out = run([
        "tabular",
        "--space",
        "mbconv",
        "--objective",
        "zero-cost",
        "--objective",
        "params:min",
        "--reward",
        "sum:1,0.1",
        "--budget",
        "3",
        "--seed",
        "1",
        "--out",
        mb.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&mb).unwrap()).unwrap();
    assert_eq!(
        result["objectives"],
        serde_json::json!(["zero_cost", "params"]),
        "{result}"
    );
    // Refused before any work, each with one line naming the problem.
    let bad = dir.join("bad.json");
    let b = bad.to_str().unwrap();
    for (args, needle) in [
        (vec!["--objective", "naswot:max"], "--dataset"),
        (vec!["--objective", "synflow:min"], "maximised"),
        (
            vec!["--objective", "zero-cost", "--objective", "zero-cost:max"],
            "twice",
        ),
        (vec!["--space", "darts"], "has no table"),
        (
            vec!["--space", "darts", "--objective", "table:x:max"],
            "has none",
        ),
        (
            vec!["--space", "darts", "--table", f, "--arch-column", "arch"],
            "--table",
        ),
    ] {
        let mut all = vec!["tabular", "--budget", "5", "--seed", "0", "--out", b];
        all.extend(args.iter().copied());
        let out = run(&all);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}:\n{err}");
    }
    assert!(!bad.exists());
}

#[test]
fn score_writes_zero_cost_and_search_weighs_it_beside_accuracy() {
    let dir = scratch("zero-cost");
    let archs = dir.join("archs.csv");
    std::fs::write(
        &archs,
        "arch\n|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|\n\
         |none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n",
    )
    .unwrap();
    let out_csv = dir.join("scores.csv");
    let out = run([
        OsStr::new("score"),
        OsStr::new("--archs"),
        archs.as_os_str(),
        OsStr::new("--proxy"),
        OsStr::new("synflow"),
        OsStr::new("--proxy"),
        OsStr::new("zero-cost"),
        OsStr::new("--channels"),
        OsStr::new("4"),
        OsStr::new("--cells"),
        OsStr::new("1"),
        OsStr::new("--out"),
        out_csv.as_os_str(),
    ]);
    assert_exit(&out, 0);
    let written = std::fs::read_to_string(&out_csv).unwrap();
    let rows: Vec<Vec<&str>> = written.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["arch", "synflow", "zero_cost"], "{written}");
    let zc = |r: usize| rows[r][2].parse::<f64>().unwrap();
    assert!(zc(1) > zc(2), "{written}");
    // A supernet search with zero-cost beside its accuracy.
    let out_dir = dir.join("search");
    let mut args = tiny_search(&out_dir);
    args.extend(
        [
            "--space",
            "nb201",
            "--objective",
            "acc",
            "--objective",
            "zero-cost",
            "--reward",
            "sum:1,1",
        ]
        .map(String::from),
    );
    let out = run(&args);
    assert_exit(&out, 0);
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("result.json")).unwrap())
            .unwrap();
    assert_eq!(
        result["objectives"],
        serde_json::json!(["accuracy", "zero_cost"]),
        "{result}"
    );
}
