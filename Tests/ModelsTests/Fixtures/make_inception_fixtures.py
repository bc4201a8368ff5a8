#!/usr/bin/env python3
"""Writes inception.json: pytorch-fid's FID Inception-v3 on weights made by a formula, for
ModelsTests/InceptionParityTests.swift. Run by hand (pip install torch torchvision pytorch-fid):

    python3 Tests/ModelsTests/Fixtures/make_inception_fixtures.py

The network is pytorch-fid's own (`pytorch_fid.inception`: torchvision's Inception-v3 with 1008
classes and its FIDInceptionA/C/E_1/E_2 blocks), built without downloading anything: its weights
come from `hashed` below, which the Swift test computes too (TestSupport's PatternWeights.hashed),
by the state dict's names and order recorded here, so the fixture holds no weights. (The sine
`pattern` of the other fixtures is too smooth for ninety layers: it cancels the input out of the
deep features.) Running variances are drawn around 0.15, which keeps activations at their scale
through the network.

The fixture holds, for gray 28x28 (repeated to three channels, as pytorch-fid does), colour
32x32 and colour 64x64 inputs in [0, 1], the outputs of pytorch-fid's four blocks (64, 192, 768
and 2048 channels: the last is pool3, the FID features), each sampled (every stride-th value and
the L2 norm, torch_fixtures.sampled). And the FID of two sets of 2048-d features made by the same
formula, by pytorch-fid's own formula (scipy's sqrtm).
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import pytorch_fid.inception as fid  # noqa: E402
from torch_fixtures import pattern, sampled, write_cases  # noqa: E402

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def hashed(shape, seed, scale=1.0, shift=0.0):
    """shift + scale * (2u - 1), u uniform in [0, 1) from SplitMix64 of the flat index i + (seed + 1) * golden, in float64 then float32."""
    n = math.prod(shape)
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64(seed + 1) * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return torch.from_numpy(shift + scale * (2 * u - 1)).float().reshape(tuple(shape))


def hashed_weights(state):
    """The state dict's k-th entry from hashed(seed k): kernels within 1/sqrt(fan-in), BatchNorm's scale around 1, running variances around 0.15."""
    with torch.no_grad():
        for k, (name, tensor) in enumerate(state.items()):
            if name.endswith("num_batches_tracked"):
                continue
            if tensor.dim() >= 2:
                value = hashed(tensor.shape, k, 1 / math.sqrt(math.prod(tensor.shape[1:])))
            elif name.endswith("running_var"):
                value = hashed(tensor.shape, k, 0.0075, 0.15)
            elif name.endswith("running_mean"):
                value = hashed(tensor.shape, k, 0.05)
            elif name.endswith("weight"):
                value = hashed(tensor.shape, k, 0.1, 1.0)
            else:
                value = hashed(tensor.shape, k, 0.1)
            tensor.copy_(value)


def fid_network():
    """pytorch-fid's fid_inception_v3() without its download."""
    network = fid._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    network.Mixed_5b = fid.FIDInceptionA(192, pool_features=32)
    network.Mixed_5c = fid.FIDInceptionA(256, pool_features=64)
    network.Mixed_5d = fid.FIDInceptionA(288, pool_features=64)
    network.Mixed_6b = fid.FIDInceptionC(768, channels_7x7=128)
    network.Mixed_6c = fid.FIDInceptionC(768, channels_7x7=160)
    network.Mixed_6d = fid.FIDInceptionC(768, channels_7x7=160)
    network.Mixed_6e = fid.FIDInceptionC(768, channels_7x7=192)
    network.Mixed_7b = fid.FIDInceptionE_1(1280)
    network.Mixed_7c = fid.FIDInceptionE_2(2048)
    hashed_weights(network.state_dict())
    return network


torch.set_num_threads(2)
network = fid_network()
fid.fid_inception_v3 = lambda: network
model = fid.InceptionV3(output_blocks=[0, 1, 2, 3]).eval()


def case(channels, side):
    def make():
        images = pattern([2, channels, side, side], 1000, 0.5, 0.5)
        with torch.no_grad():
            blocks = model(images.expand(2, 3, side, side) if channels == 1 else images)
        return {"input": [2, channels, side, side], "blocks": [sampled(block) for block in blocks]}
    return make


def frechet_distance_2048():
    """FID by pytorch-fid's formula (scipy's sqrtm of the covariances' product) between two sets of
    3000 formula-made 2048-d features, as a float32 feature matrix gives them."""
    from scipy import linalg
    first = hashed([3000, 2048], 1).double().numpy()
    second = hashed([3000, 2048], 2, 1.1, 0.05).double().numpy()
    mu1, mu2 = first.mean(axis=0), second.mean(axis=0)
    s1, s2 = np.cov(first, rowvar=False), np.cov(second, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return {"count": 3000, "frechet_distance": float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))}


def state_names():
    return [[name, list(tensor.shape)] for name, tensor in network.state_dict().items()]


write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), "inception.json"), {
    "state": state_names,
    "gray28": case(1, 28),
    "colour32": case(3, 32),
    "colour64": case(3, 64),
    "fid2048": frechet_distance_2048,
})
