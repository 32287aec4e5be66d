//! Updater + schedule on synthetic objectives with a known optimum (DARTS space).

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tnd_nas::objective::{
    Direction, EvalNetworkSpec, MnasReward, Objective, ObjectiveContext, ObjectiveError,
    ParamCount, Reward, WeightedSum,
};
use tnd_nas::schedule::ShrinkScheduleConfig;
use tnd_nas::search::{Search, SearchResult, TableSearchConfig};
use tnd_nas::spaces::darts::{DartsNetworkSpec, DartsSpace, DartsSpaceConfig, EvalNetworkConfig};
use tnd_nas::{Architecture, OpKind, SearchSpace};

fn run(
    cfg: &TableSearchConfig,
    space: &DartsSpace,
    network: Option<Arc<dyn EvalNetworkSpec>>,
    objectives: Vec<Box<dyn Objective>>,
    reward: impl Reward + 'static,
) -> SearchResult {
    let mut search = Search::builder(space.clone())
        .objectives(objectives)
        .reward(reward)
        .build_table(cfg.clone())
        .unwrap();
    if let Some(n) = network {
        search = search.with_network(n);
    }
    search.run(&mut []).unwrap()
}

/// A synthetic "accuracy": a value per (edge, op), the best op of each edge known.
struct Planted {
    values: Vec<Vec<f64>>,
    ops: Vec<Vec<OpKind>>,
}

impl Planted {
    fn random(space: &DartsSpace, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let ops = space.all_candidates();
        // Values in [0, 1); one op per edge planted 0.3 above the edge's best other op.
        let values = ops
            .iter()
            .map(|o| {
                let mut v: Vec<f64> = o.iter().map(|_| rng.random_range(0.0..1.0)).collect();
                let k = rng.random_range(0..v.len());
                v[k] = v.iter().copied().fold(0.0, f64::max) + 0.3;
                v
            })
            .collect();
        Self { values, ops }
    }

    /// Values that grow with an op's parameter cost, so accuracy prefers big networks.
    fn favouring_big_ops(space: &DartsSpace) -> Self {
        let ops = space.all_candidates();
        let values = ops
            .iter()
            .map(|o| {
                o.iter()
                    .map(|op| match op {
                        OpKind::SepConv5x5 => 1.0,
                        OpKind::SepConv3x3 => 0.9,
                        OpKind::DilConv5x5 => 0.8,
                        OpKind::DilConv3x3 => 0.7,
                        OpKind::SkipConnect => 0.5,
                        OpKind::None => 0.0,
                        _ => 0.4,
                    })
                    .collect()
            })
            .collect();
        Self { values, ops }
    }

    fn optimum(&self) -> Architecture {
        Architecture::new(
            self.values
                .iter()
                .zip(&self.ops)
                .map(|(v, o)| {
                    let best = (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
                    o[best]
                })
                .collect(),
        )
    }
}

impl Objective for Planted {
    fn name(&self) -> &str {
        "accuracy"
    }
    fn direction(&self) -> Direction {
        Direction::Maximise
    }
    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        ctx.space.validate(arch)?;
        Ok(50.0
            + arch
                .ops()
                .iter()
                .enumerate()
                .map(|(e, op)| self.values[e][self.ops[e].iter().position(|o| o == op).unwrap()])
                .sum::<f64>())
    }
}

#[test]
fn known_optimum_found_for_most_seeds() {
    let space = DartsSpaceConfig::darts().init().unwrap();
    let reward = WeightedSum::new(vec![1.0]).unwrap();
    let cfg = TableSearchConfig::new(3000).with_schedule(ShrinkScheduleConfig::paper_darts());
    let mut found = 0;
    for seed in 0..5 {
        let planted = Planted::random(&space, 100 + seed);
        let optimum = planted.optimum();
        let objectives: Vec<Box<dyn Objective>> = vec![Box::new(planted)];
        let result = run(
            &cfg.clone().with_seed(seed),
            &space,
            None,
            objectives,
            reward.clone(),
        );
        let correct = result
            .final_architecture
            .architecture
            .ops()
            .iter()
            .zip(optimum.ops())
            .filter(|(a, b)| a == b)
            .count();
        assert!(
            correct >= 26,
            "seed {seed}: only {correct} of 28 edges optimal"
        );
        found += usize::from(result.final_architecture.architecture == optimum);
    }
    assert!(found >= 4, "optimum found for {found} of 5 seeds");
}

#[test]
fn strong_parameter_penalty_gives_smaller_darts_networks() {
    let space = DartsSpaceConfig::darts().init().unwrap();
    let spec: Arc<dyn EvalNetworkSpec> = Arc::new(DartsNetworkSpec::new(
        space.clone(),
        EvalNetworkConfig::new(16, 8, 10),
    ));
    let cfg = TableSearchConfig::new(1500).with_schedule(ShrinkScheduleConfig::paper_darts());
    let objectives = || -> Vec<Box<dyn Objective>> {
        vec![
            Box::new(Planted::favouring_big_ops(&space)),
            Box::new(ParamCount::new().in_millions()),
        ]
    };
    for seed in 0..3 {
        let cfg = cfg.clone().with_seed(seed);
        let free = run(
            &cfg,
            &space,
            Some(spec.clone()),
            objectives(),
            MnasReward::new(vec![0.5], vec![0.0]).unwrap(),
        );
        let penalised = run(
            &cfg,
            &space,
            Some(spec.clone()),
            objectives(),
            MnasReward::new(vec![0.1], vec![-2.0]).unwrap(),
        );
        let (f, p) = (
            free.final_values[1].unwrap(),
            penalised.final_values[1].unwrap(),
        );
        assert!(
            p < 0.7 * f,
            "seed {seed}: {p} M with penalty vs {f} M without"
        );
        assert!(penalised.final_values[0].unwrap() < free.final_values[0].unwrap());
    }
}
