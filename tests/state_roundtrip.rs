//! Serialised updater and schedule state continue exactly as the originals.

use tnd_nas::policy::{ReinforceUpdater, UpdaterConfig};
use tnd_nas::schedule::{AlphaInit, ShrinkSchedule, ShrinkScheduleConfig};
use tnd_nas::spaces::darts::DartsSpaceConfig;
use tnd_nas::{Architecture, OpKind, SearchSpace};

fn score(arch: &Architecture) -> f64 {
    arch.ops()
        .iter()
        .enumerate()
        .map(|(e, op)| match op {
            OpKind::SepConv3x3 => 1.0 + 0.01 * e as f64,
            OpKind::SkipConnect => 0.5,
            OpKind::None => -0.3,
            _ => 0.1,
        })
        .sum()
}

/// `steps` updates, then a stage change; returns every sample drawn.
fn advance(
    updater: &mut ReinforceUpdater,
    schedule: &mut ShrinkSchedule,
    steps: usize,
) -> Vec<Architecture> {
    let mut drawn = Vec::new();
    for _ in 0..steps {
        let samples = updater.sample();
        let rewards: Vec<f64> = samples.iter().map(score).collect();
        updater.update(&samples, &rewards).unwrap();
        drawn.extend(samples);
    }
    if !schedule.is_finished() {
        schedule.shrink(&updater.probabilities()).unwrap();
        updater
            .begin_stage(schedule.active().to_vec(), schedule.carries_alpha())
            .unwrap();
    }
    drawn
}

#[test]
fn restored_updater_and_schedule_have_identical_futures() {
    let space = DartsSpaceConfig::darts().init().unwrap();
    for alpha_init in [AlphaInit::Fresh, AlphaInit::Carried] {
        let mut schedule = ShrinkScheduleConfig::paper_darts()
            .with_alpha_init(alpha_init)
            .init(&space)
            .unwrap();
        let mut updater = UpdaterConfig::new()
            .with_lr(0.05)
            .with_entropy_weight(1e-3)
            .init(space.all_candidates(), 99)
            .unwrap();
        advance(&mut updater, &mut schedule, 7);
        // Mid-stage checkpoint: Adam moments, baseline and RNG are all non-trivial.
        for _ in 0..3 {
            let s = updater.sample();
            let r: Vec<f64> = s.iter().map(score).collect();
            updater.update(&s, &r).unwrap();
        }
        let u_json = serde_json::to_string(&updater).unwrap();
        let s_json = serde_json::to_string(&schedule).unwrap();
        let mut u2: ReinforceUpdater = serde_json::from_str(&u_json).unwrap();
        let mut s2: ShrinkSchedule = serde_json::from_str(&s_json).unwrap();
        assert_eq!(u2, updater);
        assert_eq!(s2, schedule);
        for _ in 0..2 {
            let a = advance(&mut updater, &mut schedule, 5);
            let b = advance(&mut u2, &mut s2, 5);
            assert_eq!(a, b);
        }
        assert_eq!(u2, updater);
        for (x, y) in updater
            .policy()
            .alpha()
            .iter()
            .flatten()
            .zip(u2.policy().alpha().iter().flatten())
        {
            assert_eq!(x.to_bits(), y.to_bits());
        }
        assert_eq!(s2, schedule);
        assert!(schedule.is_finished());
        assert_eq!(schedule.final_architecture(), s2.final_architecture());
        assert!(schedule.final_architecture().is_some());
    }
}

#[test]
fn serialised_state_is_readable_json() {
    let updater = UpdaterConfig::new()
        .init(vec![vec![OpKind::None, OpKind::SkipConnect]], 1)
        .unwrap();
    let v: serde_json::Value = serde_json::to_value(&updater).unwrap();
    assert_eq!(v["config"]["samples"], 10);
    assert!(v["policy"]["alpha"][0][0].is_string());
    assert_eq!(v["baseline"], serde_json::Value::Null);
}
