//! A table search of budget 1000 (TND, random search, regularised evolution) on a NAS-Bench-201 table
//! with a planted landscape. Run with `cargo bench --bench tabular`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tnd_nas::objective::{
    CsvTable, Direction, MnasReward, Objective, ParamCount, Tabular, TabularTable,
};
use tnd_nas::search::{Search, TableSearchConfig};
use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};
use tnd_nas::strategy::StrategyConfig;
use tnd_nas::{Architecture, SearchSpace};

/// All 15,625 NB201 architectures with an additive accuracy plus noise, as CSV.
fn planted_csv() -> String {
    let space = Nb201Space::new();
    let ops = space.candidates(0).to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let w: Vec<Vec<f64>> = (0..6)
        .map(|_| (0..5).map(|_| rng.random_range(0.0..6.0)).collect())
        .collect();
    let mut text = String::from("arch,acc\n");
    for i in 0..5usize.pow(6) {
        let idx: Vec<usize> = (0..6).map(|e| (i / 5usize.pow(e)) % 5).collect();
        let arch = Architecture::new(idx.iter().map(|&k| ops[k]).collect());
        let acc = 50.0
            + idx.iter().enumerate().map(|(e, &k)| w[e][k]).sum::<f64>()
            + rng.random_range(-0.5..0.5);
        text.push_str(&format!("{},{acc:.4}\n", space.describe(&arch)));
    }
    text
}

fn bench_tabular(c: &mut Criterion) {
    let csv = CsvTable::parse(&planted_csv(), "planted.csv").expect("generated CSV parses");
    let table = Arc::new(TabularTable::from_csv(csv, "arch").expect("arch column"));
    let network = Arc::new(Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10)));
    let reward = MnasReward::new(vec![0.8], vec![-0.3]).expect("valid reward");
    let budget = 1000;
    let mut group = c.benchmark_group("tabular_search");
    for strategy in ["tnd", "random", "rea"] {
        let strategy: StrategyConfig = strategy.parse().expect("built-in strategy");
        let cfg = TableSearchConfig::new(budget)
            .with_strategy(strategy.clone())
            .with_seed(1);
        group.bench_with_input(
            BenchmarkId::new(
                format!("{strategy}/acc+params/mnas"),
                format!("budget={budget}"),
            ),
            &cfg,
            |b, cfg| {
                b.iter(|| {
                    let objectives: Vec<Box<dyn Objective>> = vec![
                        Box::new(
                            Tabular::new(table.clone(), "acc", Direction::Maximise)
                                .expect("acc column"),
                        ),
                        Box::new(ParamCount::new().in_millions()),
                    ];
                    let mut search = Search::builder(Nb201Space::new())
                        .objectives(objectives)
                        .reward(reward.clone())
                        .build_table(cfg.clone())
                        .expect("valid search")
                        .with_network(network.clone());
                    black_box(search.run(&mut []).expect("search runs"))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_tabular);
criterion_main!(benches);
