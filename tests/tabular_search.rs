//! Tabular search on a generated NAS-Bench-201 table with a planted landscape.

use std::str::FromStr;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tnd_nas::objective::{
    CsvTable, Direction, EvalNetworkSpec, MnasReward, NB201_CIFAR10_ACCURACY, Objective,
    ObjectiveContext, ObjectiveError, ParamCount, Reward, Tabular, TabularTable, WeightedSum,
};
use tnd_nas::policy::UpdaterConfig;
use tnd_nas::schedule::ShrinkScheduleConfig;
use tnd_nas::scoring::FnEvaluator;
use tnd_nas::search::{
    Control, Search, SearchError, SearchEvent, SearchObserver, SearchResult, TableSearchConfig,
};
use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};
use tnd_nas::strategy::StrategyConfig;
use tnd_nas::{Architecture, OpKind, SearchSpace};

fn try_run(
    cfg: &TableSearchConfig,
    network: Option<Arc<dyn EvalNetworkSpec>>,
    objectives: Vec<Box<dyn Objective>>,
    reward: impl Reward + 'static,
) -> Result<SearchResult, SearchError> {
    let mut search = Search::builder(Nb201Space::new())
        .objectives(objectives)
        .reward(reward)
        .build_table(cfg.clone())?;
    if let Some(n) = network {
        search = search.with_network(n);
    }
    search.run(&mut [])
}

fn run(
    cfg: &TableSearchConfig,
    network: Option<Arc<dyn EvalNetworkSpec>>,
    objectives: Vec<Box<dyn Objective>>,
    reward: impl Reward + 'static,
) -> SearchResult {
    try_run(cfg, network, objectives, reward).unwrap()
}

/// Every NB201 architecture (15,625), in op-index order.
fn all_archs(space: &Nb201Space) -> Vec<Architecture> {
    let ops = space.candidates(0).to_vec();
    (0..5usize.pow(6))
        .map(|mut i| {
            Architecture::new(
                (0..6)
                    .map(|_| {
                        let op = ops[i % 5];
                        i /= 5;
                        op
                    })
                    .collect(),
            )
        })
        .collect()
}

/// A planted landscape: per-edge op values in [0, 6] with the planted op 4 above the
/// edge's best other op, an interaction bonus, and deterministic noise in [-0.5, 0.5].
/// Returns the CSV text and the planted optimum.
fn planted_table(seed: u64) -> (String, Architecture) {
    let space = Nb201Space::new();
    let ops = space.candidates(0).to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut w = vec![[0.0f64; 5]; 6];
    let mut best = Vec::new();
    for row in &mut w {
        for x in row.iter_mut() {
            *x = rng.random_range(0.0..6.0);
        }
        let k = rng.random_range(0..5);
        row[k] = row.iter().cloned().fold(0.0, f64::max) + 4.0;
        best.push(ops[k]);
    }
    let mut text = String::from("arch,acc,loss\n");
    for arch in all_archs(&space) {
        let idx: Vec<usize> = arch
            .ops()
            .iter()
            .map(|o| ops.iter().position(|p| p == o).unwrap())
            .collect();
        let mut acc = 40.0 + idx.iter().enumerate().map(|(e, &k)| w[e][k]).sum::<f64>();
        if arch.ops()[0] == OpKind::NorConv3x3 && arch.ops()[5] == OpKind::NorConv3x3 {
            acc += 1.5;
        }
        acc += rng.random_range(-0.5..0.5);
        text.push_str(&format!(
            "{},{acc:.4},{:.4}\n",
            space.describe(&arch),
            100.0 - acc
        ));
    }
    (text, Architecture::new(best))
}

fn table(seed: u64) -> (Arc<TabularTable>, Architecture) {
    let (text, planted) = planted_table(seed);
    let csv = CsvTable::parse(&text, "planted.csv").unwrap();
    (
        Arc::new(TabularTable::from_csv(csv, "arch").unwrap()),
        planted,
    )
}

fn acc_objective(table: &Arc<TabularTable>) -> Box<dyn Objective> {
    Box::new(Tabular::new(table.clone(), "acc", Direction::Maximise).unwrap())
}

#[test]
fn table_lists_every_architecture_and_the_plant_is_the_optimum() {
    let space = Nb201Space::new();
    let (table, planted) = table(11);
    assert_eq!(table.len(), 15_625);
    let acc = Tabular::new(table.clone(), "acc", Direction::Maximise).unwrap();
    let best = all_archs(&space)
        .into_iter()
        .max_by(|a, b| {
            let v = |x: &Architecture| acc.value_of(&space.describe(x)).unwrap();
            v(a).total_cmp(&v(b))
        })
        .unwrap();
    assert_eq!(best, planted);
    assert_eq!(acc.value_of(&space.describe(&planted)), acc.best());
}

#[test]
fn tnd_finds_the_planted_optimum_and_beats_random_search() {
    let reward = WeightedSum::new(vec![1.0]).unwrap();
    let (table, planted) = table(5);
    let optimum = Tabular::new(table.clone(), "acc", Direction::Maximise)
        .unwrap()
        .best()
        .unwrap();
    let budget = 300;
    let (mut hits, mut tnd_sum, mut random_sum, mut rea_sum) = (0, 0.0, 0.0, 0.0);
    let seeds = 0..10u64;
    let n = seeds.clone().count() as f64;
    for seed in seeds {
        let cfg = TableSearchConfig::new(budget).with_seed(seed);
        let tnd = run(&cfg, None, vec![acc_objective(&table)], reward.clone());
        let random = run(
            &cfg.clone().with_strategy(StrategyConfig::Random),
            None,
            vec![acc_objective(&table)],
            reward.clone(),
        );
        let rea = run(
            &cfg.clone().with_strategy("rea".parse().unwrap()),
            None,
            vec![acc_objective(&table)],
            reward.clone(),
        );
        // Table lookups are exact: every architecture is scored once and repeats are
        // refunded, so random search and evolution spend the whole budget on distinct
        // architectures; TND may stop early once its policy only proposes repeats.
        for r in [&tnd, &random, &rea] {
            assert!(r.sample_count <= budget);
            assert_eq!(r.samples.len(), r.sample_count);
            assert_eq!(r.stages.len(), 1, "one stage by default");
            assert_eq!(
                r.stages.iter().map(|s| s.samples).sum::<usize>(),
                r.sample_count
            );
            let mut distinct: Vec<&str> = r.samples.iter().map(|s| s.arch.as_str()).collect();
            distinct.sort();
            distinct.dedup();
            assert_eq!(
                distinct.len(),
                r.sample_count,
                "an architecture scored twice"
            );
        }
        assert_eq!((random.sample_count, rea.sample_count), (budget, budget));
        assert_eq!(
            (tnd.strategy.as_str(), rea.strategy.as_str()),
            ("tnd", "rea")
        );
        assert!(tnd.stages.iter().all(|s| s.probabilities.len() == 6));
        assert!(random.stages.iter().all(|s| s.probabilities.is_empty()));
        assert!(
            tnd.hypervolume.is_none(),
            "one objective has no hypervolume"
        );
        // The policy is decided when the stage drops ops (6 edges of 5 ops: ln 5 each).
        let last = &tnd.stages[0];
        assert!((last.max_entropy - 6.0 * 5f64.ln()).abs() < 1e-12);
        let h = last.entropy.expect("TND has a policy");
        assert!(
            h < 0.5 * last.max_entropy,
            "entropy {h} of {}",
            last.max_entropy
        );
        assert_eq!(random.stages[0].entropy, None);
        assert!(
            tnd.history.len() >= 30,
            "at least 300 / 10 updates, repeats included: {}",
            tnd.history.len()
        );
        // Random search and evolution return their best-rewarded sample.
        for r in [&random, &rea] {
            assert_eq!(r.best.as_ref().unwrap().arch, r.final_architecture.text);
            assert_eq!(r.best_reward, r.final_reward);
        }
        hits += usize::from(tnd.final_architecture.architecture == planted);
        tnd_sum += tnd.final_values[0].unwrap();
        random_sum += random.final_values[0].unwrap();
        rea_sum += rea.final_values[0].unwrap();
    }
    let (tnd_mean, random_mean, rea_mean) = (tnd_sum / n, random_sum / n, rea_sum / n);
    eprintln!(
        "budget {budget}: TND {tnd_mean:.3}, random {random_mean:.3}, REA {rea_mean:.3}, optimum {optimum:.3}"
    );
    assert!(
        hits >= 7,
        "TND found the planted optimum for only {hits} of 10 seeds"
    );
    assert!(
        optimum - tnd_mean < 1.0,
        "TND mean {tnd_mean} vs optimum {optimum}"
    );
    assert!(
        tnd_mean > random_mean,
        "TND {tnd_mean} did not beat random {random_mean}"
    );
}

#[test]
fn zero_exponent_is_accuracy_and_a_strong_penalty_shrinks_the_network() {
    let spec: Arc<dyn EvalNetworkSpec> =
        Arc::new(Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10)));
    let (table, _) = table(2);
    let objectives = || -> Vec<Box<dyn Objective>> {
        vec![
            acc_objective(&table),
            Box::new(ParamCount::new().in_millions()),
        ]
    };
    let cfg = TableSearchConfig::new(300);
    let (mut free_params, mut penalised_params) = (0.0, 0.0);
    for seed in 0..6 {
        let cfg = cfg.clone().with_seed(seed);
        let net = || Some(spec.clone());
        let zero = MnasReward::new(vec![0.5], vec![0.0]).unwrap();
        let free = run(&cfg, net(), objectives(), zero);
        // Reward = accuracy exactly: the same run as the plain weighted sum of accuracy.
        let plain = run(
            &cfg,
            net(),
            objectives(),
            WeightedSum::new(vec![1.0, 0.0]).unwrap(),
        );
        assert_eq!(free.history, plain.history);
        assert_eq!(free.final_architecture, plain.final_architecture);
        // Two objectives: the front's hypervolume at the samples' nadir, by hand.
        let hv = free.hypervolume.as_ref().expect("two objectives");
        let worst = |k: usize, maximise: bool| {
            let xs = free.samples.iter().map(|s| s.objectives[k]);
            if maximise {
                xs.fold(f64::INFINITY, f64::min)
            } else {
                xs.fold(f64::NEG_INFINITY, f64::max)
            }
        };
        assert_eq!(hv.reference, [worst(0, true), worst(1, false)]);
        let pts: Vec<Vec<f64>> = free.front.iter().map(|s| s.objectives.clone()).collect();
        let dirs = [Direction::Maximise, Direction::Minimise];
        assert_eq!(
            hv.value,
            tnd_nas::objective::hypervolume(&pts, &dirs, &hv.reference).unwrap()
        );
        assert!(hv.value > 0.0);
        let strong = MnasReward::new(vec![0.1], vec![-3.0]).unwrap();
        let penalised = run(&cfg, net(), objectives(), strong);
        let (f, p) = (
            free.final_values[1].unwrap(),
            penalised.final_values[1].unwrap(),
        );
        free_params += f;
        penalised_params += p;
        assert!(p <= f, "seed {seed}: penalised {p} M > free {f} M");
    }
    assert!(
        penalised_params < 0.7 * free_params,
        "{penalised_params} vs {free_params}"
    );
}

#[test]
fn missing_architectures_and_bad_setups_are_errors() {
    let space = Nb201Space::new();
    let text = format!(
        "arch,acc\n{},50\n",
        space.describe(&Architecture::new(vec![OpKind::None; 6]))
    );
    let table = Arc::new(
        TabularTable::from_csv(CsvTable::parse(&text, "tiny.csv").unwrap(), "arch").unwrap(),
    );
    let reward = WeightedSum::new(vec![1.0]).unwrap();
    let err = try_run(
        &TableSearchConfig::new(10),
        None,
        vec![acc_objective(&table)],
        reward.clone(),
    )
    .unwrap_err();
    match err {
        SearchError::Objective(ObjectiveError::MissingArchitecture { file, arch }) => {
            assert_eq!(file, "tiny.csv");
            assert!(arch.starts_with('|'), "{arch}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(matches!(
        try_run(&TableSearchConfig::new(0), None, vec![acc_objective(&table)], reward.clone()),
        Err(SearchError::InvalidConfig { field, .. }) if field == "budget"
    ));
    // A reward for two objectives with one objective is rejected before any work.
    assert!(matches!(
        try_run(
            &TableSearchConfig::new(10),
            None,
            vec![acc_objective(&table)],
            WeightedSum::new(vec![1.0, 1.0]).unwrap()
        ),
        Err(SearchError::Objective(ObjectiveError::CountMismatch { .. }))
    ));
    // Accuracy from a supernet does not exist here.
    let objectives: Vec<Box<dyn Objective>> =
        vec![Box::new(tnd_nas::objective::ValidationAccuracy::new())];
    assert!(matches!(
        try_run(&TableSearchConfig::new(10), None, objectives, reward),
        Err(SearchError::Objective(
            ObjectiveError::NoSupernetAccuracy { .. }
        ))
    ));
}

#[test]
fn table_loads_from_a_file() {
    let (text, planted) = planted_table(3);
    let dir = std::env::temp_dir().join(format!("tnd-nas-tabular-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("planted.csv");
    std::fs::write(&path, text).unwrap();
    let table = Arc::new(TabularTable::from_path(&path, "arch").unwrap());
    let mut loss = Tabular::new(table, "loss", Direction::Minimise).unwrap();
    let space = Nb201Space::new();
    let v = loss
        .evaluate(&planted, &ObjectiveContext::new(&space))
        .unwrap();
    assert_eq!(Some(v), loss.best());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rea_keeps_a_population_of_the_last_p_and_mutates_tournament_winners() {
    let (table, _) = table(7);
    let space = Nb201Space::new();
    let acc = Tabular::new(table.clone(), "acc", Direction::Maximise).unwrap();
    let (p, budget) = (8, 120);
    // S far above P: every tournament sees the best member of the population. An
    // evaluator that is not exact archives every sample, repeats included, so the
    // population can be rebuilt from the archive.
    let schedule = ShrinkScheduleConfig::nb201();
    let strategy = StrategyConfig::from_str("rea:population=8,tournament=64")
        .unwrap()
        .init(&space, &UpdaterConfig::new(), &schedule, 4)
        .unwrap();
    let evaluator = FnEvaluator::new(budget, &schedule, |_: &Architecture| Ok(None));
    let result = Search::from_parts(
        space.clone(),
        &schedule,
        strategy,
        Box::new(evaluator),
        vec![acc_objective(&table)],
        Box::new(WeightedSum::new(vec![1.0]).unwrap()),
    )
    .unwrap()
    .run(&mut [])
    .unwrap();
    assert_eq!(result.sample_count, budget);
    let archs: Vec<Architecture> = result
        .samples
        .iter()
        .map(|s| space.parse(&s.arch).unwrap())
        .collect();
    let value = |a: &Architecture| acc.value_of(&space.describe(a)).unwrap();
    let differing = |a: &Architecture, b: &Architecture| {
        a.ops().iter().zip(b.ops()).filter(|(x, y)| x != y).count()
    };
    for i in p..budget {
        // The population before sample i: the P samples told last (aging, not the best P).
        let window = &archs[i - p..i];
        let best = window.iter().map(value).fold(f64::NEG_INFINITY, f64::max);
        assert!(
            window
                .iter()
                .filter(|a| value(a) == best)
                .any(|parent| differing(parent, &archs[i]) == 1),
            "sample {i} is not a one-edge mutant of the population's best"
        );
    }
    // Evolution climbs: the last population is better on average than the random first.
    let mean = |xs: &[Architecture]| xs.iter().map(value).sum::<f64>() / xs.len() as f64;
    assert!(mean(&archs[budget - p..]) > mean(&archs[..p]) + 1.0);
    assert_eq!(
        result.best.unwrap().objectives[0],
        archs.iter().map(value).fold(f64::NEG_INFINITY, f64::max)
    );
}

/// A strategy of a user's own: always the same architecture, counting its tells.
#[derive(Debug)]
struct Fixed(Architecture, Vec<Vec<OpKind>>, u64);

impl tnd_nas::strategy::Strategy for Fixed {
    fn name(&self) -> &str {
        "fixed"
    }
    fn active(&self) -> Vec<Vec<OpKind>> {
        self.1.clone()
    }
    fn batch_size(&self) -> usize {
        4
    }
    fn ask(&mut self, n: usize) -> Vec<Architecture> {
        vec![self.0.clone(); n]
    }
    fn tell(
        &mut self,
        batch: &[Architecture],
        _: &[f64],
    ) -> Result<Option<tnd_nas::policy::UpdateStats>, tnd_nas::strategy::StrategyError> {
        self.2 += batch.len() as u64;
        Ok(None)
    }
    fn save(&self) -> Result<serde_json::Value, tnd_nas::strategy::StrategyError> {
        Ok(serde_json::json!(self.2))
    }
    fn restore(&mut self, v: serde_json::Value) -> Result<(), tnd_nas::strategy::StrategyError> {
        self.2 = v.as_u64().unwrap_or(0);
        Ok(())
    }
}

#[test]
fn a_user_strategy_and_a_user_evaluator_run_on_the_one_executor() {
    use tnd_nas::schedule::ShrinkScheduleConfig;
    use tnd_nas::scoring::FnEvaluator;
    let space = Nb201Space::new();
    let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
    let schedule = ShrinkScheduleConfig::nb201();
    let evaluator = FnEvaluator::new(30, &schedule, |a: &Architecture| {
        Ok(Some(
            a.ops().iter().filter(|o| **o == OpKind::NorConv3x3).count() as f64 * 10.0,
        ))
    });
    let objectives: Vec<Box<dyn Objective>> =
        vec![Box::new(tnd_nas::objective::ValidationAccuracy::new())];
    let mut search = Search::from_parts(
        space.clone(),
        &schedule,
        Box::new(Fixed(arch.clone(), space.all_candidates(), 0)),
        Box::new(evaluator),
        objectives,
        Box::new(WeightedSum::new(vec![1.0]).unwrap()),
    )
    .unwrap();
    let result = search.run(&mut []).unwrap();
    assert_eq!(result.strategy, "fixed");
    assert_eq!(result.evaluator, "fn");
    assert_eq!(result.sample_count, 30);
    // The evaluator's value reaches the objectives as the sample's accuracy.
    assert!(result.samples.iter().all(|s| s.objectives == [60.0]));
    assert_eq!(result.final_architecture.architecture, arch);
    assert_eq!(search.strategy().save().unwrap(), serde_json::json!(30));
}

/// Stops the search after a number of scored batches.
struct StopAfterBatches(usize);

impl SearchObserver for StopAfterBatches {
    fn observe(&mut self, event: &SearchEvent) -> Control {
        if let SearchEvent::Alpha(_) = event {
            self.0 = self.0.saturating_sub(1);
            if self.0 == 0 {
                return Control::Stop;
            }
        }
        Control::Continue
    }
}

#[test]
fn a_table_search_with_repeats_resumes_bit_for_bit() {
    let table = Arc::new(TabularTable::nb201_cifar10().unwrap());
    let cfg = TableSearchConfig::new(200).with_seed(3);
    let make = || {
        let acc = Tabular::new(table.clone(), NB201_CIFAR10_ACCURACY, Direction::Maximise).unwrap();
        Search::builder(Nb201Space::new())
            .objective(acc)
            .reward(WeightedSum::new(vec![1.0]).unwrap())
            .build_table(cfg.clone())
            .unwrap()
    };
    let whole = make().run(&mut []).unwrap();
    // Repeats happened: more updates than the 20 batches of 10 distinct architectures.
    assert!(whole.history.len() > 20, "{} updates", whole.history.len());
    let dir = std::env::temp_dir().join(format!("tnd-table-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stopped = make()
        .with_checkpoint_dir(&dir)
        .with_checkpoint_every(1)
        .run(&mut [&mut StopAfterBatches(15)])
        .unwrap_err();
    assert!(matches!(
        stopped,
        SearchError::Stopped {
            checkpoint: Some(_),
            ..
        }
    ));
    let resumed = make().resume_from(&dir).unwrap().run(&mut []).unwrap();
    assert_eq!(resumed.samples, whole.samples);
    assert_eq!(resumed.history, whole.history);
    assert_eq!(resumed.final_architecture, whole.final_architecture);
    assert_eq!(resumed.best, whole.best);
    assert_eq!(resumed.stages, {
        // Wall times differ; everything else must not.
        let mut s = whole.stages.clone();
        for (a, b) in s.iter_mut().zip(&resumed.stages) {
            a.seconds = b.seconds;
        }
        s
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn local_search_on_the_table_climbs_and_resumes_bit_for_bit() {
    let table = Arc::new(TabularTable::nb201_cifar10().unwrap());
    let cfg = TableSearchConfig::new(150)
        .with_seed(5)
        .with_strategy("ls:init=5".parse().unwrap());
    let make = || {
        let acc = Tabular::new(table.clone(), NB201_CIFAR10_ACCURACY, Direction::Maximise).unwrap();
        Search::builder(Nb201Space::new())
            .objective(acc)
            .reward(WeightedSum::new(vec![1.0]).unwrap())
            .build_table(cfg.clone())
            .unwrap()
    };
    let whole = make().run(&mut []).unwrap();
    assert_eq!(whole.strategy, "ls");
    assert_eq!(whole.sample_count, 150);
    // After the five starts, every sample is a one-edge neighbour of an earlier one.
    let edges = |a: &str, b: &str| {
        a.split('|')
            .zip(b.split('|'))
            .filter(|(x, y)| x != y)
            .count()
    };
    let neighbours = whole.samples[5..]
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            whole.samples[..5 + i]
                .iter()
                .any(|t| edges(&t.arch, &s.arch) == 1)
        })
        .count();
    assert!(neighbours >= 120, "{neighbours} of 145 are neighbours");
    let dir = std::env::temp_dir().join(format!("tnd-table-ls-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stopped = make()
        .with_checkpoint_dir(&dir)
        .with_checkpoint_every(1)
        .run(&mut [&mut StopAfterBatches(40)])
        .unwrap_err();
    assert!(matches!(
        stopped,
        SearchError::Stopped {
            checkpoint: Some(_),
            ..
        }
    ));
    let resumed = make().resume_from(&dir).unwrap().run(&mut []).unwrap();
    assert_eq!(resumed.samples, whole.samples);
    assert_eq!(resumed.best, whole.best);
    std::fs::remove_dir_all(&dir).unwrap();
}
