#!/usr/bin/env python3
"""Reference values of the data-dependent zero-cost proxies (naswot, grad_norm, snip) for
two NAS-Bench-201 cells, computed with PyTorch from the proxies' reference definitions;
tests/proxies.rs checks the crate against them.

The network is NAS-Bench-201's (the `TinyNetwork` of the NAS-Bench-201 code, re-typed
here from its definition: stem conv 3x3 + BN, N cells per stage joined by the residual
reduction blocks, BN + ReLU, global average pool, linear) at C = 16, N = 5, 10 classes, in
float64 (weights of the size of a PyTorch initialisation: with larger ones the network is
chaotic, and float64 rounding grows to 1e-6 in the loss and 1% in the gradients), BN in training mode (batch statistics) as the zero-cost-nas and NASWOT code run
it. Its weights are not random but a fixed pattern, so that the crate can build the same
network without sharing an RNG: every conv and linear weight (PyTorch layout, flattened)
is `sin(0.61 * k + 0.37 * numel) / sqrt(fan_in)`, every linear bias 0, BN scale 1 and shift 0. The
batch: 8 images 3x32x32, pixel `k` of the flattened batch `sin(0.37 * k + 0.5)`, labels
`i % 10`.

- naswot (Mellor et al. 2021, `score_networks.py`): a forward hook on every nn.ReLU adds
  `c c^T + (1 - c)(1 - c)^T` to K, `c` the batch's binary codes `(input > 0)`; the score
  is `slogdet(K)[1]`.
- grad_norm (Abdelfattah et al. 2021, `measures/grad_norm.py`): mean cross-entropy of
  the batch, backward, the sum over every Conv2d and Linear of `weight.grad.norm()`.
- snip (`measures/snip.py`): the sum over every Conv2d and Linear of
  `|weight * weight.grad|` (the gradient of a multiplicative mask at 1).

Run: python3 scripts/proxy_reference.py   (PyTorch 2.x, CPU; about a second)
"""
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x):
        return self.op(x)


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


def make_op(name, c):
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(name)


class Cell(nn.Module):
    def __init__(self, ops, c):
        # ops in edge order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
        super().__init__()
        self.edges = nn.ModuleList([make_op(o, c) for o in ops])
        self.index = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]

    def forward(self, x):
        nodes = [x]
        for i in range(1, 4):
            nodes.append(sum(self.edges[e](nodes[j]) for e, (t, j) in enumerate(self.index) if t == i))
        return nodes[3]


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    def __init__(self, ops, c=16, n=5, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        blocks, cur = [], c
        for stage in range(3):
            if stage > 0:
                blocks.append(ResBlock(cur, 2 * cur))
                cur *= 2
            blocks += [Cell(ops, cur) for _ in range(n)]
        self.cells = nn.ModuleList(blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(cur), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(cur, classes)

    def forward(self, x):
        x = self.stem(x)
        for b in self.cells:
            x = b(x)
        x = self.lastact(x)
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


def parse(arch):
    return [tok.split("~")[0] for tok in arch.split("|") if "~" in tok]


def pattern(shape):
    numel = math.prod(shape)
    fan_in = numel // shape[0]
    k = torch.arange(numel, dtype=torch.float64)
    return torch.sin(0.61 * k + 0.37 * numel) / math.sqrt(fan_in)


def build(arch):
    net = TinyNetwork(parse(arch)).double()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(pattern(tuple(m.weight.shape)).reshape(m.weight.shape))
                if m.bias is not None:
                    m.bias.zero_()
    net.train()
    return net


def batch():
    n = 8
    k = torch.arange(n * 3 * 32 * 32, dtype=torch.float64)
    x = torch.sin(0.37 * k + 0.5).reshape(n, 3, 32, 32)
    y = torch.arange(n) % 10
    return x, y


def naswot(arch):
    net = build(arch)
    x, _ = batch()
    n = x.shape[0]
    K = torch.zeros(n, n, dtype=torch.float64)

    def hook(module, inp, out):
        c = (inp[0].reshape(n, -1) > 0).double()
        K.add_(c @ c.t() + (1.0 - c) @ (1.0 - c).t())

    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(hook)
    with torch.no_grad():
        net(x)
    return torch.slogdet(K)[1].item()


def gradients(arch):
    net = build(arch)
    x, y = batch()
    F.cross_entropy(net(x), y).backward()
    gn = sn = 0.0
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.grad is not None:
            gn += m.weight.grad.norm().item()
            sn += (m.weight * m.weight.grad).abs().sum().item()
    return gn, sn


CELLS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
]

if __name__ == "__main__":
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}", file=sys.stderr)
    for arch in CELLS:
        gn, sn = gradients(arch)
        print(f"{arch}: naswot {naswot(arch)!r} grad_norm {gn!r} snip {sn!r}")
