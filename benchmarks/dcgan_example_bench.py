#!/usr/bin/env python3
"""The yardstick for `launcher bench --preset dcgan`: PyTorch's own DCGAN example
(`pytorch/examples`, `dcgan/main.py`), iteration for iteration as a user runs it, on random data
of the given side and channels, timed the way `launcher bench` times (warm-up excluded).

One iteration, as the example writes it: D on the real batch, backward; G makes the fake batch
once; D on it detached, backward; D's Adam step; then D on the same fake batch for G's loss,
backward through D into G; G's Adam step. BCE on logits (the example's Sigmoid and BCELoss, fused).
LearnedLoss's dcgan iteration computes G's forward twice (once in each phase), so it does more
work than this one.

    pip install torch
    python3 benchmarks/dcgan_example_bench.py --resolution 64 --channels 3 --threads 1 --batch-size 64
"""
import argparse
import json
import time

import torch
from torch import nn

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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
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
        criterion(discriminator(fake), ones).backward()
        optimizer_g.step()

    for _ in range(args.warmup):
        iterate()
    start = time.perf_counter()
    for _ in range(args.iterations):
        iterate()
    seconds = time.perf_counter() - start
    result = {"resolution": args.resolution, "channels": args.channels, "threads": args.threads, "batch_size": n,
              "images_per_second": n * args.iterations / seconds, "ms_per_iteration": seconds * 1000 / args.iterations,
              "torch": torch.__version__}
    print(json.dumps(result) if args.json else
          f"PyTorch DCGAN example, {args.resolution}x{args.resolution}x{args.channels}, batch {n}, {args.threads} thread(s): "
          f"{result['images_per_second']:.1f} images/s, {result['ms_per_iteration']:.1f} ms per iteration")


if __name__ == "__main__":
    main()
