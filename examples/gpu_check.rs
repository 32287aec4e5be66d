//! GPU check: backend parity and search-step benchmarks, one summary line per check.
//!
//! ```text
//! cargo build --release --features cuda --example gpu_check
//! scripts/gpu-check.sh --device cuda target/release/examples/gpu_check
//! scripts/gpu-check.sh --cpu --quick          # the CI variant (Flex vs NdArray)
//! ```
//!
//! The binary takes `--device cpu|cuda` (default `cpu`), `--quick` (small sizes for CI),
//! `--out FILE` (the summary as JSON too), `--steps N` (timed steps per benchmark),
//! `--tol-out X` / `--tol-grad X` (override the parity tolerances) and `--skip-bench` /
//! `--skip-parity`. It prints one line per check,
//!
//! ```text
//! CHECK op-parity sep_conv_3x3 s2 max_abs_diff=1.2e-6 grad_max_abs_diff=3.1e-6 tol=1e-4 grad_tol=1e-3 PASS
//! ```
//!
//! and exits 0 only if every check passes (1 if one fails, 2 on a usage error or when
//! no CUDA device can be used).
//!
//! # Checks
//!
//! - `op-parity`: every [`OpKind::CELL_OPS`] op at stride 1 and 2 (supernet flavour: BN
//!   without affine parameters, BN after pools), on the device backend and on the CPU
//!   reference backend (NdArray) with the same weights and inputs: forward in training
//!   mode (batch statistics), then the gradients of a fixed random projection of the
//!   output, per parameter and for the input.
//! - `supernet-parity`: a DARTS supernet over the TND-NAS op sets (weighted path, CE
//!   loss, all parameter gradients, then single-path inference on the trained-mode
//!   running statistics) and a NAS-Bench-201 supernet.
//! - `step`: the search's weight step (SGD momentum 0.9, weight decay 3e-4, CE loss,
//!   global gradient-norm clip 5, the same syncs as the search) on CIFAR-10-format data
//!   written to a temporary directory and read back with `Cifar10::read`, for the three
//!   stages of the paper's TND schedule (C=16; 5 cells with 9/6 ops, 11 cells with 6/4
//!   ops, 17 cells with 3/2 ops; batch 64), in weighted and single-path mode: median
//!   time per step after warm-up, images/s, peak memory.
//! - `alpha-update`: M=10 sampled architectures each scored on one validation batch by
//!   the supernet in single-path inference mode (median over repetitions).
//! - `projection`: the GPU-hours of a full paper-preset CIFAR-10 search
//!   (3 stages x 16 epochs x 390 steps, an alpha update every 4 steps after 8 warm-up
//!   epochs) from the measured times, beside the paper's 1.3 GPU-days (GTX 1080 Ti).
//!   Data loading, checkpoints and objective evaluation are not included.
//!
//! `--device cpu` runs the Flex backend as the "device" against NdArray, so the same
//! code checks Flex/NdArray parity and CPU step times. `--device cuda` needs a binary
//! built with `--features cuda` and runs `Autodiff<Cuda<f32, i32>>` against NdArray.
//!
//! # What a CUDA machine needs at run time
//!
//! Nothing CUDA is linked at build time (cudarc 0.19 with dynamic loading; without
//! `nvcc` on the build machine the bindings of the newest CUDA it knows, 13.x, are
//! used). At run time:
//!
//! - the NVIDIA driver: `libcuda.so` / `libcuda.so.1` on the loader path;
//! - NVRTC (`libnvrtc.so`, `.so.13`, `.so.12`, ...) and its `libnvrtc-builtins`, from a
//!   CUDA toolkit or the `cuda-nvrtc` packages, on the loader path (`LD_LIBRARY_PATH`,
//!   e.g. `/usr/local/cuda/lib64`);
//! - the CUDA headers: kernels are compiled at run time with
//!   `--include-path=$CUDA_PATH/include`; without `CUDA_PATH` the toolkit is looked for
//!   in `/usr/local/cuda`, `/opt/cuda`, then `/usr` (if `/usr/bin/nvcc` exists);
//! - a driver new enough for the CUDA version the binary was built against (build on a
//!   machine with the same `nvcc`, or set `CUDARC_CUDA_VERSION=12080` etc. at build time).
//!
//! A missing driver, library or device is reported as one line,
//! `error: no CUDA device available: ...`, with exit code 2.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tnd_nas::OpKind;
use tnd_nas::data::{AugmentConfig, BatchLoaderConfig, Cifar10, Normalization, Split};
use tnd_nas::ops::{OpConfig, materialize};
use tnd_nas::schedule::StageConfig;
use tnd_nas::scoring::{DataShape, SupernetSpace, TrainableSupernet};
use tnd_nas::space::OpSet;
use tnd_nas::spaces::darts::{DartsSpaceConfig, DartsSuperNet, DartsSuperNetConfig};
use tnd_nas::spaces::nb201::Nb201Space;
use tnd_nas::supernet::{Path, SupernetForward};
use tnd_nas::train::{Sgd, SgdSettings, clip_grad_norm, count_correct};

/// The paper's search: 1.3 GPU-days on a GTX 1080 Ti.
const PAPER_GPU_DAYS: f64 = 1.3;
/// Steps per epoch of the paper preset: 25,000 training images / batch 64.
const STEPS_PER_EPOCH: f64 = 390.0;
const EPOCHS: f64 = 16.0;
const WARMUP_EPOCHS: f64 = 8.0;
const ALPHA_EVERY: f64 = 4.0;
/// Samples per alpha update (M).
const SAMPLES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
enum DeviceKind {
    Cpu,
    Cuda,
}

#[derive(Debug)]
struct Opts {
    device: DeviceKind,
    quick: bool,
    out: Option<PathBuf>,
    steps: Option<usize>,
    tol_out: Option<f64>,
    tol_grad: Option<f64>,
    parity: bool,
    bench: bool,
}

const USAGE: &str = "usage: gpu_check [--device cpu|cuda] [--quick] [--out FILE] [--steps N] \
[--tol-out X] [--tol-grad X] [--skip-parity] [--skip-bench]";

fn parse_args() -> Result<Opts> {
    let mut o = Opts {
        device: DeviceKind::Cpu,
        quick: false,
        out: None,
        steps: None,
        tol_out: None,
        tol_grad: None,
        parity: true,
        bench: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| anyhow!("{name} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--device" => {
                o.device = match value("--device")?.as_str() {
                    "cpu" => DeviceKind::Cpu,
                    "cuda" => DeviceKind::Cuda,
                    other => bail!("unknown device `{other}` (cpu or cuda)"),
                }
            }
            "--cpu" => o.device = DeviceKind::Cpu,
            "--quick" => o.quick = true,
            "--out" => o.out = Some(value("--out")?.into()),
            "--steps" => o.steps = Some(value("--steps")?.parse().context("--steps")?),
            "--tol-out" => o.tol_out = Some(value("--tol-out")?.parse().context("--tol-out")?),
            "--tol-grad" => o.tol_grad = Some(value("--tol-grad")?.parse().context("--tol-grad")?),
            "--skip-parity" => o.parity = false,
            "--skip-bench" => o.bench = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    if o.steps == Some(0) {
        bail!("--steps must be at least 1");
    }
    Ok(o)
}

/// Problem sizes of the full and the quick run.
#[derive(Debug, Clone)]
struct Sizes {
    op_channels: usize,
    op_batch: usize,
    op_side: usize,
    net_channels: usize,
    net_cells: usize,
    net_batch: usize,
    net_side: usize,
    bench_channels: usize,
    bench_cells: [usize; 3],
    bench_batch: usize,
    warmup: usize,
    steps: usize,
    alpha_reps: usize,
    /// Seconds of timed steps per benchmark before it stops early.
    budget_s: f64,
}

impl Sizes {
    fn new(quick: bool, steps: Option<usize>) -> Self {
        let mut s = if quick {
            Sizes {
                op_channels: 8,
                op_batch: 4,
                op_side: 8,
                net_channels: 4,
                net_cells: 3,
                net_batch: 4,
                net_side: 8,
                bench_channels: 8,
                bench_cells: [2, 3, 4],
                bench_batch: 16,
                warmup: 1,
                steps: 3,
                alpha_reps: 2,
                budget_s: 20.0,
            }
        } else {
            Sizes {
                op_channels: 16,
                op_batch: 8,
                op_side: 16,
                net_channels: 8,
                net_cells: 5,
                net_batch: 8,
                net_side: 16,
                bench_channels: 16,
                bench_cells: [5, 11, 17],
                bench_batch: 64,
                warmup: 3,
                steps: 10,
                alpha_reps: 3,
                budget_s: 20.0,
            }
        };
        if let Some(n) = steps {
            s.steps = n;
        }
        s
    }
}

/// Parity tolerances: `out` is absolute on op outputs and logits (BN-normalised, so of
/// unit scale); `grad` is absolute after scaling by `max(1, largest |reference grad|)`
/// of each tensor.
#[derive(Debug, Clone, Copy)]
struct Tol {
    out: f64,
    grad: f64,
}

impl Tol {
    fn for_device(device: DeviceKind, opts: &Opts) -> Self {
        let base = match device {
            // Two f32 CPU backends: only the summation order differs.
            DeviceKind::Cpu => Tol {
                out: 1e-4,
                grad: 1e-3,
            },
            // cubecl runs f32 matmuls and convolutions on tensor cores in TF32
            // (10-bit mantissa), so allow ~10 TF32 ulps on unit-scale outputs.
            DeviceKind::Cuda => Tol {
                out: 5e-3,
                grad: 1e-2,
            },
        };
        Tol {
            out: opts.tol_out.unwrap_or(base.out),
            grad: opts.tol_grad.unwrap_or(base.grad),
        }
    }
}

/// One summary line.
struct Check {
    name: String,
    label: String,
    fields: Vec<(String, Value)>,
    pass: bool,
}

impl Check {
    fn new(name: &str, label: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            fields: Vec::new(),
            pass: true,
        }
    }

    fn num(mut self, key: &str, v: f64) -> Self {
        self.fields.push((key.into(), json!(v)));
        self
    }

    fn text(mut self, key: &str, v: impl Into<String>) -> Self {
        self.fields.push((key.into(), json!(v.into())));
        self
    }

    fn failed(name: &str, label: impl Into<String>, error: &str) -> Self {
        let mut c = Check::new(name, label).text("error", one_line(error));
        c.pass = false;
        c
    }

    fn line(&self) -> String {
        let mut s = format!("CHECK {} {}", self.name, self.label);
        for (k, v) in &self.fields {
            let v = match v {
                Value::Number(n) => fmt_num(n.as_f64().unwrap_or(f64::NAN)),
                Value::String(t) if t.contains(' ') => format!("{t:?}"),
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            s.push_str(&format!(" {k}={v}"));
        }
        s.push_str(if self.pass { " PASS" } else { " FAIL" });
        s
    }

    fn to_json(&self) -> Value {
        let fields: serde_json::Map<String, Value> = self.fields.iter().cloned().collect();
        json!({
            "check": self.name,
            "label": self.label,
            "status": if self.pass { "PASS" } else { "FAIL" },
            "values": fields,
            "line": self.line(),
        })
    }
}

fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else if (1e-2..1e5).contains(&v.abs()) {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 400 {
        format!("{}...", s.chars().take(400).collect::<String>())
    } else {
        s
    }
}

/// Panic messages recorded by the quiet hook installed in `main` since the last
/// [`take_panics`]. cubecl runs the device on its own thread, so the root cause of a
/// failure (e.g. no `libcuda.so`) is often a panic there, followed by a second one on
/// the calling thread; all of them are kept, oldest first.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn install_quiet_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic".to_string()
        };
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut all) = PANICS.lock() {
            all.push(format!("{msg}{at}"));
        }
    }));
}

/// The panics recorded since the last call, root cause first, as one line.
fn take_panics() -> String {
    let all = PANICS
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    if all.is_empty() {
        "panic".into()
    } else {
        all.iter()
            .map(|m| one_line(m))
            .collect::<Vec<_>>()
            .join(" | then: ")
    }
}

/// Runs `f`, turning an error or a panic into a failed check.
fn guarded(name: &str, label: &str, f: impl FnOnce() -> Result<Check>) -> Check {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => Check::failed(name, label, &format!("{e:#}")),
        Err(_) => Check::failed(name, label, &format!("panicked: {}", take_panics())),
    }
}

fn random_data(shape: &[usize], rng: &mut ChaCha8Rng) -> TensorData {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    TensorData::new(values, shape.to_vec())
}

fn to_f32(data: TensorData) -> Result<Vec<f32>> {
    data.convert::<f32>()
        .to_vec::<f32>()
        .map_err(|e| anyhow!("cannot read tensor data: {e:?}"))
}

/// Largest |a - b| and largest |b|.
fn max_diff(a: &[f32], b: &[f32]) -> Result<(f64, f64)> {
    if a.len() != b.len() {
        bail!("length mismatch: {} vs {}", a.len(), b.len());
    }
    let mut diff = 0.0f64;
    let mut scale = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        let d = (f64::from(*x) - f64::from(*y)).abs();
        // NaN on either side must fail.
        diff = if d.is_nan() {
            f64::INFINITY
        } else {
            diff.max(d)
        };
        scale = scale.max(f64::from(*y).abs());
    }
    Ok((diff, scale))
}

/// Gradients of every float parameter, in visit order.
struct CollectGrads<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    out: Vec<Option<TensorData>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for CollectGrads<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.out.push(param.grad(self.grads).map(Tensor::into_data));
    }
}

fn grads_of<B: AutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &B::Gradients,
) -> Vec<Option<TensorData>> {
    let mut v = CollectGrads::<B> {
        grads,
        out: Vec::new(),
    };
    module.visit(&mut v);
    v.out
}

/// Per-tensor gradient comparison: the worst `|a - b| / max(1, max|b|)`, the worst
/// absolute difference, and the relative difference of the summed |grad|.
struct GradCmp {
    scaled: f64,
    abs: f64,
    abs_sum_rel: f64,
    tensors: usize,
}

fn compare_grads(a: Vec<Option<TensorData>>, b: Vec<Option<TensorData>>) -> Result<GradCmp> {
    if a.len() != b.len() {
        bail!("{} vs {} parameter tensors", a.len(), b.len());
    }
    let mut c = GradCmp {
        scaled: 0.0,
        abs: 0.0,
        abs_sum_rel: 0.0,
        tensors: 0,
    };
    let (mut sum_a, mut sum_b) = (0.0f64, 0.0f64);
    for (i, pair) in a.into_iter().zip(b).enumerate() {
        match pair {
            (None, None) => {}
            (Some(x), Some(y)) => {
                let (x, y) = (to_f32(x)?, to_f32(y)?);
                let (d, scale) = max_diff(&x, &y)?;
                c.abs = c.abs.max(d);
                c.scaled = c.scaled.max(d / scale.max(1.0));
                sum_a += x.iter().map(|v| f64::from(v.abs())).sum::<f64>();
                sum_b += y.iter().map(|v| f64::from(v.abs())).sum::<f64>();
                c.tensors += 1;
            }
            (Some(_), None) => bail!("parameter tensor {i} has a gradient on the device only"),
            (None, Some(_)) => bail!("parameter tensor {i} has a gradient on the reference only"),
        }
    }
    c.abs_sum_rel = (sum_a - sum_b).abs() / sum_b.max(1e-12);
    if !sum_a.is_finite() {
        c.abs_sum_rel = f64::INFINITY;
    }
    Ok(c)
}

/// Records `a`'s weights and loads the same bytes into `a` and `r`.
fn share_weights<A: Backend, R: Backend, MA: Module<A>, MR: Module<R>>(
    a: MA,
    r: MR,
    da: &A::Device,
    dr: &R::Device,
) -> Result<(MA, MR)> {
    materialize(&a);
    materialize(&r);
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = Recorder::<A>::record(&recorder, a.clone().into_record(), ())
        .map_err(|e| anyhow!("record: {e:?}"))?;
    let ra =
        Recorder::<A>::load(&recorder, bytes.clone(), da).map_err(|e| anyhow!("load: {e:?}"))?;
    let rr = Recorder::<R>::load(&recorder, bytes, dr).map_err(|e| anyhow!("load: {e:?}"))?;
    Ok((a.load_record(ra), r.load_record(rr)))
}

fn op_parity<D: Backend, R: Backend>(
    kind: OpKind,
    stride: usize,
    sz: &Sizes,
    tol: Tol,
    dd: &D::Device,
    rd: &R::Device,
) -> Result<Check> {
    let cfg = OpConfig::new(kind, sz.op_channels)
        .with_stride(stride)
        .with_affine(false)
        .with_pool_bn(true);
    <Autodiff<D> as Backend>::seed(dd, 7);
    let a = cfg.init::<Autodiff<D>>(dd);
    let r = cfg.init::<Autodiff<R>>(rd);
    let (a, r) = share_weights::<Autodiff<D>, Autodiff<R>, _, _>(a, r, dd, rd)?;
    let mut rng = ChaCha8Rng::seed_from_u64(11 + stride as u64);
    let shape = [sz.op_batch, sz.op_channels, sz.op_side, sz.op_side];
    let x = random_data(&shape, &mut rng);
    let side = sz.op_side.div_ceil(stride);
    let proj = random_data(&[sz.op_batch, sz.op_channels, side, side], &mut rng);

    let xa = Tensor::<Autodiff<D>, 4>::from_data(x.clone(), dd).require_grad();
    let ya = a.forward(xa.clone());
    let xr = Tensor::<Autodiff<R>, 4>::from_data(x, rd).require_grad();
    let yr = r.forward(xr.clone());
    let (out_diff, _) = max_diff(
        &to_f32(ya.clone().into_data())?,
        &to_f32(yr.clone().into_data())?,
    )?;

    let ga = (ya * Tensor::from_data(proj.clone(), dd)).sum().backward();
    let gr = (yr * Tensor::from_data(proj, rd)).sum().backward();
    let mut da = grads_of(&a, &ga);
    da.push(xa.grad(&ga).map(Tensor::into_data));
    let mut dr = grads_of(&r, &gr);
    dr.push(xr.grad(&gr).map(Tensor::into_data));
    let g = compare_grads(da, dr)?;

    let mut c = Check::new("op-parity", format!("{kind} s{stride}"))
        .num("max_abs_diff", out_diff)
        .num("grad_max_abs_diff", g.abs)
        .num("grad_scaled_diff", g.scaled)
        .num("tol", tol.out)
        .num("grad_tol", tol.grad);
    c.pass = out_diff <= tol.out && g.scaled <= tol.grad;
    Ok(c)
}

fn varied_weights(counts: &[usize]) -> Path {
    Path::Weighted(
        counts
            .iter()
            .enumerate()
            .map(|(e, &n)| {
                let raw: Vec<f32> = (0..n).map(|i| ((e + i) % 3 + 1) as f32).collect();
                let total: f32 = raw.iter().sum();
                raw.into_iter().map(|w| w / total).collect()
            })
            .collect(),
    )
}

fn random_choice(counts: &[usize], rng: &mut ChaCha8Rng) -> Vec<usize> {
    counts.iter().map(|&n| rng.random_range(0..n)).collect()
}

/// Forward and backward parity of one space's supernet (all candidates, `cells` deep)
/// between backends `D` and `R`.
fn supernet_parity<D: Backend, R: Backend, S: SupernetSpace>(
    label: &str,
    space: &S,
    cells: usize,
    sz: &Sizes,
    tol: Tol,
    dd: &D::Device,
    rd: &R::Device,
) -> Result<Vec<Check>>
where
    S::Supernet<Autodiff<D>>: TrainableSupernet<Autodiff<D>>,
    S::Supernet<Autodiff<R>>: TrainableSupernet<Autodiff<R>>,
{
    let stage =
        StageConfig::new(cells, vec![0; space.cell_types().len()]).with_channels(sz.net_channels);
    let active = space.all_candidates();
    let data = parity_shape(sz);
    <Autodiff<D> as Backend>::seed(dd, 3);
    let a = space.supernet::<Autodiff<D>>(&stage, &active, &data, dd)?;
    let r = space.supernet::<Autodiff<R>>(&stage, &active, &data, rd)?;
    let (a, r) = share_weights::<Autodiff<D>, Autodiff<R>, _, _>(a, r, dd, rd)?;
    let counts: Vec<usize> = active.iter().map(Vec::len).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = random_data(
        &[sz.net_batch, data.channels, sz.net_side, sz.net_side],
        &mut rng,
    );
    let labels: Vec<i64> = (0..sz.net_batch)
        .map(|i| (i % data.classes) as i64)
        .collect();
    let y = TensorData::new(labels, [sz.net_batch]);
    let path = varied_weights(&counts);

    let la = a.forward_path(Tensor::from_data(x.clone(), dd), &path)?;
    let lr = r.forward_path(Tensor::from_data(x.clone(), rd), &path)?;
    let (logit_diff, _) = max_diff(
        &to_f32(la.clone().into_data())?,
        &to_f32(lr.clone().into_data())?,
    )?;
    let ce_a = CrossEntropyLossConfig::new().init(dd);
    let ce_r = CrossEntropyLossConfig::new().init(rd);
    let loss_a = ce_a.forward(la, Tensor::<Autodiff<D>, 1, Int>::from_data(y.clone(), dd));
    let loss_r = ce_r.forward(lr, Tensor::<Autodiff<R>, 1, Int>::from_data(y, rd));
    let (va, vr) = (
        loss_a.clone().into_scalar().elem::<f64>(),
        loss_r.clone().into_scalar().elem::<f64>(),
    );
    let g = compare_grads(
        grads_of(&a, &loss_a.backward()),
        grads_of(&r, &loss_r.backward()),
    )?;

    let mut fwd = Check::new("supernet-parity", format!("{label} weighted-train"))
        .num("max_abs_diff", logit_diff)
        .num("loss_diff", (va - vr).abs())
        .num("tol", tol.out);
    fwd.pass = logit_diff <= tol.out && (va - vr).abs() <= tol.out;
    let mut bwd = Check::new("supernet-parity", format!("{label} weighted-grad"))
        .num("tensors", g.tensors as f64)
        .num("grad_max_abs_diff", g.abs)
        .num("grad_scaled_diff", g.scaled)
        .num("abs_sum_rel_diff", g.abs_sum_rel)
        .num("grad_tol", tol.grad);
    bwd.pass = g.tensors > 0 && g.scaled <= tol.grad && g.abs_sum_rel <= tol.grad;

    // Single-path inference (how alpha updates score samples), after the training
    // forward above updated the running statistics on both sides.
    let inf = single_path_parity::<D, R, _, _>(
        label,
        &a.valid(),
        &r.valid(),
        &counts,
        &x,
        tol,
        dd,
        rd,
        &mut rng,
    )?;
    Ok(vec![fwd, bwd, inf])
}

/// The data the supernet parity checks run on: 10 classes of RGB `net_side` images.
fn parity_shape(sz: &Sizes) -> DataShape {
    DataShape {
        classes: 10,
        channels: 3,
        height: sz.net_side,
        width: sz.net_side,
    }
}

/// Single-path inference parity of two copies of one supernet on three random paths.
#[allow(clippy::too_many_arguments)]
fn single_path_parity<D: Backend, R: Backend, MD, MR>(
    label: &str,
    va_net: &MD,
    vr_net: &MR,
    counts: &[usize],
    x: &TensorData,
    tol: Tol,
    dd: &D::Device,
    rd: &R::Device,
    rng: &mut ChaCha8Rng,
) -> Result<Check>
where
    MD: SupernetForward<D>,
    MR: SupernetForward<R>,
{
    let mut worst = 0.0f64;
    for _ in 0..3 {
        let p = Path::SinglePath(random_choice(counts, rng));
        let oa = va_net.forward_path(Tensor::from_data(x.clone(), dd), &p)?;
        let or = vr_net.forward_path(Tensor::from_data(x.clone(), rd), &p)?;
        worst = worst.max(max_diff(&to_f32(oa.into_data())?, &to_f32(or.into_data())?)?.0);
    }
    let mut inf = Check::new("supernet-parity", format!("{label} single-path-inference"))
        .num("paths", 3.0)
        .num("max_abs_diff", worst)
        .num("tol", tol.out);
    inf.pass = worst <= tol.out;
    Ok(inf)
}

fn parity_checks<D: Backend, R: Backend>(
    sz: &Sizes,
    tol: Tol,
    dd: &D::Device,
    rd: &R::Device,
    emit: &mut dyn FnMut(Check),
) {
    for kind in OpKind::CELL_OPS {
        for stride in [1, 2] {
            let label = format!("{kind} s{stride}");
            emit(guarded("op-parity", &label, || {
                op_parity::<D, R>(kind, stride, sz, tol, dd, rd)
            }));
        }
    }
    for label in ["darts-tnd", "nb201"] {
        let result = panic::catch_unwind(AssertUnwindSafe(|| match label {
            "darts-tnd" => {
                let space = DartsSpaceConfig::tnd().init()?;
                supernet_parity::<D, R, _>(label, &space, sz.net_cells, sz, tol, dd, rd)
            }
            _ => supernet_parity::<D, R, _>(label, &Nb201Space::new(), 1, sz, tol, dd, rd),
        }));
        match result {
            Ok(Ok(checks)) => checks.into_iter().for_each(&mut *emit),
            Ok(Err(e)) => emit(Check::failed("supernet-parity", label, &format!("{e:#}"))),
            Err(_) => emit(Check::failed(
                "supernet-parity",
                label,
                &format!("panicked: {}", take_panics()),
            )),
        }
    }
}

/// Pre-built batches: training batches (crop + flip + CIFAR-10 normalisation) and
/// validation batches (normalisation only), as the search prepares them.
struct BenchData {
    train: Vec<(TensorData, TensorData)>,
    valid: Vec<(TensorData, TensorData)>,
}

/// Writes random CIFAR-10 binary files into a temporary directory, reads them with
/// `Cifar10::read`, splits them in halves and batches them like the search does.
fn bench_data(batch: usize, batches: usize) -> Result<BenchData> {
    let dir = std::env::temp_dir().join(format!("tnd-nas-gpu-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = Cifar10::file_names(Split::Train);
    // Both halves need `batches` full batches; leave slack for an uneven split.
    let per_file = (2 * batch * batches + 2 * batch).div_ceil(files.len());
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let written = (|| -> Result<_> {
        for name in files {
            let mut bytes = Vec::with_capacity(per_file * Cifar10::RECORD_LEN);
            for _ in 0..per_file {
                bytes.push(rng.random_range(0..10u8));
                bytes.extend((0..Cifar10::RECORD_LEN - 1).map(|_| rng.random::<u8>()));
            }
            std::fs::write(dir.join(name), bytes).with_context(|| format!("writing {name}"))?;
        }
        Ok(Cifar10::read(&dir, Split::Train)?)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let dataset = written?;
    let (w, a) = dataset.split(0.5, 1)?;
    let norm = Normalization::cifar10();
    let train = BatchLoaderConfig::new(batch)
        .with_seed(1)
        .with_drop_last(true)
        .with_augment(AugmentConfig::new().with_normalization(Some(norm.clone())))
        .init(Arc::new(w))?;
    let valid = BatchLoaderConfig::new(batch)
        .with_seed(2)
        .with_drop_last(true)
        .with_augment(AugmentConfig::none().with_normalization(Some(norm)))
        .init(Arc::new(a))?;
    let take = |loader: &tnd_nas::data::BatchLoader| -> Result<Vec<(TensorData, TensorData)>> {
        (0..loader.batches_per_epoch().min(batches))
            .map(|i| {
                loader
                    .batch(0, i)
                    .map(|b| (b.images, b.labels))
                    .map_err(Into::into)
            })
            .collect()
    };
    let data = BenchData {
        train: take(&train)?,
        valid: take(&valid)?,
    };
    if data.train.is_empty() || data.valid.is_empty() {
        bail!("the generated CIFAR-10 data holds no full batch of {batch}");
    }
    Ok(data)
}

/// One stage of the paper's TND schedule: cells and the ops left on normal/reduction edges.
#[derive(Debug, Clone, Copy)]
struct Stage {
    index: usize,
    cells: usize,
    normal_ops: usize,
    reduce_ops: usize,
}

fn stages(sz: &Sizes) -> [Stage; 3] {
    let ops = [(9, 6), (6, 4), (3, 2)];
    std::array::from_fn(|i| Stage {
        index: i + 1,
        cells: sz.bench_cells[i],
        normal_ops: ops[i].0,
        reduce_ops: ops[i].1,
    })
}

fn stage_config(stage: Stage, channels: usize) -> Result<DartsSuperNetConfig> {
    let space = DartsSpaceConfig::tnd().init()?;
    let mut cfg = DartsSuperNetConfig::full(&space, channels, stage.cells, 10);
    let (normal_set, reduce_set) = (OpSet::tnd_normal(), OpSet::tnd_reduce());
    let normal = &normal_set.ops()[..stage.normal_ops];
    let reduce = &reduce_set.ops()[..stage.reduce_ops];
    let half = cfg.active.len() / 2;
    cfg.active = (0..cfg.active.len())
        .map(|e| {
            if e < half {
                normal.to_vec()
            } else {
                reduce.to_vec()
            }
        })
        .collect();
    Ok(cfg)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Device memory: (bytes in use, bytes reserved by the allocator), where known.
type MemProbe<'a> = &'a dyn Fn() -> Option<(u64, u64)>;

#[derive(Debug, Default, Clone, Copy)]
struct Timing {
    step_s: f64,
    alpha_s: Option<f64>,
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

#[allow(clippy::too_many_arguments)]
fn bench_stage<B: AutodiffBackend>(
    stage: Stage,
    weighted: bool,
    sz: &Sizes,
    data: &BenchData,
    device: &B::Device,
    mem: MemProbe<'_>,
    gpu: bool,
) -> Result<(Check, Option<Check>, Timing)> {
    let cfg = stage_config(stage, sz.bench_channels)?;
    let counts: Vec<usize> = cfg.active.iter().map(Vec::len).collect();
    B::seed(device, 100 + stage.index as u64);
    let mut model = cfg.init::<B>(device)?;
    materialize(&model);
    let mut optim = SgdSettings::default().init::<B, _>();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let weights = Path::Weighted(counts.iter().map(|&n| vec![1.0 / n as f32; n]).collect());
    let sync = |d: &B::Device| B::sync(d).map_err(|e| anyhow!("sync: {e}"));
    let mut peak = (0u64, 0u64);
    let mut sample_mem = || peak = mem().map_or(peak, |(u, r)| (peak.0.max(u), peak.1.max(r)));
    let mut times = Vec::new();
    let mut last_loss = f64::NAN;
    let mut timed_started: Option<Instant> = None;
    let total = sz.warmup + sz.steps;
    for i in 0..total {
        let warm = i < sz.warmup;
        if !warm && timed_started.is_none() {
            timed_started = Some(Instant::now());
        }
        let started = Instant::now();
        let path = if weighted {
            weights.clone()
        } else {
            Path::SinglePath(random_choice(&counts, &mut rng))
        };
        let batch = &data.train[i % data.train.len()];
        let mut probe = || {
            if warm {
                sample_mem();
            }
        };
        (model, last_loss) = weight_step(model, &mut optim, batch, &path, device, &mut probe)?;
        sync(device)?;
        if warm {
            sample_mem();
        } else {
            times.push(started.elapsed().as_secs_f64());
            let spent = timed_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
            if spent > sz.budget_s && times.len() >= 2 {
                break;
            }
        }
    }
    sample_mem();
    let n = times.len();
    let step_s = median(&mut times);
    let step = step_check(stage, weighted, sz, step_s, n, last_loss);
    let mut step = memory_fields(step, gpu, peak.0, peak.1);
    step.pass = last_loss.is_finite() && step_s.is_finite();

    // Alpha updates: M samples scored on one validation batch each, single-path inference.
    let alpha = if weighted {
        Some(bench_alpha::<B>(
            &model.valid(),
            stage,
            &counts,
            sz,
            data,
            device,
            &mut rng,
        )?)
    } else {
        None
    };
    let timing = Timing {
        step_s,
        alpha_s: alpha.as_ref().map(|a| a.1),
    };
    Ok((step, alpha.map(|a| a.0), timing))
}

/// The alpha-update timing of one stage: M single-path samples scored on a validation
/// batch, `alpha_reps` times after one warm-up.
fn bench_alpha<B: AutodiffBackend>(
    net: &DartsSuperNet<B::InnerBackend>,
    stage: Stage,
    counts: &[usize],
    sz: &Sizes,
    data: &BenchData,
    device: &B::Device,
    rng: &mut ChaCha8Rng,
) -> Result<(Check, f64)> {
    let mut alpha_times = Vec::new();
    let mut acc_sum = 0.0;
    for rep in 0..=sz.alpha_reps {
        let (images, labels) = &data.valid[rep % data.valid.len()];
        let started = Instant::now();
        let x = Tensor::<B::InnerBackend, 4>::from_data(images.clone(), device);
        let y = Tensor::<B::InnerBackend, 1, Int>::from_data(labels.clone(), device);
        for _ in 0..SAMPLES {
            let p = Path::SinglePath(random_choice(counts, rng));
            let logits = net.forward_path(x.clone(), &p)?;
            acc_sum += count_correct(logits, y.clone()).into_scalar().elem::<f64>();
        }
        if rep > 0 {
            alpha_times.push(started.elapsed().as_secs_f64());
        }
    }
    let n = alpha_times.len();
    let alpha_s = median(&mut alpha_times);
    let mut c = Check::new("alpha-update", format!("stage{}", stage.index))
        .num("M", SAMPLES as f64)
        .num("batch", sz.bench_batch as f64)
        .num("cells", stage.cells as f64)
        .num("update_ms", alpha_s * 1e3)
        .num("per_sample_ms", alpha_s * 1e3 / SAMPLES as f64)
        .num("reps", n as f64);
    c.pass = alpha_s.is_finite() && acc_sum.is_finite();
    Ok((c, alpha_s))
}

/// One weight step of the supernet on `batch` along `path`: forward, loss, accuracy,
/// backward, clip 5, SGD at lr 0.04; `probe` samples memory after the forward and the
/// backward. Returns the stepped model and the loss.
fn weight_step<B: AutodiffBackend>(
    model: DartsSuperNet<B>,
    optim: &mut Sgd<DartsSuperNet<B>, B>,
    (images, labels): &(TensorData, TensorData),
    path: &Path,
    device: &B::Device,
    probe: &mut dyn FnMut(),
) -> Result<(DartsSuperNet<B>, f64)> {
    let x = Tensor::<B, 4>::from_data(images.clone(), device);
    let y = Tensor::<B, 1, Int>::from_data(labels.clone(), device);
    let logits = model.forward_path(x, path)?;
    let loss = CrossEntropyLossConfig::new()
        .init(device)
        .forward(logits.clone(), y.clone());
    let value = loss.clone().into_scalar().elem::<f64>();
    let _correct = count_correct(logits, y).into_scalar().elem::<f64>();
    probe();
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    probe();
    clip_grad_norm(&model, &mut grads, 5.0);
    Ok((optim.step(0.04, model, grads), value))
}

/// The timing record of one stage's weight steps.
fn step_check(stage: Stage, weighted: bool, sz: &Sizes, step_s: f64, n: usize, loss: f64) -> Check {
    let mode = if weighted { "weighted" } else { "single-path" };
    Check::new("step", format!("stage{} {mode}", stage.index))
        .num("C", sz.bench_channels as f64)
        .num("cells", stage.cells as f64)
        .text("ops", format!("{}/{}", stage.normal_ops, stage.reduce_ops))
        .num("batch", sz.bench_batch as f64)
        .num("step_ms", step_s * 1e3)
        .num("images_per_s", sz.bench_batch as f64 / step_s)
        .num("timed_steps", n as f64)
        .num("loss", loss)
}

fn memory_fields(c: Check, gpu: bool, in_use: u64, reserved: u64) -> Check {
    if gpu && reserved > 0 {
        c.num("gpu_mem_in_use_mib", mib(in_use))
            .num("gpu_mem_reserved_mib", mib(reserved))
    } else {
        let rss = tnd_nas::search::peak_memory_bytes().map_or(f64::NAN, mib);
        let c = c.num("process_peak_rss_mib", rss);
        if gpu {
            c.text("gpu_mem", "unavailable")
        } else {
            c
        }
    }
}

/// GPU-hours of a paper-preset search from per-stage step and alpha-update times.
fn projected_hours(t: &[Timing; 3]) -> (f64, [f64; 3]) {
    let steps = EPOCHS * STEPS_PER_EPOCH;
    let updates = (EPOCHS - WARMUP_EPOCHS) * STEPS_PER_EPOCH / ALPHA_EVERY;
    let per_stage: [f64; 3] = std::array::from_fn(|i| {
        (steps * t[i].step_s + updates * t[i].alpha_s.unwrap_or(0.0)) / 3600.0
    });
    (per_stage.iter().sum(), per_stage)
}

fn bench_checks<B: AutodiffBackend>(
    sz: &Sizes,
    device: &B::Device,
    mem: MemProbe<'_>,
    gpu: bool,
    emit: &mut dyn FnMut(Check),
) {
    let data = match bench_data(sz.bench_batch, 4) {
        Ok(d) => d,
        Err(e) => {
            emit(Check::failed("step", "data", &format!("{e:#}")));
            return;
        }
    };
    let mut weighted: [Option<Timing>; 3] = [None; 3];
    let mut single: [Option<Timing>; 3] = [None; 3];
    for stage in stages(sz) {
        for w in [true, false] {
            let label = format!(
                "stage{} {}",
                stage.index,
                if w { "weighted" } else { "single-path" }
            );
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                bench_stage::<B>(stage, w, sz, &data, device, mem, gpu)
            }));
            match result {
                Ok(Ok((step, alpha, timing))) => {
                    emit(step);
                    if let Some(a) = alpha {
                        emit(a);
                    }
                    if w {
                        weighted[stage.index - 1] = Some(timing);
                    } else {
                        single[stage.index - 1] = Some(timing);
                    }
                }
                Ok(Err(e)) => emit(Check::failed("step", label, &format!("{e:#}"))),
                Err(_) => emit(Check::failed(
                    "step",
                    label,
                    &format!("panicked: {}", take_panics()),
                )),
            }
        }
    }
    let sizes = if sz.bench_cells == [5, 11, 17] && sz.bench_channels == 16 && sz.bench_batch == 64
    {
        "paper"
    } else {
        "quick-not-paper"
    };
    for (mode, t) in [("weighted", weighted), ("single-path", single)] {
        let label = format!("{mode} sizes={sizes}");
        let Some(t) = t.iter().copied().collect::<Option<Vec<Timing>>>() else {
            emit(Check::failed(
                "projection",
                label,
                "a stage benchmark failed",
            ));
            continue;
        };
        // Single-path training uses the alpha-update times measured on the same stage.
        let t: [Timing; 3] = std::array::from_fn(|i| Timing {
            step_s: t[i].step_s,
            alpha_s: weighted[i].and_then(|w| w.alpha_s),
        });
        let (hours, per) = projected_hours(&t);
        let mut c = Check::new("projection", label)
            .num(if gpu { "gpu_hours" } else { "cpu_hours" }, hours)
            .num("stage1_h", per[0])
            .num("stage2_h", per[1])
            .num("stage3_h", per[2])
            .num("paper_gpu_hours", PAPER_GPU_DAYS * 24.0)
            .text("paper", "1.3_GPU-days_GTX1080Ti")
            .num("ratio_to_paper", hours / (PAPER_GPU_DAYS * 24.0));
        c.pass = hours.is_finite();
        emit(c);
    }
}

fn run<D: Backend, R: Backend>(
    opts: &Opts,
    names: (&str, &str),
    dd: &D::Device,
    rd: &R::Device,
    mem: MemProbe<'_>,
) -> Result<i32> {
    let started = Instant::now();
    let sz = Sizes::new(opts.quick, opts.steps);
    let tol = Tol::for_device(opts.device, opts);
    println!(
        "# gpu_check device={} ({}) reference={} sizes={} tol_out={} tol_grad={}",
        names.0,
        D::name(dd),
        names.1,
        if opts.quick { "quick" } else { "full" },
        tol.out,
        tol.grad
    );
    let mut checks: Vec<Check> = Vec::new();
    let mut emit = |c: Check| {
        println!("{}", c.line());
        checks.push(c);
    };
    if opts.parity {
        parity_checks::<D, R>(&sz, tol, dd, rd, &mut emit);
    }
    if opts.bench {
        let gpu = opts.device == DeviceKind::Cuda;
        bench_checks::<Autodiff<D>>(&sz, dd, mem, gpu, &mut emit);
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    let wall = started.elapsed().as_secs_f64();
    println!(
        "# RESULT checks={} failed={failed} wall_s={wall:.1}",
        checks.len()
    );
    if let Some(path) = &opts.out {
        let doc = json!({
            "device": names.0,
            "device_backend": D::name(dd),
            "reference": names.1,
            "sizes": if opts.quick { "quick" } else { "full" },
            "tolerances": {"out": tol.out, "grad": tol.grad},
            "checks": checks.iter().map(Check::to_json).collect::<Vec<_>>(),
            "failed": failed,
            "wall_s": wall,
            "summary": checks.iter().map(|c| (format!("{} {}", c.name, c.label), if c.pass { "PASS" } else { "FAIL" })).collect::<BTreeMap<_, _>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

#[cfg(feature = "cuda")]
mod cuda {
    use super::*;
    pub type CudaB = burn::backend::Cuda<f32, i32>;
    pub use burn::backend::cuda::CudaDevice;

    /// Creates the device and runs one kernel, turning a panic (no driver, no NVRTC,
    /// no device, no headers) into an error message.
    pub fn probe() -> std::result::Result<CudaDevice, String> {
        let result = panic::catch_unwind(|| {
            let device = CudaDevice::default();
            let t = Tensor::<CudaB, 1>::from_data(TensorData::from([1.0f32, 2.0]), &device);
            let s = t.add_scalar(1.0).sum().into_scalar().elem::<f32>();
            (device, s)
        });
        match result {
            Ok((device, s)) if (s - 5.0).abs() < 1e-5 => Ok(device),
            Ok((_, s)) => Err(format!("a test kernel returned {s} instead of 5")),
            Err(_) => Err(take_panics()),
        }
    }

    /// (bytes in use, bytes reserved) of the cubecl memory pools of `device`.
    pub fn memory(device: &CudaDevice) -> Option<(u64, u64)> {
        panic::catch_unwind(|| {
            let t = Tensor::<CudaB, 1>::zeros([1], device);
            let usage = t.into_primitive().tensor().client.memory_usage().ok()?;
            Some((usage.bytes_in_use, usage.bytes_reserved))
        })
        .ok()
        .flatten()
    }
}

fn main() {
    install_quiet_panic_hook();
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    let result = match opts.device {
        DeviceKind::Cpu => run::<Flex, NdArray>(
            &opts,
            ("cpu-flex", "cpu-ndarray"),
            &Default::default(),
            &Default::default(),
            &|| None,
        ),
        DeviceKind::Cuda => run_cuda(&opts),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            std::process::exit(2);
        }
    }
}

#[cfg(feature = "cuda")]
fn run_cuda(opts: &Opts) -> Result<i32> {
    let device = match cuda::probe() {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("error: no CUDA device available: {msg}");
            std::process::exit(2);
        }
    };
    let mem_device = device.clone();
    run::<cuda::CudaB, NdArray>(
        opts,
        ("cuda", "cpu-ndarray"),
        &device,
        &Default::default(),
        &move || cuda::memory(&mem_device),
    )
}

#[cfg(not(feature = "cuda"))]
fn run_cuda(_opts: &Opts) -> Result<i32> {
    eprintln!(
        "error: this binary was built without the cuda feature; rebuild with --features cuda"
    );
    std::process::exit(2);
}
