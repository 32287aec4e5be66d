//! Bad input of every kind, as a user gives it to the `tnd-nas` program: arguments,
//! reward specs, config files, data folders and files, genotypes, tables, checkpoints
//! and resumes, output folders. Each case asserts the kind of failure (exit status 2
//! for a usage error, 1 for a failure; never a panic, 101) and that the one-line
//! message names the culprit; where a case could damage earlier output, that the
//! output is untouched.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_tnd-nas");

/// Exit status of a usage error and of a failed command.
const USAGE: i32 = 2;
const FAILURE: i32 = 1;

/// A fresh, empty folder for one case.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tnd-nas-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// Runs `args` and checks the exit status and that stderr names every `culprit`.
#[track_caller]
fn expect<S: AsRef<OsStr> + std::fmt::Debug>(args: &[S], code: i32, culprits: &[&str]) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: expected exit {code}\nstderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    // Progress lines may come first; the error is the last line.
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("error"), "{args:?}: {err}");
    for culprit in culprits {
        assert!(
            err.contains(culprit),
            "{args:?}: the message does not name `{culprit}`:\n{err}"
        );
    }
}

fn os(parts: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_os_string()).collect()
}

/// A tiny search's arguments (the bundled sample at 7x7, two steps an epoch).
fn tiny(out: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut args = os(&[
        &"search",
        &"--dataset",
        &"sample",
        &"--preset",
        &"quick",
        &"--max-steps",
        &"2",
        &"--downsample",
        &"4",
        &"--seed",
        &"5",
        &"--out",
        &out,
    ]);
    args.extend(extra.iter().map(OsString::from));
    args
}

/// A finished tiny search (with its last checkpoint), made once; cases copy it.
fn finished_search() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("fixture").join("run");
        let out = run(&tiny(&dir, &[]));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the finished search, for one case to damage.
fn search_copy(name: &str) -> PathBuf {
    let dir = scratch(name).join("run");
    copy_dir(finished_search(), &dir);
    dir
}

/// Edits the checkpoint's state and its entry in the manifest (files.json), as a state
/// crafted to pass the checksum would be: the checks behind the checksum then speak.
fn edit_state(run: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = run.join("checkpoint").join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut state);
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    relist(run, "state.json");
}

/// Rewrites the manifest entry of the checkpoint file `name` to fit its bytes now.
fn relist(run: &Path, name: &str) {
    let bytes = std::fs::read(run.join("checkpoint").join(name)).unwrap();
    let manifest = run.join("checkpoint").join("files.json");
    let mut listed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    for entry in listed.as_array_mut().unwrap() {
        if entry["name"] == name {
            entry["bytes"] = (bytes.len() as u64).into();
            entry["crc32"] = crc32fast::hash(&bytes).into();
        }
    }
    std::fs::write(&manifest, serde_json::to_vec(&listed).unwrap()).unwrap();
}

// ---------------------------------------------------------------- arguments

#[test]
fn bad_arguments_are_usage_errors_naming_the_value() {
    let out = scratch("args").join("out");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&["search", "--preset", "huge", "--out", out], &["huge"]),
        (&["search", "--device", "tpu", "--out", out], &["tpu"]),
        (
            &["search", "--strategy", "annealing", "--out", out],
            &["annealing"],
        ),
        (
            &[
                "tabular",
                "--strategy",
                "ls:init=0",
                "--budget",
                "10",
                "--out",
                out,
            ],
            &["ls.init"],
        ),
        (
            &[
                "tabular",
                "--strategy",
                "ls:tournament=3",
                "--budget",
                "10",
                "--out",
                out,
            ],
            &["tournament"],
        ),
        (&["search", "--mode", "both", "--out", out], &["both"]),
        (
            &["search", "--max-steps", "0", "--out", out],
            &["--max-steps"],
        ),
        (
            &["search", "--downsample", "0", "--out", out],
            &["--downsample"],
        ),
        (&["search", "--seed", "-1", "--out", out], &["-1"]),
        (&["search", "--dataset", "mnist", "--out", out], &["mnist"]),
        (&["retrain", "--epochs", "0"], &["--epochs"]),
        (&["retrain", "--channels", "0"], &["--channels"]),
        (&["retrain", "--batch-size", "0"], &["--batch-size"]),
        (&["retrain", "--lr", "nan"], &["nan"]),
        (&["retrain", "--lr=-0.1"], &["-0.1"]),
        (&["retrain", "--lr", "inf"], &["inf"]),
        (&["retrain", "--lr", "1e999"], &["1e999"]),
        (&["retrain", "--drop-path", "1.5"], &["1.5"]),
        (&["tabular", "--budget", "0"], &["--budget"]),
        (&["tabular", "--samples", "0"], &["--samples"]),
        (&["inspect", "volume"], &["volume"]),
        (&["export", "a", "b"], &["b"]),
        (&["search", "--dataset"], &["--dataset"]),
    ];
    for (args, culprits) in cases {
        expect(args, USAGE, culprits);
    }
}

#[test]
fn missing_required_options_are_named() {
    let out = scratch("required").join("out");
    let out = out.to_str().unwrap();
    expect(&["search", "--dataset", "sample"], USAGE, &["--out"]);
    expect(&["search", "--out", out], USAGE, &["--dataset"]);
    expect(
        &["retrain", "--dataset", "sample", "--out", out],
        USAGE,
        &["--genotype"],
    );
    expect(&["export"], USAGE, &["RUN_DIR"]);
}

// ---------------------------------------------------------------- reward specs

#[test]
fn bad_reward_specs_name_the_setting() {
    let dir = scratch("reward");
    let cases: &[(&str, &[&str])] = &[
        ("best", &["best"]),
        ("mnas:target=4.4,target=1,exponent=-1", &["target", "twice"]),
        ("mnas:target=0,exponent=-1", &["target"]),
        ("mnas:target=4.4", &["exponent"]),
        ("mnas:target=4.4,exponent=0.5", &["exponent"]),
        ("mnas:targets=4.4,exponent=-1", &["targets"]),
        ("hard:limit=-1", &["limit", "-1"]),
        ("hard:limit=abc", &["abc"]),
        ("sum:1,-10", &["weight 1", "-10"]),
        ("sum:1", &["`sum` weights", "expected 2", "found 1"]),
        (
            "chebyshev:1",
            &["`chebyshev` weights", "expected 2", "found 1"],
        ),
        ("chebyshev:1,inf", &["inf"]),
        ("front:x", &["front", "x"]),
    ];
    for (i, (spec, culprits)) in cases.iter().enumerate() {
        let out = dir.join(format!("out{i}"));
        expect(&tiny(&out, &["--reward", spec]), FAILURE, culprits);
        // Nothing was written: validation comes before the output folder.
        assert!(!out.join("search.jsonl").exists(), "{spec}");
    }
    expect(
        &tiny(&dir.join("obj"), &["--objective", "volume"]),
        USAGE,
        &["volume"],
    );
}

// ---------------------------------------------------------------- config files

#[test]
fn bad_config_files_name_the_file_and_field() {
    let dir = scratch("config");
    let out = dir.join("out");
    let config = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let missing = dir.join("missing.toml");
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (missing.clone(), vec!["missing.toml"]),
        (config("syntax.toml", "seed = = 3\n"), vec!["syntax.toml"]),
        (
            config("unknown.toml", "sede = 3\n"),
            vec!["unknown.toml", "sede"],
        ),
        (
            config("type.toml", "seed = \"three\"\n"),
            vec!["type.toml", "seed"],
        ),
        (config("range.toml", "max_steps = 0\n"), vec!["max_steps"]),
        (
            config("search.json", "{\"seed\": [1]}"),
            vec!["search.json", "seed"],
        ),
        (config("broken.json", "{\"seed\": 1"), vec!["broken.json"]),
        (config("search.yaml", "seed: 3\n"), vec!["search.yaml"]),
        (
            config("inner.toml", "[search]\nseed = 1\nno_such_field = 2\n"),
            vec!["inner.toml", "`search`"],
        ),
    ];
    for (path, culprits) in cases {
        let args = os(&[
            &"search",
            &"--dataset",
            &"sample",
            &"--out",
            &out,
            &"--config",
            &path,
        ]);
        let out_run = run(&args);
        let code = out_run.status.code();
        assert!(
            code == Some(USAGE) || code == Some(FAILURE),
            "{}: {:?}",
            path.display(),
            code
        );
        expect(&args, code.unwrap(), &culprits);
        assert!(!out.join("search.jsonl").exists());
    }
}

// ---------------------------------------------------------------- data

#[test]
fn bad_data_folders_and_files_are_named() {
    let dir = scratch("data");
    let out = dir.join("out");
    // A data folder that is a file.
    let file = dir.join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    for dataset in ["fashion-mnist", "cifar10", "cifar100"] {
        let args = os(&[
            &"search",
            &"--dataset",
            &dataset,
            &"--data-dir",
            &file,
            &"--out",
            &out,
        ]);
        expect(&args, FAILURE, &["not-a-folder", "not a folder"]);
    }
    // An empty folder: the missing file is named, with what to download.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for (dataset, culprit) in [
        ("fashion-mnist", "train-images-idx3-ubyte"),
        ("cifar10", "data_batch_1.bin"),
        ("cifar100", "train.bin"),
    ] {
        let args = os(&[
            &"search",
            &"--dataset",
            &dataset,
            &"--data-dir",
            &empty,
            &"--out",
            &out,
        ]);
        expect(&args, FAILURE, &[culprit]);
    }
    // A truncated IDX file and one with a wrong magic number.
    let fm = dir.join("fm");
    std::fs::create_dir_all(&fm).unwrap();
    let mut header = vec![0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    header.extend(vec![0u8; 100]);
    std::fs::write(fm.join("train-images-idx3-ubyte"), &header).unwrap();
    std::fs::write(
        fm.join("train-labels-idx1-ubyte"),
        [0, 0, 8, 1, 0, 0, 0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    )
    .unwrap();
    let args = os(&[
        &"search",
        &"--dataset",
        &"fashion-mnist",
        &"--data-dir",
        &fm,
        &"--out",
        &out,
    ]);
    expect(&args, FAILURE, &["train-images-idx3-ubyte"]);
    std::fs::write(fm.join("train-images-idx3-ubyte"), [0, 0, 9, 9, 0, 0, 0, 0]).unwrap();
    expect(&args, FAILURE, &["train-images-idx3-ubyte"]);
    // A CIFAR-10 batch of the wrong length.
    let cifar = dir.join("cifar");
    std::fs::create_dir_all(&cifar).unwrap();
    std::fs::write(cifar.join("data_batch_1.bin"), vec![0u8; 3073 * 2 + 7]).unwrap();
    let args = os(&[
        &"search",
        &"--dataset",
        &"cifar10",
        &"--data-dir",
        &cifar,
        &"--out",
        &out,
    ]);
    expect(&args, FAILURE, &["data_batch_1.bin"]);
    assert!(!out.exists(), "a failed data check created --out");
}

// ---------------------------------------------------------------- genotypes

#[test]
fn bad_genotypes_are_named() {
    let dir = scratch("genotype");
    let out = dir.join("out");
    let text_cases: &[(&str, &str)] = &[
        ("Genotype(normal=", "--genotype"),
        (
            "Genotype(normal=[('conv_9x9', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])",
            "conv_9x9",
        ),
        (
            "Genotype(normal=[('sep_conv_3x3', 7), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])",
            "7",
        ),
        ("hello", "--genotype"),
        // Empty nodes are allowed, but not a cell whose output reads no input.
        (
            "TndGenotype(normal=[[], [('none', 0)]], normal_concat=[2, 3], reduce=[[('skip_connect', 0)], []], reduce_concat=[2, 3])",
            "normal cell reads none of its inputs",
        ),
        (
            "TndGenotype(normal=[[('conv_3x3', 0)], []], normal_concat=[2, 3], reduce=[[], [('skip_connect', 2)]], reduce_concat=[2, 3])",
            "reduction cell reads none of its inputs",
        ),
    ];
    for (text, culprit) in text_cases {
        let args = os(&[
            &"retrain",
            &"--genotype",
            text,
            &"--dataset",
            &"sample",
            &"--out",
            &out,
        ]);
        expect(&args, FAILURE, &[culprit]);
        let args = os(&[&"inspect", &"params", &"--genotype", text]);
        expect(&args, FAILURE, &[culprit]);
    }
    let file = dir.join("genotype.txt");
    std::fs::write(&file, "TndGenotype(normal=[[('sep_conv_3x3', 0)]]").unwrap();
    let args = os(&[
        &"retrain",
        &"--genotype",
        &file,
        &"--dataset",
        &"sample",
        &"--out",
        &out,
    ]);
    expect(&args, FAILURE, &["genotype.txt"]);
    expect(
        &[
            "inspect",
            "params",
            "--nb201",
            "|bad_op~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        ],
        FAILURE,
        &["bad_op"],
    );
    expect(
        &["inspect", "params", "--nb201", "|nor_conv_3x3~0|+|bad~0|"],
        FAILURE,
        &["--nb201", "byte"],
    );
    expect(
        &["inspect", "params", "--mbconv", "e9_k3"],
        FAILURE,
        &["e9_k3"],
    );
    assert!(!out.exists());
}

#[test]
fn retrain_batch_larger_than_the_data_is_refused() {
    let dir = scratch("batch");
    let out = dir.join("out");
    let args = os(&[
        &"retrain",
        &"--genotype",
        &"Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])",
        &"--dataset",
        &"sample",
        &"--batch-size",
        &"4000",
        &"--out",
        &out,
    ]);
    expect(&args, FAILURE, &["batch_size", "4000"]);
    assert!(!out.join("train.json").exists());
}

// ---------------------------------------------------------------- tables

#[test]
fn bad_tables_name_file_row_and_column() {
    let dir = scratch("table");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cases: Vec<(PathBuf, &[&str], Vec<&str>)> = vec![
        (
            dir.join("missing.csv"),
            &["--objective", "table:acc:max"],
            vec!["missing.csv"],
        ),
        (
            write("no-arch.csv", "name,acc\nx,1\n"),
            &["--objective", "table:acc:max"],
            vec!["no-arch.csv", "arch"],
        ),
        (
            write(
                "text.csv",
                "arch,acc\n|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,high\n",
            ),
            &["--objective", "table:acc:max"],
            vec!["text.csv", "high"],
        ),
        (
            write(
                "nocol.csv",
                "arch,acc\n|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,1\n",
            ),
            &["--objective", "table:loss:max"],
            vec!["loss"],
        ),
    ];
    for (i, (table, extra, culprits)) in cases.into_iter().enumerate() {
        let mut args = os(&[
            &"tabular",
            &"--budget",
            &"10",
            &"--seed",
            &"0",
            &"--table",
            &table,
            &"--arch-column",
            &"arch",
            &"--out",
            &dir.join(format!("r{i}.json")),
        ]);
        args.extend(extra.iter().map(OsString::from));
        expect(&args, FAILURE, &culprits);
    }
    // Learning rates that would blow alpha up are refused before any work.
    let out = dir.join("lr.json");
    for (flag, value, culprit, printed) in [
        ("--lr", "1e200", "lr", "1e200"),
        ("--lr", "1000", "lr", "1000"),
        ("--spread", "1e9", "stage_spread", "1000000000"),
    ] {
        let args = os(&[
            &"tabular",
            &"--budget",
            &"10",
            &"--seed",
            &"0",
            &flag,
            &value,
            &"--out",
            &out,
        ]);
        expect(&args, FAILURE, &[culprit, printed]);
        assert!(!out.exists());
    }
}

// ---------------------------------------------------------------- checkpoints and resume

#[test]
fn resume_with_other_settings_names_the_field() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--reward", "mnas:target=1,exponent=-0.5"], &["reward"]),
        (
            &["--objective", "acc", "--objective", "macs"],
            &["objective list"],
        ),
        (&["--strategy", "random"], &["strategy"]),
        (&["--mode", "single-path"], &["mode"]),
    ];
    for (i, (extra, culprits)) in cases.iter().enumerate() {
        let run_dir = search_copy(&format!("resume{i}"));
        let before = std::fs::read(run_dir.join("search.jsonl")).unwrap();
        let mut args = tiny(&run_dir, &["--resume"]);
        args.extend(extra.iter().map(OsString::from));
        expect(&args, FAILURE, culprits);
        assert_eq!(std::fs::read(run_dir.join("search.jsonl")).unwrap(), before);
    }
    // Another seed: the field is named, not the whole configuration printed.
    let run_dir = search_copy("resume-seed");
    let mut args = tiny(&run_dir, &["--resume"]);
    let seed = args.iter().position(|a| a == "--seed").unwrap();
    args[seed + 1] = "6".into();
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(FAILURE), "{err}");
    assert!(err.contains("`seed`"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn damaged_checkpoints_are_refused_by_name() {
    // A resume with no checkpoint at all.
    let empty = scratch("no-checkpoint").join("run");
    expect(&tiny(&empty, &["--resume"]), FAILURE, &["checkpoint"]);

    type Damage = fn(&Path);
    let cases: &[(&str, Damage, &[&str])] = &[
        (
            "garbage-state",
            |run| std::fs::write(run.join("checkpoint/state.json"), "{not json").unwrap(),
            &["state.json", "not the file this checkpoint wrote"],
        ),
        (
            "garbage-state-relisted",
            |run| {
                std::fs::write(run.join("checkpoint/state.json"), "{not json").unwrap();
                relist(run, "state.json");
            },
            &["state.json", "unreadable"],
        ),
        (
            "edited-state",
            |run| {
                let path = run.join("checkpoint/state.json");
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, text.replacen("\"stage\"", "\"stage\" ", 1)).unwrap();
            },
            &["state.json", "not the file this checkpoint wrote"],
        ),
        (
            "step-beyond",
            |run| edit_state(run, |s| s["evaluator"]["step_in_epoch"] = 999.into()),
            &["state.json", "step_in_epoch", "999"],
        ),
        (
            "foreign-model-relisted",
            |run| {
                std::fs::write(run.join("checkpoint/model.bin"), [7u8; 64]).unwrap();
                relist(run, "model.bin");
            },
            &["model.bin"],
        ),
        (
            "missing-log",
            |run| std::fs::remove_file(run.join("search.jsonl")).unwrap(),
            &["search.jsonl", "gap"],
        ),
        (
            "shortened-log",
            |run| {
                let path = run.join("search.jsonl");
                let text = std::fs::read_to_string(&path).unwrap();
                let head: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
                std::fs::write(&path, head).unwrap();
            },
            &["search.jsonl", "gap"],
        ),
        (
            "stage-beyond",
            |run| edit_state(run, |s| s["stage"] = 99.into()),
            &["state.json", "stage", "99"],
        ),
        (
            "stages-mismatch",
            |run| edit_state(run, |s| s["stages"] = serde_json::json!([])),
            &["state.json", "stages"],
        ),
        (
            "epoch-beyond",
            |run| {
                edit_state(run, |s| {
                    s["stage"] = 0.into();
                    s["stages"] = serde_json::json!([]);
                    s["evaluator"]["epoch"] = 999.into();
                })
            },
            &["state.json", "epoch", "999"],
        ),
        (
            "foreign-model",
            |run| {
                let path = run.join("checkpoint/model.bin");
                let mut bytes = std::fs::read(&path).unwrap();
                bytes.truncate(bytes.len() / 2);
                std::fs::write(&path, bytes).unwrap();
            },
            &["model.bin", "not the file this checkpoint wrote"],
        ),
        (
            "flipped-optim",
            |run| {
                let path = run.join("checkpoint/optim.bin");
                let mut bytes = std::fs::read(&path).unwrap();
                let last = bytes.len() - 1;
                bytes[last] ^= 0xff;
                std::fs::write(&path, bytes).unwrap();
            },
            &["optim.bin", "CRC-32"],
        ),
        (
            "missing-model",
            |run| std::fs::remove_file(run.join("checkpoint/model.bin")).unwrap(),
            &["model.bin", "missing"],
        ),
        (
            "missing-manifest",
            |run| std::fs::remove_file(run.join("checkpoint/files.json")).unwrap(),
            &["files.json"],
        ),
        (
            "old-version",
            |run| edit_state(run, |s| s["version"] = 2.into()),
            &["format version"],
        ),
    ];
    for (name, damage, culprits) in cases {
        let run_dir = search_copy(name);
        damage(&run_dir);
        // A failed resume changes nothing: every file of the run, byte for byte.
        let before = snapshot(&run_dir);
        expect(&tiny(&run_dir, &["--resume"]), FAILURE, culprits);
        assert_eq!(
            snapshot(&run_dir),
            before,
            "{name}: the failed resume changed the run"
        );
    }
}

/// Every file under `dir` (but the folder lock) with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.ends_with(".tnd-nas.lock") {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

/// A resume on other images or labels of the same name, count and shape is refused:
/// the data check reads their content.
#[test]
fn resume_on_relabelled_data_is_refused() {
    use std::io::{Read, Write};
    let dir = scratch("relabelled");
    let data = dir.join("fm");
    std::fs::create_dir_all(&data).unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample");
    std::fs::copy(
        sample.join("images-idx3-ubyte.gz"),
        data.join("train-images-idx3-ubyte.gz"),
    )
    .unwrap();
    let labels_path = data.join("train-labels-idx1-ubyte.gz");
    std::fs::copy(sample.join("labels-idx1-ubyte.gz"), &labels_path).unwrap();
    let run_dir = dir.join("run");
    let mut args = tiny(&run_dir, &[]);
    let at = args.iter().position(|a| a == "sample").unwrap();
    args[at] = "fashion-mnist".into();
    args.extend(os(&[&"--data-dir", &data]));
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One label changed.
    let mut labels = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&labels_path).unwrap())
        .read_to_end(&mut labels)
        .unwrap();
    labels[8] = (labels[8] + 1) % 10;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&labels).unwrap();
    std::fs::write(&labels_path, gz.finish().unwrap()).unwrap();
    let before = snapshot(&run_dir);
    args.push("--resume".into());
    expect(&args, FAILURE, &["another dataset"]);
    assert_eq!(snapshot(&run_dir), before);
}

// ---------------------------------------------------------------- output folders

#[test]
fn earlier_outputs_are_never_overwritten() {
    let dir = scratch("outputs");
    // Every output of a search, alone in --out, is refused by name.
    for name in [
        "result.json",
        "genotype.txt",
        "search.jsonl",
        "checkpoint.old",
    ] {
        let out = dir.join(name.replace('.', "-"));
        std::fs::create_dir_all(&out).unwrap();
        if name == "checkpoint.old" {
            std::fs::create_dir_all(out.join(name)).unwrap();
        } else {
            std::fs::write(out.join(name), "earlier").unwrap();
        }
        expect(&tiny(&out, &[]), USAGE, &["already holds", name, "--force"]);
        if name != "checkpoint.old" {
            assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), "earlier");
        } else {
            assert!(out.join(name).is_dir());
        }
    }
    // An empty --out and an --out that is a file.
    expect(&tiny(Path::new(""), &[]), USAGE, &["--out"]);
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    expect(&tiny(&file, &[]), USAGE, &["not a directory"]);
    // retrain's outputs, checked before the training.
    let retrain_out = dir.join("retrain");
    std::fs::create_dir_all(&retrain_out).unwrap();
    std::fs::write(retrain_out.join("train.json"), "earlier").unwrap();
    let args = os(&[
        &"retrain",
        &"--genotype",
        &"Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])",
        &"--dataset",
        &"sample",
        &"--out",
        &retrain_out,
    ]);
    expect(&args, USAGE, &["train.json", "--force"]);
    assert_eq!(
        std::fs::read_to_string(retrain_out.join("train.json")).unwrap(),
        "earlier"
    );
    // tabular's --out file.
    let table_out = dir.join("r.json");
    std::fs::write(&table_out, "earlier").unwrap();
    let args = os(&[
        &"tabular",
        &"--budget",
        &"10",
        &"--seed",
        &"0",
        &"--out",
        &table_out,
    ]);
    expect(&args, USAGE, &["r.json", "--force"]);
    assert_eq!(std::fs::read_to_string(&table_out).unwrap(), "earlier");
}

/// Single-file outputs are locked as folders are, and never an input or a folder.
#[test]
fn single_file_outputs_are_locked_and_checked() {
    let dir = scratch("single-file");
    let out = dir.join("r.json");
    // Another command holds the file's lock: refused, nothing written.
    let lock = std::fs::File::create(dir.join(".r.json.tnd-nas.lock")).unwrap();
    lock.try_lock().unwrap();
    let args = os(&[
        &"tabular",
        &"--budget",
        &"10",
        &"--seed",
        &"0",
        &"--out",
        &out,
    ]);
    expect(&args, USAGE, &["r.json", "another tnd-nas command"]);
    assert!(!out.exists());
    drop(lock);
    let ok = run(&args);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // A folder as --out.
    expect(
        &os(&[
            &"tabular",
            &"--budget",
            &"10",
            &"--seed",
            &"0",
            &"--out",
            &dir,
        ]),
        USAGE,
        &["is a folder"],
    );
    // export --force onto its own input.
    let run_dir = dir.join("retrained");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::write(run_dir.join("train.json"), "{}").unwrap();
    std::fs::write(run_dir.join("model.mpk"), "weights").unwrap();
    for input in ["model.mpk", "train.json"] {
        expect(
            &os(&[
                &"export",
                &run_dir,
                &"--out",
                &run_dir.join(input),
                &"--force",
            ]),
            USAGE,
            &[input, "input"],
        );
    }
    assert_eq!(
        std::fs::read(run_dir.join("model.mpk")).unwrap(),
        b"weights"
    );
    // score --force onto its --archs file.
    let archs = dir.join("archs.csv");
    std::fs::write(
        &archs,
        "arch\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n",
    )
    .unwrap();
    expect(
        &os(&[&"score", &"--archs", &archs, &"--out", &archs, &"--force"]),
        USAGE,
        &["archs.csv", "input"],
    );
}

/// A config file goes through the command line's checks, and cannot replay an
/// overwrite.
#[test]
fn config_files_pass_the_command_lines_checks() {
    let dir = scratch("config-checks");
    let config = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let genotype = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('skip_connect', 1)], reduce_concat=[2])";
    let retrain_out = dir.join("retrain");
    let retrain = |c: &Path| {
        os(&[
            &"retrain",
            &"--genotype",
            &genotype,
            &"--dataset",
            &"sample",
            &"--out",
            &retrain_out,
            &"--config",
            &c,
        ])
    };
    let earlier = dir.join("r.json");
    std::fs::write(&earlier, "earlier").unwrap();
    let tabular = |c: &Path| {
        os(&[
            &"tabular",
            &"--seed",
            &"0",
            &"--out",
            &earlier,
            &"--config",
            &c,
        ])
    };
    let cases: Vec<(Vec<OsString>, Vec<&str>)> = vec![
        (
            retrain(&config("nan.toml", "lr = nan\n")),
            vec!["nan.toml", "`lr`", "finite"],
        ),
        (
            retrain(&config("inf.toml", "[retrain]\nlr = inf\n")),
            vec!["inf.toml", "`retrain.lr`"],
        ),
        (
            retrain(&config("layers.toml", "layers = 1000000\n")),
            vec!["layers.toml", "--layers"],
        ),
        (
            retrain(&config("drop.toml", "drop_path = 1.5\n")),
            vec!["drop.toml", "--drop-path"],
        ),
        (
            tabular(&config("budget.toml", "budget = 1000000000000\n")),
            vec!["budget.toml", "--budget"],
        ),
        (
            tabular(&config(
                "twice.json",
                "{\"budget\": 5, \"seed\": 1, \"seed\": 2}",
            )),
            vec!["twice.json", "`seed`", "twice"],
        ),
        (
            tabular(&config("force.toml", "budget = 5\nforce = true\n")),
            vec!["force.toml", "`force`"],
        ),
        (
            tabular(&config("resume.toml", "budget = 5\nresume = true\n")),
            vec!["resume.toml", "`resume`"],
        ),
        (
            tabular(&config(
                "strategy.toml",
                "budget = 5\nstrategy = \"annealing\"\n",
            )),
            vec!["strategy.toml", "--strategy"],
        ),
    ];
    for (args, culprits) in cases {
        let out = run(&args);
        let code = out.status.code();
        assert!(
            code == Some(USAGE) || code == Some(FAILURE),
            "{args:?}: {code:?}"
        );
        expect(&args, code.unwrap(), &culprits);
        assert!(!retrain_out.join("train.json").exists(), "{args:?}");
        assert_eq!(
            std::fs::read_to_string(&earlier).unwrap(),
            "earlier",
            "{args:?}"
        );
    }
    // --print-config never writes force or resume, so replaying it cannot overwrite.
    let printed = run(&os(&[
        &"tabular",
        &"--budget",
        &"5",
        &"--seed",
        &"0",
        &"--out",
        &earlier,
        &"--force",
        &"--print-config",
    ]));
    assert_eq!(printed.status.code(), Some(0));
    let text = String::from_utf8(printed.stdout).unwrap();
    assert!(
        !text.contains("force") && text.contains("budget = 5"),
        "{text}"
    );
    let replay = config("replay.toml", &text);
    expect(
        &os(&[&"tabular", &"--config", &replay]),
        USAGE,
        &["r.json", "--force"],
    );
    assert_eq!(std::fs::read_to_string(&earlier).unwrap(), "earlier");
}

#[test]
fn plot_and_export_name_what_is_missing() {
    let dir = scratch("plot-export");
    expect(&os(&[&"plot", &dir]), FAILURE, &["result.json"]);
    std::fs::write(dir.join("result.json"), "{").unwrap();
    expect(&os(&[&"plot", &dir]), FAILURE, &["result.json"]);
    expect(
        &os(&[&"export", &dir, &"--out", &dir.join("x.safetensors")]),
        FAILURE,
        &["train.json"],
    );
    std::fs::write(dir.join("train.json"), "[]").unwrap();
    expect(
        &os(&[&"export", &dir, &"--out", &dir.join("x.safetensors")]),
        FAILURE,
        &["train.json"],
    );
}

/// Limits and meanings: a budget beyond the space, an objective twice, an empty table,
/// CR-only line ends, a --data-dir that would not be read, and help texts that say what
/// is done.
#[test]
fn limits_and_meanings_are_checked() {
    let dir = scratch("limits");
    let out = dir.join("r.json");
    let tabular = |extra: &[&dyn AsRef<OsStr>]| {
        let mut args = os(&[&"tabular", &"--seed", &"0", &"--out", &out]);
        args.extend(extra.iter().map(|a| a.as_ref().to_os_string()));
        args
    };
    expect(
        &tabular(&[&"--budget", &"100000000"]),
        FAILURE,
        &["budget", "15625"],
    );
    expect(
        &tabular(&[
            &"--budget",
            &"5",
            &"--objective",
            &"params:min",
            &"--objective",
            &"params:min",
            &"--reward",
            &"sum:1,1",
        ]),
        FAILURE,
        &["`params` is given twice"],
    );
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "arch,acc\n").unwrap();
    let table = |t: &Path| {
        tabular(&[
            &"--budget",
            &"5",
            &"--table",
            &t,
            &"--arch-column",
            &"arch",
            &"--objective",
            &"table:acc:max",
        ])
    };
    expect(&table(&empty), FAILURE, &["empty.csv", "no rows"]);
    // CR-only line ends: named in a short line, not a 1.5 MB one.
    let cr = dir.join("cr.csv");
    let rows: String = (0..20_000).map(|i| format!("row{i},{i}\r")).collect();
    std::fs::write(&cr, format!("arch,acc\r{rows}")).unwrap();
    let args = table(&cr);
    expect(&args, FAILURE, &["cr.csv", "carriage return"]);
    assert!(run(&args).stderr.len() < 1000);
    assert!(!out.exists());
    // `sample` is bundled: a --data-dir beside it is refused, not ignored.
    expect(
        &os(&[
            &"search",
            &"--dataset",
            &"sample",
            &"--data-dir",
            &dir,
            &"--out",
            &dir.join("run"),
        ]),
        USAGE,
        &["sample", "--data-dir"],
    );
    // Help says what is done.
    let help = |sub: &str| String::from_utf8(run(&[sub, "--help"]).stdout).unwrap();
    assert!(
        help("retrain").contains("[default: 0.3"),
        "{}",
        help("retrain")
    );
    assert!(help("search").contains("`cifar-10-batches-bin/` folder itself"));
}
