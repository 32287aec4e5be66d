//! The MBConv chain space on the MobileNetV2 backbone: torchvision's MobileNetV2 counts
//! from the analytic counter and the built module, output shapes, a per-block latency
//! lookup table, and a supernet search on the bundled sample.

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::{Distribution, Tensor, Tolerance};
use tnd_nas::data::FashionMnistSample;
use tnd_nas::network::EvalNetworkSpec;
use tnd_nas::objective::{
    CsvTable, LookupTable, MnasReward, Objective, ObjectiveContext, ParamCount, ValidationAccuracy,
};
use tnd_nas::ops::trainable_params;
use tnd_nas::schedule::ShrinkScheduleConfig;
use tnd_nas::scoring::{DataShape, SupernetSpace};
use tnd_nas::search::{Search, SearchConfig};
use tnd_nas::spaces::mbconv::{MBCONV_OPS, MbConvNetworkConfig, MbConvNetworkSpec, MbConvSpace};
use tnd_nas::supernet::{Path, SupernetForward};
use tnd_nas::{OpKind, SearchSpace};

const V2: &str = "e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3,e6_k3";

#[test]
fn all_e6_k3_is_mobilenet_v2_as_torchvision_counts_it() {
    let space = MbConvSpace::mobilenet_v2();
    let v2 = space.parse(V2).unwrap();
    let cfg = MbConvNetworkConfig::new(1000);
    assert_eq!(cfg.param_count(&space, &v2).unwrap(), 3_504_872);
    assert_eq!(cfg.macs(&space, &v2, 224).unwrap(), 300_774_272);
    let net = cfg
        .init::<NdArray>(&space, &v2, &Default::default())
        .unwrap();
    assert_eq!(trainable_params(&net) as u64, 3_504_872);
    // The spec the search measures agrees.
    let spec = MbConvNetworkSpec::new(space.clone(), cfg);
    assert_eq!(spec.param_count(&v2).unwrap(), 3_504_872);
}

#[test]
fn counts_of_other_choices_match_the_built_module() {
    let space = MbConvSpace::mobilenet_v2();
    let archs = [
        "e3_k5,skip,e6_k7,skip,skip,e3_k3,skip,skip,skip,e6_k5,e3_k7,skip,e6_k3,skip,skip,e3_k3",
        "e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7,e6_k7",
    ];
    for (text, width) in archs.iter().zip([1.0, 0.5]) {
        let arch = space.parse(text).unwrap();
        let cfg = MbConvNetworkConfig::new(10)
            .with_in_channels(1)
            .with_width(width);
        let net = cfg
            .init::<NdArray>(&space, &arch, &Default::default())
            .unwrap();
        assert_eq!(
            trainable_params(&net) as u64,
            cfg.param_count(&space, &arch).unwrap(),
            "{text}"
        );
    }
    // Skipping blocks makes the network smaller; bigger kernels make it larger.
    let cfg = MbConvNetworkConfig::new(1000);
    let count = |t: &str| cfg.param_count(&space, &space.parse(t).unwrap()).unwrap();
    assert!(count(archs[0]) < 3_504_872 && count(archs[1]) > 3_504_872);
}

#[test]
fn output_shapes_at_32_and_224() {
    let space = MbConvSpace::mobilenet_v2();
    let v2 = space.parse(V2).unwrap();
    let device = Default::default();
    for (side, classes) in [(32, 10), (224, 1000)] {
        let net = MbConvNetworkConfig::new(classes)
            .init::<Flex>(&space, &v2, &device)
            .unwrap();
        let x = Tensor::<Flex, 4>::random([2, 3, side, side], Distribution::Default, &device);
        assert_eq!(net.forward(x).dims(), [2, classes], "side {side}");
    }
}

#[test]
fn a_latency_lookup_table_per_block_choice_and_position() {
    let space = MbConvSpace::mobilenet_v2();
    // A measured-style LUT: cost of choice `o` at block `e` = (e + 1) * (index of o + 1) ms,
    // skip free, plus a base cost for the fixed ends.
    let mut csv = String::from("op,cost,edge\nbase,2.5,\n");
    for e in 0..16 {
        for (i, op) in MBCONV_OPS.iter().enumerate() {
            csv.push_str(&format!("{op},{},{e}\n", (e + 1) * (i + 1)));
        }
        if space.candidates(e).contains(&OpKind::SkipConnect) {
            csv.push_str(&format!("skip_connect,0,{e}\n"));
        }
    }
    let table = CsvTable::parse(&csv, "mbconv-lut.csv").unwrap();
    let mut latency = LookupTable::from_csv(&table, "latency_ms").unwrap();
    let ctx = ObjectiveContext::new(&space);
    let v2 = space.parse(V2).unwrap();
    // e6_k3 is choice 4: 2.5 + 4 * (1 + 2 + ... + 16).
    assert_eq!(latency.evaluate(&v2, &ctx).unwrap(), 2.5 + 4.0 * 136.0);
    let mut ops = v2.ops().to_vec();
    ops[1] = OpKind::SkipConnect;
    ops[0] = OpKind::MbE3K3;
    let cheaper = tnd_nas::Architecture::new(ops);
    assert_eq!(
        latency.evaluate(&cheaper, &ctx).unwrap(),
        2.5 + 4.0 * 136.0 - 4.0 * 2.0 - 3.0
    );
}

#[test]
fn supernet_single_path_is_one_hot_weighted_and_shrinks() {
    let space = MbConvSpace::mobilenet_v2();
    let data = DataShape {
        classes: 10,
        channels: 1,
        height: 28,
        width: 28,
    };
    let stage = ShrinkScheduleConfig::mbconv().stages[0].clone();
    let device = Default::default();
    let active = space.all_candidates();
    let net = space
        .supernet::<NdArray>(&stage, &active, &data, &device)
        .unwrap();
    assert_eq!(net.num_edges(), 16);
    // Batch-statistics BN over the few pixels of the last blocks amplifies rounding
    // differences, so compare at a size where those statistics are well defined.
    let x = Tensor::<NdArray, 4>::random([4, 1, 64, 64], Distribution::Default, &device);
    let counts: Vec<usize> = active.iter().map(Vec::len).collect();
    let choice: Vec<usize> = counts
        .iter()
        .enumerate()
        .map(|(e, &n)| (3 * e + 1) % n)
        .collect();
    let single = net
        .forward_path(x.clone(), &Path::SinglePath(choice.clone()))
        .unwrap();
    let weighted = net
        .forward_path(x.clone(), &Path::one_hot(&choice, &counts))
        .unwrap();
    single
        .into_data()
        .assert_approx_eq::<f32>(&weighted.into_data(), Tolerance::absolute(1e-5));
    assert_eq!(single_dims(&net, x.clone(), &choice), [4, 10]);
    // Two choices per block hold fewer parameters than all of them.
    let two: Vec<Vec<OpKind>> = active.iter().map(|ops| ops[..2].to_vec()).collect();
    let small = space
        .supernet::<NdArray>(&stage, &two, &data, &device)
        .unwrap();
    assert!(trainable_params(&small) < trainable_params(&net) / 2);
    assert_eq!(small.active_ops(), two);
    // skip on a block that opens a stage cannot be built.
    let mut bad = two.clone();
    bad[0] = vec![OpKind::SkipConnect];
    assert!(
        space
            .supernet::<NdArray>(&stage, &bad, &data, &device)
            .is_err()
    );
}

fn single_dims(
    net: &impl SupernetForward<NdArray>,
    x: Tensor<NdArray, 4>,
    choice: &[usize],
) -> [usize; 2] {
    net.forward_path(x, &Path::SinglePath(choice.to_vec()))
        .unwrap()
        .dims()
}

#[test]
fn supernet_search_on_the_bundled_sample() {
    let all = FashionMnistSample::load().unwrap();
    let data = all.subset(&(0..128).collect::<Vec<_>>()).unwrap();
    let stages = ShrinkScheduleConfig::mbconv()
        .stages
        .into_iter()
        .map(|s| s.with_epochs(2, 1))
        .collect();
    let mut config = SearchConfig::quick()
        .with_schedule(ShrinkScheduleConfig::new(stages))
        .with_batch_size(16)
        .with_max_steps_per_epoch(Some(2))
        .with_seed(5);
    config.train.alpha_every = 1;
    let objectives: Vec<Box<dyn Objective>> = vec![
        Box::new(ValidationAccuracy::new()),
        Box::new(ParamCount::new().in_millions()),
    ];
    let reward = MnasReward::new(vec![3.5], vec![-0.3]).unwrap();
    let space = MbConvSpace::mobilenet_v2();
    let result = Search::builder(space.clone())
        .objectives(objectives)
        .reward(reward)
        .build::<Autodiff<Flex>>(config, data, Default::default())
        .unwrap()
        .run(&mut [])
        .unwrap();
    assert_eq!(result.stages.len(), 3);
    let arch = space.parse(&result.final_architecture.text).unwrap();
    assert_eq!(arch, result.final_architecture.architecture);
    // Parameters are those of the width-1 network at 10 classes, 1 input channel.
    let params = MbConvNetworkConfig::new(10)
        .with_in_channels(1)
        .param_count(&space, &arch)
        .unwrap();
    assert_eq!(result.final_params, Some(params));
}
