"""Prints the state_dict() layout (name, shape, dtype) of the NAS-Bench-201 reference
TinyNetwork(C, N, CellStructure.str2structure(cell), num_classes) without PyTorch.

It runs the reference code itself (D-X-Y/AutoDL-Projects: xautodl/models/cell_operations.py,
xautodl/models/cell_infers/cells.py, xautodl/models/cell_infers/tiny_network.py,
xautodl/models/cell_searchs/genotypes.py) against a stand-in for the few torch.nn classes it
builds, which reproduces how torch names a state_dict: a module's own parameters, then its
persistent buffers, then its children, in registration order, `None` entries skipped,
Sequential/ModuleList children named 0, 1, ...; Conv2d: weight [out, in/groups, kh, kw]
(+ bias); BatchNorm2d: weight, bias (affine), running_mean, running_var, num_batches_tracked
(int64, shape []) (track_running_stats); Linear: weight [out, in], bias.

    python3 nb201_state_dict.py ROOT C N CLASSES CELL

ROOT is a directory holding those four files under xautodl/models/ (empty __init__.py
files in xautodl/, xautodl/models/, cell_infers/ and cell_searchs/, so that importing
them runs nothing else).
"""

import sys
import types


class Module:
    def __init__(self):
        object.__setattr__(self, "_entries", [])  # (kind, name, value)

    def __setattr__(self, name, value):
        kinds = {"param": Param, "module": Module}
        for kind, cls in kinds.items():
            if isinstance(value, cls):
                self._entries.append((kind, name, value))
        object.__setattr__(self, name, value)

    def register_buffer(self, name, value):
        self._entries.append(("buffer", name, value))

    def state_dict(self, prefix=""):
        out = []
        for want in ("param", "buffer"):
            for kind, name, value in self._entries:
                if kind == want and value is not None:
                    out.append((prefix + name, value.shape, value.dtype))
        for kind, name, value in self._entries:
            if kind == "module":
                out += value.state_dict(prefix + name + ".")
        return out


class Param:
    def __init__(self, shape, dtype="f32"):
        self.shape, self.dtype = list(shape), dtype


def param(module, name, shape):
    setattr(module, name, Param(shape))


class Sequential(Module):
    def __init__(self, *mods):
        super().__init__()
        for i, m in enumerate(mods):
            setattr(self, str(i), m)

    def __len__(self):
        return sum(1 for k, _, _ in self._entries if k == "module")


class ModuleList(Sequential):
    def append(self, m):
        setattr(self, str(len(self)), m)


def pair(x):
    return x if isinstance(x, tuple) else (x, x)


class Conv2d(Module):
    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        param(self, "weight", [c_out, c_in // groups, kh, kw])
        if bias:
            param(self, "bias", [c_out])


class BatchNorm2d(Module):
    def __init__(self, c, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        if affine:
            param(self, "weight", [c])
            param(self, "bias", [c])
        if track_running_stats:
            self.register_buffer("running_mean", Param([c]))
            self.register_buffer("running_var", Param([c]))
            self.register_buffer("num_batches_tracked", Param([], "i64"))


class Linear(Module):
    def __init__(self, c_in, c_out, bias=True):
        super().__init__()
        param(self, "weight", [c_out, c_in])
        if bias:
            param(self, "bias", [c_out])


class NoTensors(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()


nn = types.ModuleType("torch.nn")
nn.Module, nn.Sequential, nn.ModuleList = Module, Sequential, ModuleList
nn.Conv2d, nn.BatchNorm2d, nn.Linear = Conv2d, BatchNorm2d, Linear
for name in ("ReLU", "AvgPool2d", "MaxPool2d", "AdaptiveAvgPool2d", "ConstantPad2d"):
    setattr(nn, name, type(name, (NoTensors,), {}))
torch = types.ModuleType("torch")
torch.nn = nn
sys.modules["torch"], sys.modules["torch.nn"] = torch, nn

root, c, n, classes, cell = sys.argv[1:6]
sys.path.insert(0, root)
from xautodl.models.cell_infers.tiny_network import TinyNetwork  # noqa: E402
from xautodl.models.cell_searchs.genotypes import Structure  # noqa: E402

net = TinyNetwork(int(c), int(n), Structure.str2structure(cell), int(classes))
for name, shape, dtype in net.state_dict():
    print(f"{name} [{','.join(map(str, shape))}] {dtype}")
