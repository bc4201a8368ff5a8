#!/usr/bin/env python3
"""A PyTorch twin of LearnedLoss's alphagan28 for finding where its samples fall short: the same
networks (torch_reference.py), DCGAN initialisation, losses, λ on the per-pixel mean, Adam settings,
batch and budget as `launcher train --preset alphagan28` (Sources/Training/AlphaGANStep.swift), one
process. It writes the generator's samples G(z) of 10,000 prior draws, and the reconstructions
G(E(x)) of the first 10,000 test images, as HDF5 `images` [N, 1, 28, 28] in [-1, 1], for
`launcher evaluate --images`:

    pip install torch h5py
    python3 benchmarks/alphagan_twin.py --steps 1500 --out /tmp/twin
    launcher evaluate --images /tmp/twin/samples.h5

Options vary the settings the comparison suspects (`--recon-weight`, `--code-lr`).
PyTorch is a tool for this comparison only, never a dependency of LearnedLoss.
"""
import argparse
import gzip
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import (  # noqa: E402
    alphagan28_code_discriminator, alphagan28_encoder, dcgan28_discriminator, dcgan28_generator)

FASHION = "/usr/share/datasets/fashion-mnist"


def images(name):
    with gzip.open(os.path.join(FASHION, name)) as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    return torch.from_numpy(data.astype(np.float32) / 127.5 - 1)


def dcgan_init(network):
    for m in network.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            torch.nn.init.normal_(m.weight, 0, 0.02)
            torch.nn.init.zeros_(m.bias)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            torch.nn.init.normal_(m.weight, 1, 0.02)
            torch.nn.init.zeros_(m.bias)
    return network


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--recon-weight", type=float, default=30.0, help="λ on the per-pixel mean L1 (alphagan28's default; 784 is λ = 1 on the pixel sum)")
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--code-lr", type=float, default=None, help="C's learning rate (default --lr)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    train, test = images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz")
    G, D = dcgan_init(dcgan28_generator()), dcgan_init(dcgan28_discriminator())
    E, C = dcgan_init(alphagan28_encoder()), dcgan_init(alphagan28_code_discriminator())
    adam = lambda net, lr: torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_e, opt_g, opt_d, opt_c = adam(E, args.lr), adam(G, args.lr), adam(D, args.lr), adam(C, args.code_lr or args.lr)
    order, position = torch.randperm(len(train)), 0
    for step in range(1, args.steps + 1):
        if position + args.batch_size > len(train):
            order, position = torch.randperm(len(train)), 0
        x = train[order[position:position + args.batch_size]]
        position += args.batch_size
        z = torch.randn(len(x), 100)
        # 1. E and G together through D and C, whose gradients are discarded.
        codes = E(x)
        reconstructions, samples = G(codes), G(z)
        l1 = (reconstructions - x).abs().mean()
        loss = args.recon_weight * l1 + bce(D(reconstructions), 1) + bce(D(samples), 1) + bce(C(codes), 1)
        opt_e.zero_grad(); opt_g.zero_grad()
        loss.backward()
        opt_e.step(); opt_g.step()
        # 2. D: real against the reconstructions and the samples, half each; D(x) shared.
        opt_d.zero_grad()
        real = D(x)
        d_loss = 0.5 * (bce(real, 1) + bce(D(reconstructions.detach()), 0)) + 0.5 * (bce(real, 1) + bce(D(samples.detach()), 0))
        d_loss.backward()
        opt_d.step()
        # 3. C: prior samples are real, codes fake.
        opt_c.zero_grad()
        c_loss = bce(C(z), 1) + bce(C(codes.detach()), 0)
        c_loss.backward()
        opt_c.step()
        if step % 100 == 0 or step == args.steps:
            print(f"step {step}  L1 {l1.item():.4f}  D {d_loss.item():.4f}  C {c_loss.item():.4f}  G+E {loss.item():.2f}", flush=True)

    G.eval(); E.eval()
    with torch.no_grad():
        samples = torch.cat([G(torch.randn(500, 100)) for _ in range(20)])
        reconstructions = torch.cat([G(E(test[i:i + 500])) for i in range(0, 10000, 500)])
    print(f"test reconstruction L1 {(reconstructions - test[:10000]).abs().mean().item():.4f}")
    for name, tensor in [("samples", samples), ("reconstructions", reconstructions)]:
        with h5py.File(os.path.join(args.out, f"{name}.h5"), "w") as f:
            f["images"] = tensor.numpy()
    print(f"wrote {args.out}/samples.h5 and {args.out}/reconstructions.h5")


if __name__ == "__main__":
    main()
