//! Tabular search on a generated NAS-Bench-201 table with a planted landscape.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tnd_nas::eval::Nb201NetworkConfig;
use tnd_nas::objective::{
    CsvTable, Direction, EvalNetworkSpec, MnasReward, Objective, ObjectiveContext, ObjectiveError,
    ParamCount, Tabular, TabularTable, WeightedSum,
};
use tnd_nas::space::Nb201Space;
use tnd_nas::tabular::{Strategy, TabularError, TabularSearchConfig};
use tnd_nas::{Architecture, OpKind, SearchSpace};

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
    let space = Nb201Space::new();
    let ctx = ObjectiveContext::new(&space);
    let reward = WeightedSum::new(vec![1.0]).unwrap();
    let (table, planted) = table(5);
    let optimum = Tabular::new(table.clone(), "acc", Direction::Maximise)
        .unwrap()
        .best()
        .unwrap();
    let budget = 300;
    let (mut hits, mut tnd_sum, mut random_sum) = (0, 0.0, 0.0);
    let seeds = 0..10u64;
    let n = seeds.clone().count() as f64;
    for seed in seeds {
        let mut objectives = vec![acc_objective(&table)];
        let cfg = TabularSearchConfig::new(budget).with_seed(seed);
        let tnd = cfg.run(&ctx, &mut objectives, &reward).unwrap();
        let random = cfg
            .clone()
            .with_strategy(Strategy::Random)
            .run(&ctx, &mut objectives, &reward)
            .unwrap();
        assert_eq!(tnd.samples, budget);
        assert_eq!(random.samples, budget);
        assert_eq!(tnd.archive.len(), budget);
        assert_eq!(tnd.stages.len(), 3);
        assert!(tnd.stages.iter().all(|s| s.probabilities.len() == 6));
        hits += usize::from(tnd.final_architecture == planted);
        tnd_sum += tnd.final_values[0];
        random_sum += random.final_values[0];
    }
    let (tnd_mean, random_mean) = (tnd_sum / n, random_sum / n);
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
    let space = Nb201Space::new();
    let spec = EvalNetworkSpec::Nb201 {
        network: Nb201NetworkConfig::new(16, 5, 10),
    };
    let ctx = ObjectiveContext::new(&space).with_network(&spec);
    let (table, _) = table(2);
    let objectives = || -> Vec<Box<dyn Objective>> {
        vec![
            acc_objective(&table),
            Box::new(ParamCount::new().in_millions()),
        ]
    };
    let cfg = TabularSearchConfig::new(300);
    let (mut free_params, mut penalised_params) = (0.0, 0.0);
    for seed in 0..6 {
        let cfg = cfg.clone().with_seed(seed);
        let zero = MnasReward::new(vec![0.5], vec![0.0]).unwrap();
        let free = cfg.run(&ctx, &mut objectives(), &zero).unwrap();
        // Reward = accuracy exactly: the same run as the plain weighted sum of accuracy.
        let plain = cfg
            .run(
                &ctx,
                &mut objectives(),
                &WeightedSum::new(vec![1.0, 0.0]).unwrap(),
            )
            .unwrap();
        assert_eq!(free.history, plain.history);
        assert_eq!(free.final_architecture, plain.final_architecture);
        let strong = MnasReward::new(vec![0.1], vec![-3.0]).unwrap();
        let penalised = cfg.run(&ctx, &mut objectives(), &strong).unwrap();
        free_params += free.final_values[1];
        penalised_params += penalised.final_values[1];
        assert!(
            penalised.final_values[1] <= free.final_values[1],
            "seed {seed}: penalised {} M > free {} M",
            penalised.final_values[1],
            free.final_values[1]
        );
    }
    assert!(
        penalised_params < 0.7 * free_params,
        "{penalised_params} vs {free_params}"
    );
}

#[test]
fn missing_architectures_and_bad_setups_are_errors() {
    let space = Nb201Space::new();
    let ctx = ObjectiveContext::new(&space);
    let text = format!(
        "arch,acc\n{},50\n",
        space.describe(&Architecture::new(vec![OpKind::None; 6]))
    );
    let table = Arc::new(
        TabularTable::from_csv(CsvTable::parse(&text, "tiny.csv").unwrap(), "arch").unwrap(),
    );
    let reward = WeightedSum::new(vec![1.0]).unwrap();
    let err = TabularSearchConfig::new(10)
        .run(&ctx, &mut [acc_objective(&table)], &reward)
        .unwrap_err();
    match err {
        TabularError::Objective(ObjectiveError::MissingArchitecture { file, arch }) => {
            assert_eq!(file, "tiny.csv");
            assert!(arch.starts_with('|'), "{arch}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(matches!(
        TabularSearchConfig::new(0).run(&ctx, &mut [acc_objective(&table)], &reward),
        Err(TabularError::InvalidConfig(_))
    ));
    // A reward for two objectives with one objective is rejected before any work.
    assert!(matches!(
        TabularSearchConfig::new(10).run(
            &ctx,
            &mut [acc_objective(&table)],
            &WeightedSum::new(vec![1.0, 1.0]).unwrap()
        ),
        Err(TabularError::Objective(
            ObjectiveError::CountMismatch { .. }
        ))
    ));
    // Accuracy from a supernet does not exist here.
    let mut objectives: Vec<Box<dyn Objective>> =
        vec![Box::new(tnd_nas::objective::ValidationAccuracy::new())];
    assert!(matches!(
        TabularSearchConfig::new(10).run(&ctx, &mut objectives, &reward),
        Err(TabularError::Objective(
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
