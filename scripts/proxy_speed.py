#!/usr/bin/env python3
"""PyTorch's time per cell for each zero-cost proxy on the zero-cost-nas protocol, beside
the crate's criterion bench (`benches/proxy.rs`); `scripts/proxy-speed.sh` runs both in
one go.

The protocol of the zero-cost-nas code (Abdelfattah et al. 2021, `measures/synflow.py`
with `find_measures`): the NAS-Bench-201 network (C = 16, N = 5, 10 classes) built with
PyTorch's default initialisation and without BN, cast to float64, every parameter made
positive in place, one all-ones 1x3x32x32 input, backward of the summed output, the score
the sum of |w * dR/dw| over every Conv2d and Linear weight. Timed per cell from building
the network to the score, over the bench's eight cells (the same formula), two threads.

naswot, grad_norm and snip (the zero-cost-nas `jacob`-free definitions the crate follows,
scripts/proxy_reference.py): the network in float32 with PyTorch's default
initialisation and BN in training mode, one batch of 64 standard-normal 3x32x32 images
(seeded) with labels 0..9; naswot sums the binary-code kernels of every ReLU's input
under no_grad and takes slogdet; grad_norm and snip each run one forward and backward of
the cross-entropy, as the zero-cost-nas code computes each measure on its own.

Run: python3 scripts/proxy_speed.py [rounds]   (PyTorch 2.x, CPU)
"""
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import proxy_reference as ref  # noqa: E402

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def cells():
    out = []
    for k in range(8):
        i = (k * 1953 + 7) % 15625
        op = []
        for _ in range(6):
            op.append(i % 5)
            i //= 5
        o = [OPS[j] for j in op]
        out.append(f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|")
    return out


def no_bn(module):
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, nn.Identity())
        else:
            no_bn(child)
    return module


def synflow(arch):
    net = no_bn(ref.TinyNetwork(ref.parse(arch))).double()
    with torch.no_grad():
        for p in net.state_dict().values():
            p.abs_()
    net.zero_grad()
    out = net(torch.ones(1, 3, 32, 32, dtype=torch.float64))
    torch.sum(out).backward()
    score = 0.0
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.grad is not None:
            score += torch.sum(torch.abs(m.weight * m.weight.grad)).item()
    return score


BATCH = None


def batch():
    global BATCH
    if BATCH is None:
        g = torch.Generator().manual_seed(0)
        BATCH = (torch.randn(64, 3, 32, 32, generator=g), torch.arange(64) % 10)
    return BATCH


def naswot(arch):
    net = ref.TinyNetwork(ref.parse(arch)).train()
    x, _ = batch()
    n = x.shape[0]
    K = torch.zeros(n, n)

    def hook(module, inp, out):
        c = (inp[0].reshape(n, -1) > 0).float()
        K.add_(c @ c.t() + (1.0 - c) @ (1.0 - c).t())

    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(hook)
    with torch.no_grad():
        net(x)
    return torch.slogdet(K)[1].item()


def loss_gradients(arch):
    net = ref.TinyNetwork(ref.parse(arch)).train()
    x, y = batch()
    nn.functional.cross_entropy(net(x), y).backward()
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.grad is not None]


def grad_norm(arch):
    return sum(m.weight.grad.norm().item() for m in loss_gradients(arch))


def snip(arch):
    return sum((m.weight * m.weight.grad).abs().sum().item() for m in loss_gradients(arch))


def time_per_cell(name, score, rounds, note):
    archs = cells()
    score(archs[0])  # warm-up
    per_round = []
    for _ in range(rounds):
        t = time.perf_counter()
        for a in archs:
            score(a)
        per_round.append((time.perf_counter() - t) / len(archs))
    ms = [1000 * s for s in per_round]
    print(f"pytorch {torch.__version__} {name}/nb201/C16/N5/32x32 {note}, 2 threads: "
          f"{statistics.median(ms):.1f} ms per cell (median of {rounds} rounds of {len(archs)} cells; "
          f"min {min(ms):.1f}, max {max(ms):.1f})")


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    time_per_cell("synflow", synflow, rounds, "float64")
    for name, score in [("naswot", naswot), ("grad_norm", grad_norm), ("snip", snip)]:
        time_per_cell(name, score, rounds, "float32 batch64")


if __name__ == "__main__":
    main()
