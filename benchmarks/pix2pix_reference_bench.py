#!/usr/bin/env python3
"""The yardstick for `launcher bench --preset pix2pix`: pix2pix's U-Net and 70x70 PatchGAN as
pytorch-CycleGAN-and-pix2pix builds them (batch norm, dropout in the U-Net's inner levels), one
iteration as its `Pix2PixModel.optimize_parameters` runs it, on random pairs of the given side
(inputs and targets of `--channels` each), timed the way `launcher bench` times (warm-up excluded).

One iteration: G's forward once; D on the input with the detached output and on the real pair,
the vanilla GAN loss (BCE with logits on every patch) halved, backward, D's Adam step; then D
frozen, D on the input with the same output, GAN loss + 100 · L1, backward into G, G's Adam step.
LearnedLoss's iteration computes G's forward twice (once for D's phase, once for G's), so this
yardstick does less work than LearnedLoss's.

    pip install torch
    python3 benchmarks/pix2pix_reference_bench.py --resolution 128 --threads 1 --batch-size 4
"""
import torch
from torch import nn

from torch_timing import image_arguments, report_images
from torch_reference import NLayerDiscriminator, UnetGenerator


def normal_init(module):
    """The reference's init_weights('normal', 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def main():
    args = image_arguments(__doc__, resolution=128)
    generator = UnetGenerator(args.channels, args.channels, args.resolution)
    discriminator = NLayerDiscriminator(2 * args.channels)
    generator.apply(normal_init)
    discriminator.apply(normal_init)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    n, shape = args.batch_size, (args.batch_size, args.channels, args.resolution, args.resolution)
    inputs, targets = torch.rand(shape) * 2 - 1, torch.rand(shape) * 2 - 1

    def iterate():
        fake = generator(inputs)
        discriminator.requires_grad_(True)
        optimizer_d.zero_grad()
        fake_logits = discriminator(torch.cat([inputs, fake.detach()], 1))
        real_logits = discriminator(torch.cat([inputs, targets], 1))
        (0.5 * (bce(fake_logits, torch.zeros_like(fake_logits)) + bce(real_logits, torch.ones_like(real_logits)))).backward()
        optimizer_d.step()
        discriminator.requires_grad_(False)
        optimizer_g.zero_grad()
        logits = discriminator(torch.cat([inputs, fake], 1))
        (bce(logits, torch.ones_like(logits)) + 100 * (fake - targets).abs().mean()).backward()
        optimizer_g.step()

    report_images("pix2pix (pytorch-CycleGAN-and-pix2pix's networks) in PyTorch", iterate, args)


if __name__ == "__main__":
    main()
