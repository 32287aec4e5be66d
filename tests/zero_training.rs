//! Zero-training search of NAS-Bench-201: TND, random search, regularised evolution and
//! local search maximising `zero-cost` (or synflow) with no network trained, 20 seeds;
//! what counts is the CIFAR-10 test accuracy (200 epochs, the bundled table) of the
//! architecture each search returns as its best. The synflow scores are the bundled ones
//! (`data/nb201/synflow-seed0.csv.gz`, equal to what the scorer computes: tests/proxies.rs),
//! so the table runs in seconds. Prints the table
//! (`cargo test --release --test zero_training -- --nocapture`).

use std::collections::HashMap;
use std::sync::Arc;

use burn::backend::{Autodiff, Flex};
use tnd_nas::objective::{
    Direction, NB201_CIFAR10_ACCURACY, NB201_SYNFLOW, Objective, Tabular, TabularTable, WeightedSum,
};
use tnd_nas::proxy::{ProxyInput, ProxyScorerConfig, ZeroCostProxy};
use tnd_nas::search::{Search, TableSearchConfig};
use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};
use tnd_nas::strategy::StrategyConfig;
use tnd_nas::{Architecture, SearchSpace};

type B = Autodiff<Flex>;

const SEEDS: u64 = 20;
const BUDGETS: [usize; 3] = [100, 300, 1000];

/// Mean and sample standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, sd)
}

struct Bench {
    space: Nb201Space,
    accuracy: Tabular,
    synflow: HashMap<Architecture, f64>,
}

impl Bench {
    fn new() -> Self {
        let space = Nb201Space::new();
        let table = Arc::new(TabularTable::nb201_cifar10().expect("bundled table"));
        let accuracy = Tabular::new(table, NB201_CIFAR10_ACCURACY, Direction::Maximise)
            .expect("bundled column");
        let table = Arc::new(TabularTable::nb201_synflow().expect("bundled scores"));
        let scores = Tabular::new(table.clone(), NB201_SYNFLOW, Direction::Maximise)
            .expect("bundled column");
        let csv = table.csv();
        let c = csv.column("arch").expect("arch column");
        let synflow = csv
            .rows()
            .iter()
            .map(|row| {
                let text = &row.fields[c];
                let arch = space.parse(text).expect("an NB201 cell");
                (arch, scores.value_of(text).expect("a score"))
            })
            .collect();
        Self {
            space,
            accuracy,
            synflow,
        }
    }

    /// The proxy as an objective, on the network and seed of the bundled scores.
    fn objective(&self, proxy: ZeroCostProxy) -> Box<dyn Objective> {
        let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
        let input = ProxyInput::<B> {
            shape: [3, 32, 32],
            batch: None,
        };
        Box::new(
            ProxyScorerConfig::new(proxy)
                .with_known_synflow(self.synflow.clone())
                .init(spec, &self.space, input, Default::default())
                .expect("a scorer"),
        )
    }

    /// The CIFAR-10 accuracy of the best architecture a search finds by `proxy`.
    fn search(
        &self,
        proxy: ZeroCostProxy,
        strategy: &StrategyConfig,
        budget: usize,
        seed: u64,
    ) -> f64 {
        let cfg = TableSearchConfig::new(budget)
            .with_seed(seed)
            .with_strategy(strategy.clone());
        let reward = WeightedSum::new(vec![1.0]).expect("one weight");
        let result = Search::builder(self.space.clone())
            .objectives([self.objective(proxy)])
            .reward(reward)
            .build_table(cfg)
            .expect("valid search")
            .run(&mut [])
            .expect("search runs");
        let best = result.best.expect("a sample");
        self.accuracy
            .value_of(&best.arch)
            .expect("every cell is in the table")
    }

    /// The accuracy of the cell the proxy ranks first over the whole space (the best a
    /// search by that proxy can return).
    fn oracle(&self, proxy: ZeroCostProxy) -> f64 {
        let mut objective = self.objective(proxy);
        let ctx = tnd_nas::objective::ObjectiveContext::new(&self.space);
        let (arch, _) = self
            .synflow
            .keys()
            .map(|a| (a, objective.evaluate(a, &ctx).expect("a score")))
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)))
            .expect("cells");
        self.accuracy
            .value_of(&self.space.describe(arch))
            .expect("in the table")
    }
}

#[test]
fn a_zero_training_search_finds_good_cells_without_training_any() {
    let bench = Bench::new();
    let strategies = [
        ("tnd", StrategyConfig::Tnd),
        ("random", StrategyConfig::Random),
        ("rea", "rea".parse().expect("rea")),
        ("ls", "ls".parse().expect("ls")),
    ];
    let mut means: HashMap<(&str, ZeroCostProxy), Vec<f64>> = HashMap::new();
    for proxy in [ZeroCostProxy::ZeroCost, ZeroCostProxy::Synflow] {
        println!(
            "\n{proxy}: CIFAR-10 test accuracy of the best cell found (mean +- sd, {SEEDS} seeds); \
             the cell it ranks first of all 15,625: {:.2}",
            bench.oracle(proxy)
        );
        println!("| strategy | b=100 | b=300 | b=1000 |\n| --- | --- | --- | --- |");
        for (name, strategy) in &strategies {
            let cells: Vec<(f64, f64)> = BUDGETS
                .iter()
                .map(|&b| {
                    let accs: Vec<f64> = (0..SEEDS)
                        .map(|seed| bench.search(proxy, strategy, b, seed))
                        .collect();
                    mean_sd(&accs)
                })
                .collect();
            let text: Vec<String> = cells
                .iter()
                .map(|(m, sd)| format!("{m:.2} +- {sd:.2}"))
                .collect();
            println!("| {name} | {} |", text.join(" | "));
            means.insert((name, proxy), cells.iter().map(|c| c.0).collect());
        }
    }
    // NASWOT (Mellor et al., ICML 2021, Table 2): the best of N = 1000 random cells by
    // its score reaches 92.96 +- 0.81 on CIFAR-10.
    // Measured 2026-12-07: TND returns the cell zero-cost ranks first (93.76) at every
    // seed from budget 100; random search by zero-cost 93.31 / 93.41 / 93.59.
    let tnd = &means[&("tnd", ZeroCostProxy::ZeroCost)];
    let random = &means[&("random", ZeroCostProxy::ZeroCost)];
    assert!(tnd[2] > 92.96, "TND by zero-cost at 1000: {:.2}", tnd[2]);
    for (i, b) in BUDGETS.iter().enumerate() {
        assert!(
            tnd[i] >= random[i],
            "budget {b}: TND {:.2} < random {:.2}",
            tnd[i],
            random[i]
        );
    }
}

/// Spearman rho over all 15,625 cells of the CIFAR-10 table: zero-cost (seed 0, the
/// default reference of 64) above synflow alone and the parameter count alone. These
/// are the figures `proxy::ZeroCost` documents.
#[test]
fn zero_cost_ranks_nb201_better_than_either_of_its_parts() {
    use tnd_nas::fidelity::spearman_rho;
    use tnd_nas::network::EvalNetworkSpec;
    use tnd_nas::objective::ObjectiveContext;
    let bench = Bench::new();
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
    let ctx = ObjectiveContext::new(&bench.space);
    let mut zero_cost = bench.objective(ZeroCostProxy::ZeroCost);
    let (mut acc, mut synflow, mut params, mut zc) = (vec![], vec![], vec![], vec![]);
    for (arch, s) in &bench.synflow {
        acc.push(
            bench
                .accuracy
                .value_of(&bench.space.describe(arch))
                .expect("in the table"),
        );
        synflow.push(*s);
        params.push(spec.param_count(arch).expect("an NB201 cell") as f64);
        zc.push(zero_cost.evaluate(arch, &ctx).expect("a score"));
    }
    let rho = |x: &[f64]| spearman_rho(x, &acc).expect("a correlation");
    let (r_params, r_synflow, r_zc) = (rho(&params), rho(&synflow), rho(&zc));
    println!(
        "Spearman rho over {} cells: params {r_params:.3}, synflow {r_synflow:.3}, zero-cost {r_zc:.3}",
        acc.len()
    );
    assert_eq!(acc.len(), 15_625);
    assert!(
        r_zc > r_synflow && r_synflow > r_params,
        "{r_zc} {r_synflow} {r_params}"
    );
}
