"""What the PyTorch fixture scripts share: the formula both sides compute weights and inputs from,
and the way a large tensor is kept in a fixture (every `stride`-th element and its L2 norm).
Swift's side is TestSupport's PatternWeights and SampledTensor."""
import json
import math
import os
import sys

import torch

SAMPLES_PER_TENSOR = 256


def pattern(shape, seed, scale=1.0, shift=0.0):
    """scale * sin(0.37 * i + 1.1 * seed) + shift over the flat index i, in float64 then float32."""
    n = math.prod(shape)
    values = [shift + scale * math.sin(0.37 * i + 1.1 * seed) for i in range(n)]
    return torch.tensor(values, dtype=torch.float64).float().reshape(shape)


def set_pattern_weights(network):
    """Index k of the state_dict is the seed: matrices scaled by 1/sqrt(fan-in), BatchNorm's scale around 1, biases small."""
    with torch.no_grad():
        for k, (name, tensor) in enumerate(network.state_dict().items()):
            if name.endswith("num_batches_tracked") or "running" in name:
                continue
            if tensor.dim() >= 2:
                value = pattern(tensor.shape, k, 1 / math.sqrt(math.prod(tensor.shape[1:])))
            elif name.endswith("weight"):  # BatchNorm's scale
                value = pattern(tensor.shape, k, 0.1, 1.0)
            else:
                value = pattern(tensor.shape, k, 0.1)
            tensor.copy_(value)


def rounded(values):
    """Float32 needs 9 significant digits to round-trip; 8 keep the file small and are far inside the tolerances."""
    return [float(f"{v:.8g}") for v in values]


def sampled(tensor):
    flat = tensor.detach().flatten()
    stride = max(1, flat.numel() // SAMPLES_PER_TENSOR)
    return {"stride": stride, "values": rounded(flat[::stride].tolist()), "norm": flat.double().norm().item()}


def write_cases(path, cases):
    """Computes the cases named on the command line (all without names) and writes them into the
    JSON file at `path`, keeping the others it holds; exits naming an unknown case."""
    named = sys.argv[1:]
    unknown = [name for name in named if name not in cases]
    if unknown:
        sys.exit(f"unknown cases {unknown}; the cases are {sorted(cases)}")
    fixtures = {}
    if named:
        with open(path) as f:
            fixtures = json.load(f)
    for name, make in cases.items():
        if not named or name in named:
            fixtures[name] = make()
    fixtures["torch_version"] = torch.__version__
    with open(path, "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB) with torch {torch.__version__}")
