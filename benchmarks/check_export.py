"""Checks a `launcher export` file against LearnedLoss's own output.

    launcher sample CKPT --count 64 --out samples.h5
    launcher export CKPT --out G.safetensors
    python3 benchmarks/check_export.py G.safetensors samples.h5

Loads the safetensors file into the PyTorch reference generator of its preset (torch_reference.py)
with strict=True, runs it in evaluation mode on the `generator_input` that `launcher sample`
stored, and compares with the stored `samples`. Exits 1 when they differ by more than 1e-4.
Needs torch, safetensors and h5py; LearnedLoss itself does not.
"""
import json
import struct
import sys

import h5py
import numpy as np
import torch
from safetensors.torch import load_file

import torch_reference as reference

GENERATORS = {
    "dcgan28": reference.dcgan28_generator, "alphagan28": reference.dcgan28_generator,
    "grid2d": reference.mlp2d_generator, "ring2d": reference.mlp2d_generator,
    "completion28": reference.Completion28Generator, "colorize28": reference.Colorize28Generator,
}


def metadata(path):
    with open(path, "rb") as file:
        length = struct.unpack("<Q", file.read(8))[0]
        return json.loads(file.read(length))["__metadata__"]


def main(weights, samples):
    info = metadata(weights)
    if not info["network"].startswith("generator"):
        sys.exit(f"{weights}: holds /{info['network']}; this check runs generators")
    module = GENERATORS[info["preset"]]()
    module.load_state_dict(load_file(weights), strict=True)
    module.eval()
    with h5py.File(samples, "r") as file:
        given = torch.from_numpy(file["generator_input"][...])
        expected = file["samples"][...]
    with torch.no_grad():
        output = module(given).numpy()
    if info["preset"] == "completion28":
        expected = expected[:, :, 14:, :]  # the stored samples are whole images: the given top, the generated bottom
    difference = float(np.abs(output.reshape(expected.shape) - expected).max())
    print(f"{info['preset']} /{info['network']} at step {info['step']}: {len(expected)} samples, "
          f"largest difference from LearnedLoss {difference:.3g}")
    sys.exit(0 if difference <= 1e-4 else 1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
