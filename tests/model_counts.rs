//! The reference parameter counts of spec/reference-numbers.md, from the analytic
//! counters and from the built burn modules.

mod common;

use common::{DARTS_V2, TestBackend};
use tnd_nas::ops::trainable_params;
use tnd_nas::spaces::darts::{DartsSpaceConfig, DartsSuperNetConfig, EvalNetworkConfig};
use tnd_nas::spaces::nb201::{Nb201Genotype, Nb201NetworkConfig, Nb201Space};
use tnd_nas::{Genotype, SearchSpace};

#[test]
fn darts_v2_evaluation_network_counts() {
    let g: Genotype = DARTS_V2.parse().unwrap();
    let device = Default::default();
    for (c, layers, classes, plain, aux) in [
        (36, 20, 10, 3_349_342u64, 3_825_768u64),
        (16, 8, 10, 246_106, 681_572),
        (36, 20, 100, 3_401_272, 3_946_908),
    ] {
        let cfg = EvalNetworkConfig::new(c, layers, classes);
        assert_eq!(
            cfg.param_count(&g),
            plain,
            "analytic C={c} L={layers} K={classes}"
        );
        let aux_cfg = cfg.clone().with_auxiliary(true);
        assert_eq!(
            aux_cfg.param_count(&g),
            aux,
            "analytic with aux C={c} L={layers} K={classes}"
        );
        let built = aux_cfg.init::<TestBackend>(&g, &device).unwrap();
        assert_eq!(
            trainable_params(&built) as u64,
            aux,
            "built with aux C={c} L={layers} K={classes}"
        );
        if c == 16 {
            let built = cfg.init::<TestBackend>(&g, &device).unwrap();
            assert_eq!(trainable_params(&built) as u64, plain, "built C={c}");
        }
    }
}

#[test]
fn darts_search_supernet_count() {
    let space = DartsSpaceConfig::darts().init().unwrap();
    let cfg = DartsSuperNetConfig::full(&space, 16, 8, 10);
    let alpha_entries: usize = cfg.active.iter().map(Vec::len).sum();
    assert_eq!(alpha_entries, 224);
    let net = cfg.init::<TestBackend>(&Default::default()).unwrap();
    assert_eq!(trainable_params(&net), 1_930_618);
    assert_eq!(
        trainable_params(&net.stem) + trainable_params(&net.stem_bn),
        1_392
    );
}

#[test]
fn nb201_counts() {
    let device = Default::default();
    let all = |op: &str| format!("|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|");
    let rows = [
        (all("nor_conv_3x3"), 1_531_546u64, 1_537_396u64),
        (all("none"), 73_306, 79_156),
        (all("skip_connect"), 73_306, 79_156),
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|".into(),
            802_426,
            808_276,
        ),
        (
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|".into(),
            129_306,
            135_156,
        ),
    ];
    let space = Nb201Space::new();
    for (arch, p10, p100) in rows {
        let g: Nb201Genotype = arch.parse().unwrap();
        assert!(space.validate(&space.parse(&arch).unwrap()).is_ok());
        for (classes, expected) in [(10, p10), (100, p100)] {
            let cfg = Nb201NetworkConfig::new(16, 5, classes);
            assert_eq!(cfg.param_count(&g), expected, "analytic {arch} K={classes}");
            let built = cfg.init::<TestBackend>(&g, &device).unwrap();
            assert_eq!(
                trainable_params(&built) as u64,
                expected,
                "built {arch} K={classes}"
            );
        }
    }
}
