use burn::backend::{Autodiff, Flex};
use tnd_nas::data::{FashionMnistSample, ImageDataset, ImageShape, Normalization};
use tnd_nas::eval::{RetrainConfig, RetrainEvent, retrain};
const G: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
fn halve(data: &ImageDataset) -> ImageDataset {
    let (h, w) = (data.height() / 2, data.width() / 2);
    let mut pixels = Vec::new();
    for i in 0..data.len() { let img = data.image(i).unwrap();
        for y in 0..h { for x in 0..w { let at = |dy: usize, dx: usize| u32::from(img[(2*y+dy)*data.width()+2*x+dx]);
            pixels.push(((at(0,0)+at(0,1)+at(1,0)+at(1,1)+2)/4) as u8); } } }
    ImageDataset::new("h", ImageShape::new(1, h, w), 10, pixels, data.labels().to_vec()).unwrap()
}
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let p = |i: usize| a[i].parse::<f64>().unwrap();
    let (layers, batch, steps, epochs, aux, lr, ntest) = (p(1) as usize, p(2) as usize, p(3) as usize, p(4) as usize, p(5) > 0.0, p(6), p(7) as usize);
    let (s, h) = FashionMnistSample::search_and_holdout().unwrap();
    let (s, h) = (halve(&s), halve(&h));
    let h = h.subset(&(0..ntest).collect::<Vec<_>>()).unwrap();
    let cfg = RetrainConfig::default().with_channels(8).with_layers(layers).with_epochs(epochs).with_batch_size(batch)
      .with_lr(lr).with_auxiliary(aux).with_cutout(None).with_crop_padding(p(8) as usize).with_drop_path(p(9)).with_max_steps_per_epoch(Some(steps)).with_eval_every(1);
    let g: tnd_nas::Genotype = G.parse().unwrap();
    let o = retrain::<Autodiff<Flex>>(&cfg, &g, s, h, &Normalization::fashion_mnist(), &Default::default(), &mut |e| if let RetrainEvent::Epoch(e) = e { println!("  ep {} loss {:.3} train {:.1} test {:?} {:.1}s eval {:.1}s", e.epoch, e.loss, e.train_accuracy, e.test_accuracy, e.seconds, e.eval_seconds) }).unwrap();
    println!("{:?} -> test {:.1} wall {:.1}", &a[1..], o.report.test_accuracy, o.report.wall_seconds);
}
