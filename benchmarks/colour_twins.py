#!/usr/bin/env python3
"""PyTorch twins of LearnedLoss's dcgan and sngan on the same HDF5 data set, for comparing FID in
one evaluator's features: the same networks (torch_reference.py), initialisation, objective, Adam
settings, D updates per G update, batch and steps as `launcher train --preset dcgan|sngan` with its
defaults and `--ema-decay 0`, one process. dcgan's iteration is PyTorch's own example's (one G
forward, the fake batch reused for G's step); sngan's is StudioGAN's (each of the 5 D updates draws
its own real and fake batch, then G's update a new one). Every --eval-every steps and at the end it
writes --eval-samples of the generator, in evaluation mode, as HDF5 `images` [N, C, H, W] in
[-1, 1], for `launcher evaluate --images`:

    pip install torch h5py
    python3 benchmarks/colour_twins.py --preset dcgan --data colour-32.h5 --steps 2000 --out /tmp/twin-dcgan
    launcher evaluate --images /tmp/twin-dcgan/samples-00002000.h5 --evaluator evaluator/colour-32.h5

benchmarks/colour_quality.sh runs both twins beside LearnedLoss and measures all of them.
PyTorch is a tool for this comparison only, never a dependency of LearnedLoss.
"""
import argparse
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import DCGANDiscriminator, DCGANGenerator, SNGANDiscriminator, SNGANGenerator  # noqa: E402


def load(path):
    """The file's uint8 images as [N, C, H, W], as `launcher dataset` writes them (layout NCHW or NHWC)."""
    with h5py.File(path, "r") as f:
        images = f["images"]
        layout = images.attrs.get("layout", "NCHW")
        layout = layout.decode() if isinstance(layout, bytes) else layout
        pixels = images[()]
    return torch.from_numpy(pixels if layout == "NCHW" else pixels.transpose(0, 3, 1, 2).copy())


def dcgan_init(network):
    """The example's weights_init: N(0, 0.02) convolutions, BatchNorm scale N(1, 0.02), shift 0."""
    for m in network.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.normal_(m.weight, 0, 0.02)
        elif isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight, 1, 0.02)
            torch.nn.init.zeros_(m.bias)
    return network


def orthogonal_init(network):
    """StudioGAN's "ortho": orthogonal weights (through spectral norm's weight_orig), zero biases."""
    for m in network.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.orthogonal_(getattr(m, "weight_orig", m.weight))
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    return network


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=["dcgan", "sngan"], required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--eval-samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    data = load(args.data)
    channels, resolution = data.shape[1], data.shape[2]
    if args.preset == "dcgan":
        G, D = dcgan_init(DCGANGenerator(resolution, channels)), dcgan_init(DCGANDiscriminator(resolution, channels))
        nz, betas, d_steps = 100, (0.5, 0.999), 1
    else:
        G, D = orthogonal_init(SNGANGenerator(resolution, channels)), orthogonal_init(SNGANDiscriminator(resolution, channels))
        nz, betas, d_steps = 128, (0.0, 0.9), 5
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=betas)
    order, position = torch.randperm(len(data)), 0

    def real_batch():
        nonlocal order, position
        if position + args.batch_size > len(data):
            order, position = torch.randperm(len(data)), 0
        batch = data[order[position:position + args.batch_size]].float() / 127.5 - 1
        position += args.batch_size
        return batch

    def write_samples(step):
        G.eval()
        with torch.no_grad():
            samples = torch.cat([G(torch.randn(min(500, args.eval_samples - i), nz)) for i in range(0, args.eval_samples, 500)])
        G.train()
        path = os.path.join(args.out, f"samples-{step:08d}.h5")
        with h5py.File(path, "w") as f:
            f["images"] = samples.numpy().astype(np.float32)
        print(f"wrote {path}", flush=True)

    ones, zeros = torch.ones(args.batch_size, 1), torch.zeros(args.batch_size, 1)
    for step in range(1, args.steps + 1):
        if args.preset == "dcgan":
            # pytorch/examples dcgan/main.py: D on real and on G(z), then G's step on the same G(z).
            fake = G(torch.randn(args.batch_size, nz))
            opt_d.zero_grad()
            d_loss = F.binary_cross_entropy_with_logits(D(real_batch()), ones) + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
            g_loss.backward()
            opt_g.step()
        else:
            for _ in range(d_steps):
                with torch.no_grad():
                    fake = G(torch.randn(args.batch_size, nz))
                opt_d.zero_grad()
                d_loss = F.relu(1 - D(real_batch())).mean() + F.relu(1 + D(fake)).mean()
                d_loss.backward()
                opt_d.step()
            opt_g.zero_grad()
            g_loss = -D(G(torch.randn(args.batch_size, nz))).mean()
            g_loss.backward()
            opt_g.step()
        if step % 50 == 0 or step == args.steps:
            print(f"step {step}/{args.steps}  D {d_loss.item():.4f}  G {g_loss.item():.4f}", flush=True)
        if step % args.eval_every == 0 or step == args.steps:
            write_samples(step)


if __name__ == "__main__":
    main()
