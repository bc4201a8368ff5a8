#!/usr/bin/env python3
"""pytorch-fid's Inception-v3 (its FID blocks on torchvision's network) on the formula-made weights
of Tests/ModelsTests/Fixtures/make_inception_fixtures.py: writes them as safetensors (for `launcher
bench --inception`) and times pool3 features of random colour images, resized to 299x299 as
pytorch-fid does, in eval mode under no_grad (the form pytorch-fid's own script runs).

    python3 benchmarks/inception_bench.py WEIGHTS.safetensors --threads 1 [--batch-size 16] [--side 32]
"""
import argparse
import os
import time

import torch
from safetensors.torch import save_file

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ModelsTests", "Fixtures", "make_inception_fixtures.py")

parser = argparse.ArgumentParser()
parser.add_argument("weights")
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--batch-size", type=int, default=16)
parser.add_argument("--side", type=int, default=32)
parser.add_argument("--iterations", type=int, default=4)
arguments = parser.parse_args()

# The fixture script's network and weights, without its fixture-writing tail.
source = open(FIXTURE).read()
namespace = {"__file__": FIXTURE}
exec(compile(source[:source.index("torch.set_num_threads")], FIXTURE, "exec"), namespace)
network = namespace["fid_network"]()
if not os.path.exists(arguments.weights):
    save_file({name: tensor.contiguous() for name, tensor in network.state_dict().items()}, arguments.weights)
fid = namespace["fid"]
fid.fid_inception_v3 = lambda: network
model = fid.InceptionV3([3]).eval()

torch.set_num_threads(arguments.threads)
images = torch.rand(arguments.batch_size, 3, arguments.side, arguments.side, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    model(images)
    started = time.perf_counter()
    for _ in range(arguments.iterations):
        model(images)
    seconds = time.perf_counter() - started
rate = arguments.batch_size * arguments.iterations / seconds
print(f"pytorch-fid (torch {torch.__version__}), {arguments.side}x{arguments.side} colour images resized to 299x299, "
      f"batch {arguments.batch_size}, {arguments.threads} thread(s): {rate:.2f} images/s ({rate / arguments.threads:.2f} per thread)")
