#!/usr/bin/env python3
"""The PyTorch yardstick for `launcher bench`: the same iteration of a preset (dcgan28 or grid2d),
timed the same way (warm-up excluded, random data), in the form a user writes.

--form example (default): PyTorch's own DCGAN example (pytorch/examples, dcgan/main.py): D on the
  real batch, backward; one forward of G, D on its detached output, backward; D's Adam step; then D
  on the same fake batch, G's loss backward through D and G's tape from that one forward (D's weights
  get gradients too, as the example leaves them trainable), G's Adam step. This is the comparison.
--form example-frozen: the same with D's parameters frozen during G's step, which skips D's
  weight gradients there: the least work the iteration needs, and what LearnedLoss does.
--form separate / --form joint: the older yardstick, which does more work (flattering LearnedLoss):
  G's forward once under no_grad for D and again for G's step, D frozen then; D sees real and fake in
  two passes (separate) or one pass over both (joint, where a BatchNorm in D mixes their statistics).
grid2d adds the preset's R1 penalty to D's real side, γ/2 · mean ‖∇D(real)‖² by double backward, in
every form.

    pip install torch
    python3 benchmarks/pytorch_bench.py --preset dcgan28 --threads 1 --batch-size 64 --iterations 20
"""
import argparse
import json

import torch
from torch import nn

from torch_reference import dcgan28_discriminator, dcgan28_generator, mlp2d_discriminator, mlp2d_generator
from torch_timing import seconds_per_run

# Per preset: networks, latent size, one real sample's shape, Adam's learning rate and betas, R1's γ.
PRESETS = {
    "dcgan28": (dcgan28_generator, dcgan28_discriminator, 100, (1, 28, 28), 2e-4, (0.5, 0.999), 0),
    "grid2d": (mlp2d_generator, mlp2d_discriminator, 2, (2,), 1e-4, (0.8, 0.999), 1.0),
}


FORMS = ("example", "example-frozen", "separate", "joint")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="dcgan28")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--form", choices=FORMS, default="example")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    make_generator, make_discriminator, latent, sample_shape, lr, betas, gamma = PRESETS[args.preset]
    generator, discriminator = make_generator(), make_discriminator()
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
    loss = nn.BCEWithLogitsLoss()
    n = args.batch_size
    real = torch.rand(n, *sample_shape) * 2 - 1
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)

    def real_loss():
        """D's loss on the real batch, with R1 for grid2d."""
        if not gamma:
            return loss(discriminator(real), ones)
        x = real.detach().requires_grad_(True)
        real_logits = discriminator(x)
        slope, = torch.autograd.grad(real_logits.sum(), x, create_graph=True)
        return loss(real_logits, ones) + gamma / 2 * slope.pow(2).sum(1).mean()

    def example():
        optimizer_d.zero_grad(set_to_none=True)
        real_loss().backward()
        fake = generator(torch.randn(n, latent))
        loss(discriminator(fake.detach()), zeros).backward()
        optimizer_d.step()

        if args.form == "example-frozen":
            discriminator.requires_grad_(False)
        optimizer_g.zero_grad(set_to_none=True)
        loss(discriminator(fake), ones).backward()
        optimizer_g.step()
        discriminator.requires_grad_(True)

    def fresh_generator_forward():
        with torch.no_grad():
            fake = generator(torch.randn(n, latent))
        if args.form == "joint" and not gamma:
            logits = discriminator(torch.cat([real, fake]))
            loss_d = loss(logits[:n], ones) + loss(logits[n:], zeros)
        else:
            loss_d = real_loss() + loss(discriminator(fake), zeros)
        optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer_d.step()

        discriminator.requires_grad_(False)
        loss_g = loss(discriminator(generator(torch.randn(n, latent))), ones)
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
        discriminator.requires_grad_(True)

    iterate = example if args.form.startswith("example") else fresh_generator_forward
    seconds = seconds_per_run(iterate, args.warmup, args.iterations)
    result = {
        "framework": f"pytorch {torch.__version__}", "preset": args.preset, "threads": args.threads, "batchSize": n,
        "form": args.form,
        "iterations": args.iterations, "imagesPerSecond": n * args.iterations / seconds,
        "millisecondsPerIteration": seconds * 1000 / args.iterations,
    }
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"pytorch {torch.__version__}, {args.preset}, {args.form} form, batch {n}, {args.threads} thread(s): "
              f"{result['imagesPerSecond']:.1f} samples/s, {result['millisecondsPerIteration']:.1f} ms/iteration")


if __name__ == "__main__":
    main()
