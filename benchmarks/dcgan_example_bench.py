#!/usr/bin/env python3
"""The yardstick for `launcher bench --preset dcgan`: PyTorch's own DCGAN example
(`pytorch/examples`, `dcgan/main.py`), iteration for iteration as a user runs it, on random data
of the given side and channels, timed the way `launcher bench` times (warm-up excluded).

One iteration, as the example writes it: D on the real batch, backward; G makes the fake batch
once; D on it detached, backward; D's Adam step; then D on the same fake batch for G's loss,
backward through D into G; G's Adam step. BCE on logits (the example's Sigmoid and BCELoss, fused).
LearnedLoss's dcgan iteration does the same work, but for D's weight gradients in G's step, which
the example computes (it leaves D trainable there) and LearnedLoss skips (D frozen); --freeze-d
freezes D in G's step, for the same work on both sides.

    pip install torch
    python3 benchmarks/dcgan_example_bench.py --resolution 64 --channels 3 --threads 1 --batch-size 64
"""
import torch
from torch import nn

from torch_timing import image_arguments, report_images
from torch_reference import DCGANDiscriminator, DCGANGenerator


def example_init(module):
    """The example's weights_init: convolutions N(0, 0.02), BatchNorm's scale N(1, 0.02) and shift 0."""
    name = module.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def main():
    args = image_arguments(__doc__, resolution=64, add_options=lambda parser: parser.add_argument(
        "--freeze-d", action="store_true", help="D frozen in G's step (no weight gradients for D there)"))
    generator, discriminator = DCGANGenerator(args.resolution, args.channels), DCGANDiscriminator(args.resolution, args.channels)
    generator.apply(example_init)
    discriminator.apply(example_init)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    criterion = nn.BCEWithLogitsLoss()
    n = args.batch_size
    real = torch.rand(n, args.channels, args.resolution, args.resolution) * 2 - 1
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)

    def iterate():
        discriminator.zero_grad()
        criterion(discriminator(real), ones).backward()
        fake = generator(torch.randn(n, 100))
        criterion(discriminator(fake.detach()), zeros).backward()
        optimizer_d.step()
        generator.zero_grad()
        discriminator.requires_grad_(not args.freeze_d)
        criterion(discriminator(fake), ones).backward()
        discriminator.requires_grad_(True)
        optimizer_g.step()

    report_images("PyTorch DCGAN example", iterate, args)


if __name__ == "__main__":
    main()
