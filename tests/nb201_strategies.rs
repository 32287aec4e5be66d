//! TND against random search, regularised evolution and local search on the bundled NAS-Bench-201
//! CIFAR-10 table: the best architecture found over 20 seeds at budgets 100, 300 and
//! 1000, with the crate's defaults (not tuned per budget). Prints the table
//! (`cargo test --release --test nb201_strategies -- --nocapture`).

use std::sync::Arc;

use tnd_nas::objective::{
    Direction, NB201_CIFAR10_ACCURACY, Objective, Tabular, TabularTable, WeightedSum,
};
use tnd_nas::policy::UpdaterConfig;
use tnd_nas::schedule::ShrinkScheduleConfig;
use tnd_nas::search::{Search, TableSearchConfig};
use tnd_nas::spaces::nb201::Nb201Space;
use tnd_nas::strategy::StrategyConfig;

const SEEDS: u64 = 20;
const BUDGETS: [usize; 3] = [100, 300, 1000];

/// Mean and sd over the seeds of the best and the final architecture's accuracy.
fn stats(table: &Arc<TabularTable>, cfg: &TableSearchConfig) -> [(f64, f64); 2] {
    let (mut best, mut fin) = (Vec::new(), Vec::new());
    for seed in 0..SEEDS {
        let acc = Tabular::new(table.clone(), NB201_CIFAR10_ACCURACY, Direction::Maximise)
            .expect("bundled column");
        let objectives: Vec<Box<dyn Objective>> = vec![Box::new(acc)];
        let mut search = Search::builder(Nb201Space::new())
            .objectives(objectives)
            .reward(WeightedSum::new(vec![1.0]).expect("one weight"))
            .build_table(cfg.clone().with_seed(seed))
            .expect("valid search");
        let r = search.run(&mut []).expect("search runs");
        assert!(r.sample_count <= cfg.budget);
        best.push(r.best.expect("a sample").objectives[0]);
        fin.push(r.final_values[0].expect("a table value"));
    }
    [mean_sd(&best), mean_sd(&fin)]
}

/// Mean and sample standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, sd)
}

#[test]
fn tnd_finds_at_least_what_random_search_and_evolution_find() {
    let table = Arc::new(TabularTable::nb201_cifar10().expect("bundled table"));
    let rows: Vec<(&str, TableSearchConfig)> = vec![
        ("tnd", TableSearchConfig::new(0)),
        (
            "tnd, 3 stages",
            TableSearchConfig::new(0).with_schedule(ShrinkScheduleConfig::nb201()),
        ),
        (
            "tnd, paper updater, 3 stages",
            TableSearchConfig::new(0)
                .with_updater(UpdaterConfig::paper())
                .with_schedule(ShrinkScheduleConfig::nb201()),
        ),
        (
            "random",
            TableSearchConfig::new(0).with_strategy(StrategyConfig::Random),
        ),
        (
            "rea",
            TableSearchConfig::new(0).with_strategy("rea".parse().expect("rea")),
        ),
        (
            "ls",
            TableSearchConfig::new(0).with_strategy("ls".parse().expect("ls")),
        ),
    ];
    println!("| strategy | value | b=100 | b=300 | b=1000 |\n| --- | --- | --- | --- | --- |");
    let mut best = Vec::new();
    for (name, cfg) in &rows {
        let cells: Vec<[(f64, f64); 2]> = BUDGETS
            .iter()
            .map(|&b| {
                let mut c = cfg.clone();
                c.budget = b;
                stats(&table, &c)
            })
            .collect();
        for (k, what) in ["best", "final"].iter().enumerate() {
            let text: Vec<String> = cells
                .iter()
                .map(|c| format!("{:.2} ± {:.2}", c[k].0, c[k].1))
                .collect();
            println!("| {name} | {what} | {} |", text.join(" | "));
        }
        best.push(cells.iter().map(|c| c[0].0).collect::<Vec<f64>>());
    }
    for (i, b) in BUDGETS.iter().enumerate() {
        let (tnd, random, rea, ls) = (best[0][i], best[3][i], best[4][i], best[5][i]);
        assert!(tnd >= ls, "budget {b}: TND {tnd:.3} < local search {ls:.3}");
        assert!(
            tnd >= random,
            "budget {b}: TND {tnd:.3} < random {random:.3}"
        );
        assert!(tnd >= rea, "budget {b}: TND {tnd:.3} < REA {rea:.3}");
    }
}

/// A landscape the defaults were not tuned on: a random additive-plus-pairwise
/// ("NK"-style) function over the DARTS space (28 edges, 8 ops), Gaussian terms
/// drawn from `seed`.
struct Landscape {
    unary: Vec<Vec<f64>>,
    pairs: Vec<(usize, usize, Vec<Vec<f64>>)>,
    space: tnd_nas::spaces::darts::DartsSpace,
}

impl Landscape {
    fn new(seed: u64) -> Self {
        use rand::{Rng, SeedableRng};
        use tnd_nas::SearchSpace;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let space = tnd_nas::spaces::darts::DartsSpaceConfig::darts()
            .init()
            .expect("DARTS space");
        let (edges, ops) = (space.edges().len(), 8);
        // Box-Muller.
        let mut normal = |scale: f64| -> f64 {
            let (u, v): (f64, f64) = (rng.random(), rng.random());
            scale * (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let unary = (0..edges)
            .map(|_| (0..ops).map(|_| normal(1.0)).collect())
            .collect();
        let mut pairs = Vec::new();
        for k in 0..40 {
            let (i, j) = (k % edges, (k * 7 + 3) % edges);
            if i != j {
                let m = (0..ops)
                    .map(|_| (0..ops).map(|_| normal(0.5)).collect())
                    .collect();
                pairs.push((i, j, m));
            }
        }
        Self {
            unary,
            pairs,
            space,
        }
    }
}

impl Objective for Landscape {
    fn name(&self) -> &str {
        "landscape"
    }

    fn direction(&self) -> Direction {
        Direction::Maximise
    }

    fn evaluate(
        &mut self,
        arch: &tnd_nas::Architecture,
        _ctx: &tnd_nas::ObjectiveContext<'_>,
    ) -> Result<f64, tnd_nas::objective::ObjectiveError> {
        use tnd_nas::SearchSpace;
        let idx: Vec<usize> = arch
            .ops()
            .iter()
            .enumerate()
            .map(|(e, op)| {
                self.space
                    .candidates(e)
                    .iter()
                    .position(|o| o == op)
                    .unwrap_or(0)
            })
            .collect();
        let mut v: f64 = idx.iter().enumerate().map(|(e, &i)| self.unary[e][i]).sum();
        for (i, j, m) in &self.pairs {
            v += m[idx[*i]][idx[*j]];
        }
        Ok(v)
    }
}

/// The mean over `seeds` seeds of `score(strategy, budget, seed)` for TND, random
/// search, evolution and local search at every budget, printed as a table (mean +- sd)
/// with the paired differences TND minus local search; rows in that order.
fn strategy_means(seeds: u64, score: impl Fn(&StrategyConfig, usize, u64) -> f64) -> Vec<Vec<f64>> {
    let strategies = [
        ("tnd", StrategyConfig::Tnd),
        ("random", StrategyConfig::Random),
        ("rea", "rea".parse().expect("rea")),
        ("ls", "ls".parse().expect("ls")),
    ];
    println!("| strategy | b=100 | b=300 | b=1000 |\n| --- | --- | --- | --- |");
    let runs: Vec<Vec<Vec<f64>>> = strategies
        .iter()
        .map(|(name, strategy)| {
            let row: Vec<Vec<f64>> = BUDGETS
                .iter()
                .map(|&b| (0..seeds).map(|s| score(strategy, b, s)).collect())
                .collect();
            let text: Vec<String> = row
                .iter()
                .map(|xs| {
                    let (m, sd) = mean_sd(xs);
                    format!("{m:.3} +- {sd:.3}")
                })
                .collect();
            println!("| {name} | {} |", text.join(" | "));
            row
        })
        .collect();
    let diffs: Vec<String> = (0..BUDGETS.len())
        .map(|i| {
            let d: Vec<f64> = runs[0][i]
                .iter()
                .zip(&runs[3][i])
                .map(|(t, l)| t - l)
                .collect();
            let (m, sd) = mean_sd(&d);
            format!("{m:.3} +- {:.3}", sd / (d.len() as f64).sqrt())
        })
        .collect();
    println!("| tnd - ls (paired, +- se) | {} |", diffs.join(" | "));
    runs.iter()
        .map(|row| row.iter().map(|xs| mean_sd(xs).0).collect())
        .collect()
}

#[test]
fn the_defaults_also_win_on_landscapes_they_were_not_tuned_on() {
    let means = strategy_means(10, |strategy, budget, seed| {
        let landscape = Landscape::new(1000 + seed);
        let space = landscape.space.clone();
        let objectives: Vec<Box<dyn Objective>> = vec![Box::new(landscape)];
        let cfg = TableSearchConfig::new(budget)
            .with_seed(seed)
            .with_strategy(strategy.clone());
        let reward = WeightedSum::new(vec![1.0]).expect("one weight");
        let r = Search::builder(space)
            .objectives(objectives)
            .reward(reward)
            .build_table(cfg)
            .expect("valid search")
            .run(&mut [])
            .expect("search runs");
        r.best.expect("a sample").objectives[0]
    });
    for (i, b) in BUDGETS.iter().enumerate() {
        assert!(means[0][i] > means[1][i], "budget {b}: TND below random");
        assert!(means[0][i] > means[2][i], "budget {b}: TND below REA");
        assert!(
            means[0][i] > means[3][i],
            "budget {b}: TND below local search"
        );
    }
}

/// A third landscape: the same table under a parameter penalty (MnasNet reward,
/// `acc * (params / 0.4 M) ^ -0.3`), whose optimum is a small network.
#[test]
fn the_defaults_also_win_under_a_parameter_penalty() {
    use tnd_nas::objective::{MnasReward, ParamCount};
    use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
    let table = Arc::new(TabularTable::nb201_cifar10().expect("bundled table"));
    let network = Arc::new(Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10)));
    let means = strategy_means(SEEDS, |strategy, budget, seed| {
        let acc = Tabular::new(table.clone(), NB201_CIFAR10_ACCURACY, Direction::Maximise)
            .expect("bundled column");
        let objectives: Vec<Box<dyn Objective>> =
            vec![Box::new(acc), Box::new(ParamCount::new().in_millions())];
        let reward = MnasReward::new(vec![0.4], vec![-0.3]).expect("valid reward");
        let cfg = TableSearchConfig::new(budget)
            .with_seed(seed)
            .with_strategy(strategy.clone());
        let r = Search::builder(Nb201Space::new())
            .objectives(objectives)
            .reward(reward)
            .build_table(cfg)
            .expect("valid search")
            .with_network(network.clone())
            .run(&mut [])
            .expect("search runs");
        r.best_reward.expect("a sample")
    });
    // Measured 2026-12-02: TND 144.211 / 144.286 / 144.382, REA 142.857 / 144.293 /
    // 144.378, random 139.855 / 142.316 / 144.055. At budget 300 TND and REA tie within
    // 0.01 (a twentieth of a seed-to-seed sd); the test allows a tie of 0.05.
    // Local search (2026-12-07): 144.207 / 144.320 / 144.395, ahead of TND at 300 and
    // 1000 by 0.035 +- 0.032 and 0.012 +- 0.011 (paired difference +- its standard
    // error): a tie within the same allowance, not a win.
    for (i, b) in BUDGETS.iter().enumerate() {
        assert!(means[0][i] >= means[1][i], "budget {b}: TND below random");
        assert!(
            means[0][i] >= means[2][i] - 0.05,
            "budget {b}: TND below REA"
        );
        assert!(
            means[0][i] >= means[3][i] - 0.05,
            "budget {b}: TND below local search by more than a tie"
        );
    }
}

/// The true accuracy/cost front of the whole table, and the front gap of a search: at
/// every point `(cost, accuracy)` of the true front, how far the best accuracy found at
/// that cost or less falls short, averaged over the front's points.
struct TrueFront {
    points: Vec<(f64, f64)>,
}

impl TrueFront {
    /// `all` holds `(cost, accuracy)` of every architecture.
    fn new(mut all: Vec<(f64, f64)>) -> Self {
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut points: Vec<(f64, f64)> = Vec::new();
        for (c, a) in all {
            if points.last().is_none_or(|&(_, best)| a > best) {
                points.push((c, a));
            }
        }
        Self { points }
    }

    /// `found` holds `(accuracy, cost)` (the search's objective order).
    fn gap(&self, found: &[(f64, f64)]) -> f64 {
        let total: f64 = self
            .points
            .iter()
            .map(|&(c, a)| {
                let best = found
                    .iter()
                    .filter(|(_, fc)| *fc <= c + 1e-12)
                    .map(|(fa, _)| *fa)
                    .fold(0.0, f64::max);
                (a - best).max(0.0)
            })
            .sum();
        total / self.points.len() as f64
    }
}

/// A cost the defaults were not tuned on: a log-normal price for every (edge, op),
/// summed over the cell, drawn from a fixed seed.
#[derive(Clone)]
struct PricedOps {
    price: Vec<Vec<f64>>,
}

impl PricedOps {
    fn new(seed: u64) -> Self {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let price = (0..6)
            .map(|_| {
                (0..5)
                    .map(|_| {
                        let (u, v): (f64, f64) = (rng.random(), rng.random());
                        let z = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                        z.exp()
                    })
                    .collect()
            })
            .collect();
        Self { price }
    }
}

impl Objective for PricedOps {
    fn name(&self) -> &str {
        "price"
    }

    fn direction(&self) -> Direction {
        Direction::Minimise
    }

    fn evaluate(
        &mut self,
        arch: &tnd_nas::Architecture,
        _ctx: &tnd_nas::ObjectiveContext<'_>,
    ) -> Result<f64, tnd_nas::objective::ObjectiveError> {
        use tnd_nas::SearchSpace;
        let space = Nb201Space::new();
        Ok(0.1
            + arch
                .ops()
                .iter()
                .enumerate()
                .map(|(e, op)| {
                    let i = space
                        .candidates(e)
                        .iter()
                        .position(|o| o == op)
                        .unwrap_or(0);
                    self.price[e][i]
                })
                .sum::<f64>())
    }
}

/// One front search (accuracy + `cost`) per strategy and seed: the mean and sd of the
/// front gap over `seeds` seeds, printed.
fn front_gaps(
    cost: &(dyn Fn() -> Box<dyn Objective> + Sync),
    network: Option<Arc<dyn tnd_nas::network::EvalNetworkSpec>>,
    reward: &str,
    seeds: u64,
) -> Vec<(f64, f64)> {
    use tnd_nas::SearchSpace;
    use tnd_nas::objective::reward_from_spec;
    let table = Arc::new(TabularTable::nb201_cifar10().expect("bundled table"));
    let acc = || {
        Box::new(
            Tabular::new(table.clone(), NB201_CIFAR10_ACCURACY, Direction::Maximise)
                .expect("bundled column"),
        ) as Box<dyn Objective>
    };
    // Every architecture of the space, for the true front.
    let space = Nb201Space::new();
    let mut ctx = tnd_nas::ObjectiveContext::new(&space);
    if let Some(n) = &network {
        ctx = ctx.with_network(n.as_ref());
    }
    let (mut a, mut c) = (acc(), cost());
    let mut all = Vec::new();
    for code in 0..5usize.pow(6) {
        let ops = (0..6)
            .map(|e| space.candidates(e)[code / 5usize.pow(e as u32) % 5])
            .collect();
        let arch = tnd_nas::Architecture::new(ops);
        all.push((
            c.evaluate(&arch, &ctx).expect("cost"),
            a.evaluate(&arch, &ctx).expect("accuracy"),
        ));
    }
    let front = TrueFront::new(all);
    let dirs = [Direction::Maximise, Direction::Minimise];
    let strategies = [
        ("tnd", StrategyConfig::Tnd),
        ("random", StrategyConfig::Random),
        ("rea", "rea".parse().expect("rea")),
        ("ls", "ls".parse().expect("ls")),
    ];
    strategies
        .iter()
        .map(|(name, strategy)| {
            let base: u64 = std::env::var("FRONT_SEED_BASE")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let gaps: Vec<f64> = (base..base + seeds)
                .map(|seed| {
                    let cfg = TableSearchConfig::new(500)
                        .with_seed(seed)
                        .with_strategy(strategy.clone());
                    let objectives = vec![acc(), cost()];
                    let reward = reward_from_spec(reward, &dirs, &[100.0, 0.0]).expect("reward");
                    let mut search = Search::builder(Nb201Space::new())
                        .objectives(objectives)
                        .reward(reward)
                        .build_table(cfg)
                        .expect("valid");
                    if let Some(n) = &network {
                        search = search.with_network(n.clone());
                    }
                    let r = search.run(&mut []).expect("search runs");
                    let found: Vec<(f64, f64)> = r
                        .samples
                        .iter()
                        .map(|s| (s.objectives[0], s.objectives[1]))
                        .collect();
                    front.gap(&found)
                })
                .collect();
            let (m, sd) = mean_sd(&gaps);
            println!("| {name} | {reward} | {m:.3} +- {sd:.3} |");
            (m, sd)
        })
        .collect()
}

/// A front from one search: accuracy and parameters on the table, budget 500, 10
/// seeds; the front gap of TND under `front` (seven Chebyshev preferences) is at most
/// 0.2 accuracy points and below random search's and evolution's.
///
/// Measured 2026-12-02, seeds 0-9: TND 0.191 +- 0.032, random 0.364 +- 0.236, REA
/// 0.269 +- 0.104, local search (2026-12-07) 0.265 +- 0.047; one Chebyshev preference (0.5, 0.5): TND 1.325 +- 0.748. Seeds 0-19:
/// TND 0.193 +- 0.050, random 0.384 +- 0.207, REA 0.283 +- 0.137.
///
/// `FRONT_REWARD=front:K FRONT_SEED_BASE=100 FRONT_SEEDS=20` reruns the choice of the
/// default K on other seeds (it was made on seeds 100-219, see
/// `ParetoPreferences::DEFAULT_STEPS`).
#[test]
fn one_front_search_covers_the_accuracy_params_front() {
    use tnd_nas::objective::ParamCount;
    use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
    let network: Arc<dyn tnd_nas::network::EvalNetworkSpec> =
        Arc::new(Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10)));
    println!("| strategy | reward | front gap (points) |\n| --- | --- | --- |");
    let params = || Box::new(ParamCount::new().in_millions()) as Box<dyn Objective>;
    let seeds = std::env::var("FRONT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let spec = std::env::var("FRONT_REWARD").unwrap_or("front".into());
    let gaps = front_gaps(&params, Some(network.clone()), &spec, seeds);
    let (tnd, random, rea) = (gaps[0].0, gaps[1].0, gaps[2].0);
    assert!(tnd <= 0.2, "TND's front gap {tnd:.3} is above 0.2");
    assert!(tnd < random, "TND {tnd:.3} is not below random {random:.3}");
    assert!(tnd < rea, "TND {tnd:.3} is not below REA {rea:.3}");
    let ls = gaps[3].0;
    assert!(tnd < ls, "TND {tnd:.3} is not below local search {ls:.3}");
    // For the record: one Chebyshev preference (the earlier way) concentrates on one
    // region of the front.
    front_gaps(&params, Some(network), "chebyshev:0.5,0.5", 10);
}

/// The same on a cost the defaults were not tuned on (a random price per edge and op).
/// Measured 2026-12-02, seeds 0-9: TND 0.049 +- 0.052, random 36.707 +- 13.742, REA
/// 17.583 +- 16.781, local search (2026-12-07) 19.380 +- 13.939 (random search rarely
/// meets the cheapest cells).
#[test]
fn one_front_search_covers_an_unseen_cost_front() {
    println!("| strategy | reward | front gap (points) |\n| --- | --- | --- |");
    let price = || Box::new(PricedOps::new(12345)) as Box<dyn Objective>;
    let gaps = front_gaps(&price, None, "front", 10);
    assert!(gaps[0].0 < gaps[1].0, "TND is not below random");
    assert!(gaps[0].0 < gaps[2].0, "TND is not below REA");
    assert!(gaps[0].0 < gaps[3].0, "TND is not below local search");
}
