//! Retraining from scratch: a short run on the bundled Fashion-MNIST sample learns,
//! runs are reproducible, the global gradient clip works, bad configurations are
//! rejected naming the field, and saved weights load back.
//!
//! Run with `cargo test --release --test retrain`. The runs use 14x14 images (the
//! 28x28 sample averaged over 2x2 blocks) and C = 8 so that they take seconds on a CPU.

use std::sync::Mutex;

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::nn::LinearConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Distribution, ElementConversion, Tensor};
use tnd_nas::Genotype;
use tnd_nas::data::{FashionMnistSample, ImageDataset, ImageShape, Normalization};
use tnd_nas::spaces::darts::EvalNetworkConfig;
use tnd_nas::train::{
    RetrainConfig, RetrainError, RetrainEvent, RetrainOutcome, clip_grad_norm, evaluate_accuracy,
    grad_norm, load_model, retrain, save_model,
};

type Inner = Flex;
type B = Autodiff<Inner>;

/// DARTS V2 (DARTS paper, second order).
const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

/// Flex's random state is process-wide: a test drawing random tensors while a run
/// trains would change that run. The runs are CPU-bound anyway: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn genotype() -> Genotype {
    DARTS_V2.parse().unwrap()
}

/// Averages 2x2 blocks: 1x28x28 -> 1x14x14.
fn halve(data: &ImageDataset) -> ImageDataset {
    let (h, w) = (data.height() / 2, data.width() / 2);
    let mut pixels = Vec::with_capacity(data.len() * h * w);
    for i in 0..data.len() {
        let img = data.image(i).unwrap();
        for y in 0..h {
            for x in 0..w {
                let at =
                    |dy: usize, dx: usize| u32::from(img[(2 * y + dy) * data.width() + 2 * x + dx]);
                pixels.push(((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1) + 2) / 4) as u8);
            }
        }
    }
    ImageDataset::new(
        format!("{}@14", data.name()),
        ImageShape::new(1, h, w),
        data.num_classes(),
        pixels,
        data.labels().to_vec(),
    )
    .unwrap()
}

/// The sample's search part for training and the first `test_len` images of its
/// held-out part for testing, at 14x14.
fn data(test_len: usize) -> (ImageDataset, ImageDataset) {
    let (search, holdout) = FashionMnistSample::search_and_holdout().unwrap();
    let holdout = holdout.subset(&(0..test_len).collect::<Vec<_>>()).unwrap();
    (halve(&search), halve(&holdout))
}

/// The quick protocol: C = 8, 5 cells, 3 epochs of 20 steps of batch 32, every
/// ingredient of the full protocol on (auxiliary head, drop-path, cutout, crop, flip,
/// clip), evaluation after the last epoch only.
fn quick() -> RetrainConfig {
    RetrainConfig::default()
        .with_channels(8)
        .with_layers(5)
        .with_epochs(3)
        .with_batch_size(32)
        .with_cutout(Some(4))
        .with_crop_padding(1)
        .with_drop_path(0.1)
        .with_max_steps_per_epoch(Some(20))
        .with_eval_every(0)
}

fn run(config: &RetrainConfig, test_len: usize) -> (RetrainOutcome<B>, Vec<RetrainEvent>) {
    let (train, test) = data(test_len);
    let mut events = Vec::new();
    let outcome = retrain::<B>(
        config,
        &genotype(),
        train,
        test,
        &Normalization::fashion_mnist(),
        &Default::default(),
        &mut |e| events.push(e),
    )
    .unwrap();
    (outcome, events)
}

#[test]
fn a_short_retrain_beats_chance_by_far() {
    let _guard = serial();
    let config = quick();
    let (outcome, events) = run(&config, 500);
    let report = &outcome.report;
    eprintln!(
        "short retrain: test {:.1}%, train {:.1}%, {:.1}s wall, {:.0} images/s",
        report.test_accuracy,
        report.train_accuracy,
        report.wall_seconds,
        report.history[2].images_per_sec
    );
    // Chance is 10%; seeds 0..4 give 62..68% on one machine.
    assert!(
        report.test_accuracy > 40.0,
        "test accuracy {}",
        report.test_accuracy
    );
    assert_eq!(
        (report.epochs, report.steps, report.history.len()),
        (3, 60, 3)
    );
    let plain = EvalNetworkConfig::new(8, 5, 10).with_in_channels(1);
    assert_eq!(report.params, plain.param_count(&genotype()));
    let with_aux = plain.with_auxiliary(true);
    assert_eq!(
        report.params_with_auxiliary,
        with_aux.param_count(&genotype())
    );
    assert_eq!(report.network, with_aux);
    for (e, record) in report.history.iter().enumerate() {
        assert_eq!(record.epoch, e);
        assert_eq!(record.lr, config.lr_at(e));
        assert_eq!(record.drop_path, config.drop_path_at(e));
        assert_eq!((record.steps, record.images), (20, 20 * 32));
        assert_eq!(
            record.test_accuracy.is_some(),
            e == 2,
            "only the last epoch is evaluated"
        );
        assert!(record.loss.is_finite() && record.images_per_sec > 0.0);
    }
    assert_eq!(Some(report.test_accuracy), report.history[2].test_accuracy);
    assert_eq!(report.train_accuracy, report.history[2].train_accuracy);
    assert!(
        report.history[2].loss < report.history[0].loss,
        "{:?}",
        report.history
    );
    // Events: started, 60 steps with a gradient norm, 3 epochs.
    assert!(matches!(
        events[0],
        RetrainEvent::Started {
            steps_per_epoch: 20,
            epochs: 3,
            ..
        }
    ));
    let steps = events
        .iter()
        .filter(|e| matches!(e, RetrainEvent::Step { grad_norm: Some(n), .. } if n.is_finite()))
        .count();
    let epochs = events
        .iter()
        .filter(|e| matches!(e, RetrainEvent::Epoch(_)))
        .count();
    assert_eq!((steps, epochs), (60, 3));
    // The standalone evaluation agrees with the report, whatever the batch size.
    let (_, test) = data(500);
    let again = evaluate_accuracy(
        &outcome.model.valid(),
        test,
        &Normalization::fashion_mnist(),
        100,
        &Default::default(),
    )
    .unwrap();
    assert!((again - report.test_accuracy).abs() < 1e-9, "{again}");
    // The report is JSON with the documented top-level fields.
    let json: serde_json::Value = serde_json::to_value(report).unwrap();
    for key in [
        "test_accuracy",
        "params",
        "epochs",
        "wall_seconds",
        "history",
    ] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
    let back: tnd_nas::train::RetrainReport = serde_json::from_value(json).unwrap();
    assert_eq!(
        (back.params, back.steps, back.network),
        (report.params, 60, report.network.clone())
    );
}

/// Flex is deterministic (checked here within one process; separate processes on one
/// machine gave the same numbers too); the test compares whole reports, timings aside.
#[test]
fn the_same_seed_gives_the_same_report() {
    let _guard = serial();
    let config = quick().with_epochs(2).with_max_steps_per_epoch(Some(3));
    let (a, _) = run(&config, 100);
    let (b, _) = run(&config, 100);
    assert_eq!(a.report.without_timings(), b.report.without_timings());
    let (c, _) = run(&config.clone().with_seed(1), 100);
    assert_ne!(
        a.report.history[0].loss, c.report.history[0].loss,
        "another seed gives another run"
    );
}

#[test]
fn a_saved_model_loads_back_with_the_same_logits() {
    let _guard = serial();
    let config = quick().with_epochs(1).with_max_steps_per_epoch(Some(2));
    let (outcome, _) = run(&config, 50);
    let dir = std::env::temp_dir().join(format!("tnd-nas-retrain-test-{}", std::process::id()));
    let model = outcome.model.valid();
    let path = save_model(&model, &dir).unwrap();
    assert!(path.ends_with("model.mpk") && path.is_file());
    let genotype: Genotype = outcome.report.genotype.parse().unwrap();
    let device = Default::default();
    let loaded = load_model::<Inner>(&outcome.report.network, &genotype, &dir, &device).unwrap();
    let x = Tensor::<Inner, 4>::random([5, 1, 14, 14], Distribution::Normal(0.0, 1.0), &device);
    let expected = model.forward(x.clone()).into_data();
    assert_eq!(loaded.forward(x).into_data(), expected);
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = load_model::<Inner>(&outcome.report.network, &genotype, &dir, &device);
    assert!(
        matches!(missing, Err(RetrainError::Record { ref path, .. }) if path.ends_with("model.mpk")),
        "{missing:?}"
    );
}

#[test]
fn a_diverging_run_stops_with_an_error_naming_epoch_and_step() {
    let _guard = serial();
    let config = quick()
        .with_epochs(1)
        .with_lr(1e30)
        .with_grad_clip(None)
        .with_max_steps_per_epoch(Some(4));
    let (train, test) = data(50);
    let err = retrain::<B>(
        &config,
        &genotype(),
        train,
        test,
        &Normalization::fashion_mnist(),
        &Default::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, RetrainError::NonFiniteLoss { epoch: 0, step, .. } if step > 0),
        "{err:?}"
    );
    assert!(err.to_string().contains("epoch 0, step"), "{err}");
}

#[test]
fn the_global_clip_bounds_the_norm_and_keeps_the_direction() {
    let _guard = serial();
    let device = Default::default();
    let a = LinearConfig::new(6, 4).init::<B>(&device);
    let x = Tensor::<B, 2>::random([8, 6], Distribution::Normal(0.0, 3.0), &device);
    let loss = a.forward(x).powi_scalar(2).sum();
    let before = GradientsParams::from_grads(loss.backward(), &a);
    let norm = grad_norm(&a, &before);
    assert!(norm > 1.0, "{norm}");
    // The global norm is the norm of all gradients together, not per tensor.
    let sq = |g: Option<Tensor<Inner, 2>>| {
        g.map_or(0.0, |g| g.powi_scalar(2).sum().into_scalar().elem::<f64>())
    };
    let sq1 = |g: Option<Tensor<Inner, 1>>| {
        g.map_or(0.0, |g| g.powi_scalar(2).sum().into_scalar().elem::<f64>())
    };
    let w_id = a.weight.id;
    let b_id = a.bias.as_ref().unwrap().id;
    let by_hand = (sq(before.get(w_id)) + sq1(before.get(b_id))).sqrt();
    assert!((by_hand - norm).abs() < 1e-4 * norm, "{by_hand} vs {norm}");

    let mut grads = GradientsParams::new();
    grads.register(w_id, before.get::<Inner, 2>(w_id).unwrap());
    grads.register(b_id, before.get::<Inner, 1>(b_id).unwrap());
    let max = norm / 4.0;
    let reported = clip_grad_norm(&a, &mut grads, max);
    assert_eq!(reported, norm);
    let after = grad_norm(&a, &grads);
    assert!(after <= max * (1.0 + 1e-5), "{after} > {max}");
    assert!(after > max * 0.999, "{after} much below {max}");
    // Every gradient is scaled by the same factor: the direction is kept.
    let ratio = |id, d: usize| -> Vec<f32> {
        if d == 2 {
            let b: Vec<f32> = before
                .get::<Inner, 2>(id)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            let g: Vec<f32> = grads
                .get::<Inner, 2>(id)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            b.iter()
                .zip(&g)
                .filter(|(b, _)| b.abs() > 1e-3)
                .map(|(b, g)| g / b)
                .collect()
        } else {
            let b: Vec<f32> = before
                .get::<Inner, 1>(id)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            let g: Vec<f32> = grads
                .get::<Inner, 1>(id)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            b.iter()
                .zip(&g)
                .filter(|(b, _)| b.abs() > 1e-3)
                .map(|(b, g)| g / b)
                .collect()
        }
    };
    let factor = (max / (norm + 1e-6)) as f32;
    for r in ratio(w_id, 2).into_iter().chain(ratio(b_id, 1)) {
        assert!((r - factor).abs() < 1e-4 * factor, "{r} vs {factor}");
    }
    // Below the limit nothing changes.
    let untouched = grad_norm(&a, &grads);
    assert_eq!(clip_grad_norm(&a, &mut grads, 10.0 * norm), untouched);
    assert_eq!(grad_norm(&a, &grads), untouched);
}

#[test]
fn bad_configurations_are_typed_errors_naming_the_field() {
    let _guard = serial();
    let base = quick();
    let cases: Vec<(&str, RetrainConfig)> = vec![
        ("epochs", base.clone().with_epochs(0)),
        ("batch_size", base.clone().with_batch_size(0)),
        ("channels", base.clone().with_channels(0)),
        ("layers", base.clone().with_layers(0)),
        ("workers", base.clone().with_workers(0)),
        ("lr", base.clone().with_lr(-0.1)),
        ("lr", base.clone().with_lr(f64::NAN)),
        ("lr_min", base.clone().with_lr_min(1.0)),
        ("momentum", base.clone().with_momentum(1.0)),
        ("weight_decay", base.clone().with_weight_decay(-1e-4)),
        ("grad_clip", base.clone().with_grad_clip(Some(0.0))),
        ("drop_path", base.clone().with_drop_path(1.0)),
        (
            "auxiliary_weight",
            base.clone().with_auxiliary_weight(f64::INFINITY),
        ),
        ("cutout", base.clone().with_cutout(Some(0))),
        (
            "max_steps_per_epoch",
            base.clone().with_max_steps_per_epoch(Some(0)),
        ),
    ];
    let (train, test) = data(50);
    for (field, config) in cases {
        let err = config.validate().unwrap_err();
        assert!(
            matches!(err, RetrainError::InvalidConfig { field: f, .. } if f == field),
            "{field}: {err:?}"
        );
        assert!(err.to_string().contains(field), "{err}");
        // `retrain` checks before any work.
        let err = retrain::<B>(
            &config,
            &genotype(),
            train.clone(),
            test.clone(),
            &Normalization::fashion_mnist(),
            &Default::default(),
            &mut |_| panic!("no event before the configuration is checked"),
        )
        .unwrap_err();
        assert!(matches!(err, RetrainError::InvalidConfig { .. }), "{err:?}");
    }
    assert_eq!(RetrainConfig::default().validate(), Ok(()));
    // Datasets that do not fit together, and a normalisation of the wrong width.
    let (search, _) = FashionMnistSample::search_and_holdout().unwrap();
    for (test, normalization) in [
        (search, Normalization::fashion_mnist()),
        (test.clone(), Normalization::cifar10()),
    ] {
        let err = retrain::<B>(
            &base,
            &genotype(),
            train.clone(),
            test,
            &normalization,
            &Default::default(),
            &mut |_| panic!("no event for unusable data"),
        )
        .unwrap_err();
        assert!(matches!(err, RetrainError::Data(_)), "{err:?}");
    }
}

#[test]
fn the_default_is_the_paper_protocol_and_serialises() {
    let c = RetrainConfig::default();
    assert_eq!(
        (c.channels, c.layers, c.epochs, c.batch_size),
        (36, 20, 600, 128)
    );
    assert_eq!(
        (c.sgd.lr, c.sgd.lr_min, c.sgd.momentum, c.sgd.weight_decay),
        (0.025, 0.0, 0.9, 3e-4)
    );
    assert_eq!(
        (
            c.sgd.grad_clip,
            c.drop_path,
            c.auxiliary,
            c.auxiliary_weight
        ),
        (Some(5.0), 0.3, true, 0.4)
    );
    assert_eq!((c.cutout, c.crop_padding), (Some(16), 4));
    assert_eq!(c.lr_at(0), 0.025);
    assert!((c.lr_at(300) - 0.0125).abs() < 1e-12);
    assert!(c.lr_at(599) > 0.0 && c.lr_at(599) < 1e-6);
    assert_eq!(c.drop_path_at(0), 0.0);
    assert!((c.drop_path_at(300) - 0.15).abs() < 1e-12);
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<RetrainConfig>(&json).unwrap(), c);
    // Missing fields take their defaults.
    let partial: RetrainConfig = serde_json::from_str(r#"{"epochs": 50, "channels": 16}"#).unwrap();
    assert_eq!(partial, c.with_epochs(50).with_channels(16));
}
