//! The `inspect` example as a user runs it: reference counts, files, MACs, DOT and
//! clean failures on bad input.
//!
//! The example binary is found next to this test's executable
//! (`<target>/<profile>/deps/<test>` -> `<target>/<profile>/examples/inspect`). Plain
//! `cargo test` builds it; `cargo test --test inspect_cli` alone does not, so this test
//! asks cargo to build it (a no-op when it is up to date) when it runs under cargo.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::DARTS_V2;
use tnd_nas::Genotype;
use tnd_nas::spaces::darts::EvalNetworkConfig;
use tnd_nas::spaces::nb201::{Nb201Genotype, Nb201NetworkConfig};

const NB201: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const NB201_ALL_CONV: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";

/// A TND-notation genotype with variable in-degree, spread over several lines.
const TND_MULTILINE: &str = "TndGenotype(
    normal=[
        [],
        [('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2)],
        [('conv_3x3', 3)],
        [('sep_conv_5x5', 1), ('avg_pool_3x3', 4)],
    ],
    normal_concat=[2, 3, 4, 5],
    reduce=[
        [('max_pool_3x3', 0), ('skip_connect', 1)],
        [('skip_connect', 2)],
    ],
    reduce_concat=[2, 3],
)
";

/// The example binary, built if cargo is at hand; a clear failure if it cannot be found.
fn inspect_bin() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(locate_and_build) {
        Ok(path) => path.clone(),
        Err(msg) => panic!("{msg}"),
    }
}

fn locate_and_build() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot locate the test executable: {e}"))?;
    // <target>/<profile>/deps/<test-exe>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| format!("unexpected test executable location {}", exe.display()))?;
    let bin = profile_dir
        .join("examples")
        .join(format!("inspect{}", std::env::consts::EXE_SUFFIX));
    // Under `cargo test` the CARGO variable names the cargo running us: make sure the
    // example is built and up to date with the same profile (`--test NAME` skips examples).
    if let Ok(cargo) = std::env::var("CARGO") {
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("debug");
        let profile = if profile == "debug" { "dev" } else { profile };
        let target_dir = profile_dir.parent().unwrap_or(profile_dir);
        let out = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--profile",
                profile,
                "--example",
                "inspect",
                "--target-dir",
            ])
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map_err(|e| format!("cannot run cargo to build the inspect example: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "building the inspect example failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "the inspect example binary is missing at {}: build it with \
             `cargo build --release --example inspect` (same profile as the tests) first",
            bin.display()
        ))
    }
}

fn run(args: &[&str]) -> Output {
    let bin = inspect_bin();
    Command::new(&bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// Runs a command that must succeed and returns its stdout.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "inspect {args:?} failed ({}):\n{stderr}",
        out.status
    );
    assert!(
        stderr.is_empty(),
        "inspect {args:?} wrote to stderr:\n{stderr}"
    );
    stdout
}

/// The number alone on the last line of stdout of a command that must succeed.
fn last_number(args: &[&str]) -> u64 {
    let stdout = ok(args);
    let last = stdout.lines().last().unwrap_or_default();
    last.parse().unwrap_or_else(|_| {
        panic!("last line of inspect {args:?} is not a number: {last:?}\n{stdout}")
    })
}

/// Runs a command that must fail cleanly and returns its one-line stderr.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "inspect {args:?} should fail, stdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.status.code().is_some(),
        "inspect {args:?} was killed: {}",
        out.status
    );
    assert!(
        !stderr.contains("panicked"),
        "inspect {args:?} panicked:\n{stderr}"
    );
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "inspect {args:?}: stderr is not one line:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "inspect {args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "inspect {args:?} printed to stdout on failure"
    );
    stderr
}

/// A file in the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("tnd-nas-inspect-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn darts_v2_params_match_reference() {
    let base = [
        "params",
        "--genotype",
        DARTS_V2,
        "--channels",
        "36",
        "--layers",
        "20",
        "--classes",
        "10",
    ];
    assert_eq!(last_number(&base), 3_349_342);
    let mut aux = base.to_vec();
    aux.push("--auxiliary");
    assert_eq!(last_number(&aux), 3_825_768);
    // Defaults are C=36, 20 layers, 10 classes; `--name=value` works too.
    assert_eq!(last_number(&["params", "--genotype", DARTS_V2]), 3_349_342);
    assert_eq!(
        last_number(&["params", "--genotype", DARTS_V2, "--classes=100"]),
        3_401_272
    );
    assert_eq!(
        last_number(&[
            "params",
            "--channels",
            "16",
            "--layers",
            "8",
            "--genotype",
            DARTS_V2,
            "--auxiliary"
        ]),
        681_572
    );
    // The summary comes first, the number last.
    let stdout = ok(&base);
    assert!(stdout.lines().count() >= 2, "{stdout}");
}

#[test]
fn nb201_params_match_reference() {
    let args = [
        "params",
        "--nb201",
        NB201,
        "--channels",
        "16",
        "--cells",
        "5",
        "--classes",
        "10",
    ];
    assert_eq!(last_number(&args), 802_426);
    assert_eq!(last_number(&["params", "--nb201", NB201]), 802_426);
    assert_eq!(
        last_number(&["params", "--nb201", NB201, "--classes", "100"]),
        808_276
    );
    assert_eq!(
        last_number(&["params", "--nb201", NB201_ALL_CONV]),
        1_531_546
    );
}

#[test]
fn genotype_from_file() {
    let darts = TempFile::new("darts_v2.txt", &format!("{DARTS_V2}\n"));
    assert_eq!(
        last_number(&["params", "--genotype", darts.arg()]),
        3_349_342
    );

    let tnd = TempFile::new("tnd.txt", TND_MULTILINE);
    let g: Genotype = TND_MULTILINE.parse().unwrap();
    let cfg = EvalNetworkConfig::new(20, 8, 10).with_auxiliary(true);
    let args = [
        "params",
        "--genotype",
        tnd.arg(),
        "--channels",
        "20",
        "--layers",
        "8",
        "--auxiliary",
    ];
    assert_eq!(last_number(&args), cfg.param_count(&g));
    let macs = [
        "macs",
        "--genotype",
        tnd.arg(),
        "--channels",
        "20",
        "--layers",
        "8",
        "--input",
        "24",
    ];
    assert_eq!(
        last_number(&macs),
        EvalNetworkConfig::new(20, 8, 10).macs(&g, 24)
    );

    let nb = TempFile::new("nb201.txt", &format!("{NB201}\n"));
    assert_eq!(last_number(&["params", "--nb201", nb.arg()]), 802_426);

    // A file with a bad genotype names the file.
    let bad = TempFile::new(
        "bad.txt",
        &DARTS_V2.replacen("sep_conv_3x3", "sep_conv_9x9", 1),
    );
    let err = fails(&["params", "--genotype", bad.arg()]);
    assert!(
        err.contains("sep_conv_9x9") && err.contains(bad.arg()),
        "{err}"
    );
}

#[test]
fn macs_match_library() {
    let g: Genotype = DARTS_V2.parse().unwrap();
    let macs = last_number(&[
        "macs",
        "--genotype",
        DARTS_V2,
        "--channels",
        "36",
        "--layers",
        "20",
        "--classes",
        "10",
    ]);
    assert!(macs > 0);
    assert_eq!(macs, EvalNetworkConfig::new(36, 20, 10).macs(&g, 32));
    println!("DARTS_V2 C=36 L=20 32x32: {macs} MACs");
    // --auxiliary does not change inference MACs; --input and --in-channels do.
    assert_eq!(
        last_number(&["macs", "--genotype", DARTS_V2, "--auxiliary"]),
        macs
    );
    let mnist = last_number(&[
        "macs",
        "--genotype",
        DARTS_V2,
        "--input",
        "28",
        "--in-channels",
        "1",
        "--layers",
        "8",
    ]);
    assert_eq!(
        mnist,
        EvalNetworkConfig::new(36, 8, 10)
            .with_in_channels(1)
            .macs(&g, 28)
    );
    assert!(mnist < macs);

    let nb: Nb201Genotype = NB201_ALL_CONV.parse().unwrap();
    let nb_macs = last_number(&[
        "macs",
        "--nb201",
        NB201_ALL_CONV,
        "--channels",
        "16",
        "--cells",
        "5",
        "--input",
        "32",
    ]);
    assert_eq!(nb_macs, Nb201NetworkConfig::new(16, 5, 10).macs(&nb, 32));
    assert!(nb_macs > 0);
}

#[test]
fn dot_prints_digraph() {
    let dot = ok(&["dot", "--genotype", DARTS_V2]);
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(
        dot.contains("cluster_normal") && dot.contains("cluster_reduce"),
        "{dot}"
    );
    assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{dot}");
    assert!(dot.contains("[label=\"dil_conv_3x3\"]"), "{dot}");

    let nb = ok(&["dot", "--nb201", NB201]);
    assert!(nb.starts_with("digraph"), "{nb}");
    assert!(nb.contains("n1 -> n2 [label=\"avg_pool_3x3\"]"), "{nb}");

    let tnd = TempFile::new("tnd_dot.txt", TND_MULTILINE);
    let g: Genotype = TND_MULTILINE.parse().unwrap();
    assert_eq!(ok(&["dot", "--genotype", tnd.arg()]), g.to_dot());
}

#[test]
fn help_prints_usage() {
    for args in [&["--help"][..], &["-h"], &["params", "--help"]] {
        let out = ok(args);
        assert!(out.contains("Usage"), "{out}");
        assert!(
            out.contains("--genotype") && out.contains("--nb201"),
            "{out}"
        );
    }
}

#[test]
fn bad_input_fails_cleanly() {
    let unknown_op = DARTS_V2.replacen("sep_conv_3x3", "sep_conv_9x9", 1);
    let err = fails(&["params", "--genotype", &unknown_op]);
    assert!(err.contains("unknown op `sep_conv_9x9`"), "{err}");
    assert!(err.contains("byte 19"), "{err}");
    assert!(err.contains("--genotype"), "{err}");

    let out_of_range = DARTS_V2.replacen("('sep_conv_3x3', 1)", "('sep_conv_3x3', 2)", 1);
    assert_ne!(out_of_range, DARTS_V2);
    let err = fails(&["params", "--genotype", &out_of_range]);
    assert!(err.contains("out of range"), "{err}");
    let err = fails(&["macs", "--genotype", &out_of_range]);
    assert!(err.contains("out of range"), "{err}");
    fails(&["dot", "--genotype", &out_of_range]);

    let err = fails(&["params", "--genotype"]);
    assert!(err.contains("a value is required for '--genotype"), "{err}");
    let err = fails(&["params", "--genotype", DARTS_V2, "--channels"]);
    assert!(err.contains("--channels"), "{err}");
    let err = fails(&["params", "--channels", "--genotype", DARTS_V2]);
    assert!(err.contains("--channels"), "{err}");
    let err = fails(&["frobnicate", "--genotype", DARTS_V2]);
    assert!(err.contains("frobnicate"), "{err}");

    let nb_bad = NB201.replacen("avg_pool_3x3", "avg_pool_9x9", 1);
    let err = fails(&["params", "--nb201", &nb_bad]);
    assert!(err.contains("avg_pool_9x9"), "{err}");

    for args in [
        &[][..],
        &["params"],
        &["params", "--genotype", DARTS_V2, "--nb201", NB201],
        &["params", "--genotype", DARTS_V2, "--channels", "abc"],
        &["params", "--genotype", DARTS_V2, "--channels", "-3"],
        &["params", "--genotype", DARTS_V2, "--channels", "0"],
        &[
            "params",
            "--genotype",
            DARTS_V2,
            "--channels",
            "99999999999999999999999",
        ],
        &["params", "--genotype", DARTS_V2, "--layers", "0"],
        &["macs", "--genotype", DARTS_V2, "--input", "0"],
        &["params", "--genotype", DARTS_V2, "--cells", "5"],
        &["params", "--genotype", DARTS_V2, "--frobnicate"],
        &[
            "params",
            "--genotype",
            DARTS_V2,
            "--channels",
            "8",
            "--channels",
            "8",
        ],
        &["params", "--genotype", DARTS_V2, "extra"],
        &["params", "--nb201", NB201, "--layers", "5"],
        &["params", "--nb201", NB201, "--auxiliary"],
        &["params", "--nb201", DARTS_V2],
        &["params", "--genotype", NB201],
        &["params", "--genotype", ""],
        &["params", "--genotype", "Genotype("],
        &["params", "--genotype", "\u{1F980}"],
        &["dot", "--genotype", "/no/such/file/genotype.txt"],
        // Counts that could overflow 64 bits are refused.
        &[
            "macs",
            "--genotype",
            DARTS_V2,
            "--channels",
            "4096",
            "--layers",
            "1000",
            "--input",
            "4096",
        ],
        &[
            "macs",
            "--nb201",
            NB201_ALL_CONV,
            "--channels",
            "4096",
            "--cells",
            "1000",
            "--input",
            "4096",
        ],
    ] {
        fails(args);
    }
}

#[test]
fn mbconv_counts_are_mobilenet_v2() {
    let v2 = vec!["e6_k3"; 16].join(",");
    assert_eq!(
        last_number(&["params", "--mbconv", &v2, "--classes", "1000"]),
        3_504_872
    );
    assert_eq!(
        last_number(&[
            "macs",
            "--mbconv",
            &v2,
            "--classes",
            "1000",
            "--input",
            "224"
        ]),
        300_774_272
    );
    let file = TempFile::new("mbconv.txt", &format!("{v2}\n"));
    assert_eq!(
        last_number(&["params", "--mbconv", file.arg(), "--classes=1000"]),
        3_504_872
    );
    let mut bad = vec!["e6_k3"; 16];
    bad[4] = "e6_k9";
    let err = fails(&["params", "--mbconv", &bad.join(",")]);
    assert!(err.contains("e6_k9"), "{err}");
    let err = fails(&["params", "--mbconv", &v2, "--layers", "3"]);
    assert!(err.contains("--layers"), "{err}");
}
