#!/usr/bin/env python3
"""grid2d in PyTorch, to try a change to its training before building it into LearnedLoss.

The baseline is the preset as `launcher train --preset grid2d` runs it: the mlp2d networks (G
without BatchNorm), 25 Gaussians at {-4,-2,0,2,4}^2 with std 0.05 (100,000 points), batch 100,
non-saturating objective with R1 γ 1 on the real batch, Adam with G at 2e-4 and D at 1e-3, betas
(0.5, 0.999), both rates falling linearly to 0 at --steps; one D update then one G update per step.
Every --every steps it prints modes covered and the high-quality share of 2,500 samples (G in
evaluation mode), PacGAN's protocol as `launcher evaluate` counts it. docs/evaluation.md's PyTorch
figures came from this script or, where it says so, from an earlier form of it.

PacGAN's own setup, the preset's before it changed: --batch-norm --r1 0 --lr-g 1e-4 --lr-d 1e-4
--beta1 0.8 --lr-decay none.

    pip install torch
    python3 benchmarks/grid2d_torch_variants.py --seed 1 --r1 0.03
"""
import argparse
import copy

import torch

from torch_reference import mlp2d_discriminator, mlp2d_generator

MEANS = torch.tensor([[x, y] for x in range(-4, 5, 2) for y in range(-4, 5, 2)], dtype=torch.float)


def score(generator, batch_statistics=False):
    """(modes covered, % high quality) of 2,500 samples: within 3 std (0.15) of the nearest mode."""
    if not batch_statistics:
        generator.eval()
    with torch.no_grad():
        x = generator(torch.randn(2500, 2, generator=torch.Generator().manual_seed(7)))
    generator.train()
    distance, nearest = torch.cdist(x, MEANS).min(1)
    good = distance < 0.15
    return int((torch.bincount(nearest[good], minlength=25) > 0).sum()), round(100 * good.float().mean().item(), 1)


def gradient_penalty(discriminator, points, gamma):
    """γ/2 · mean ‖∇ₓD(x)‖² at `points` [N, 2]: R1 on the real batch, or zero-centred at interpolates."""
    points = points.detach().requires_grad_(True)
    gradient, = torch.autograd.grad(discriminator(points).sum(), points, create_graph=True)
    return gamma / 2 * gradient.pow(2).sum(1).mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=16000)
    parser.add_argument("--every", type=int, default=1500, help="score every N steps")
    parser.add_argument("--lr-g", type=float, default=2e-4)
    parser.add_argument("--lr-d", type=float, default=1e-3)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--lr-decay", choices=["none", "linear"], default="linear")
    parser.add_argument("--batch-norm", action="store_true", help="PacGAN's generator, with BatchNorm in each block")
    parser.add_argument("--r1", type=float, default=1.0, help="R1 penalty γ on the real batch (Mescheder et al. 2018)")
    parser.add_argument("--gp0", type=float, default=0,
                        help="zero-centred gradient penalty γ at real-fake interpolates (Thanh-Tung et al. 2019)")
    parser.add_argument("--output-std", type=float, default=0,
                        help="rescale G's last layer at the start so its samples have this std per axis (data: 2.83)")
    parser.add_argument("--ema", type=float, default=0,
                        help="also score an exponential moving average of G's weights with this decay "
                             "(its BatchNorm, if any, on the 2,500 samples' own statistics)")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    generator, discriminator = mlp2d_generator(batch_norm=args.batch_norm), mlp2d_discriminator()
    if args.output_std:
        with torch.no_grad():
            last = generator[-1]
            last.weight.mul_((args.output_std / generator(torch.randn(1000, 2)).std(0))[:, None])
            last.bias.zero_()
    average = copy.deepcopy(generator) if args.ema else None
    g_optimizer = torch.optim.Adam(generator.parameters(), args.lr_g, betas=(args.beta1, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), args.lr_d, betas=(args.beta1, 0.999))
    # LearnedLoss's step s (0-based) runs at (steps - s) / steps of the given rates.
    schedules = [torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - s / args.steps if args.lr_decay == "linear" else 1)
                 for optimizer in (g_optimizer, d_optimizer)]
    softplus = torch.nn.functional.softplus

    data = MEANS[torch.randint(0, 25, (100000,))] + 0.05 * torch.randn(100000, 2)
    order, position = torch.randperm(len(data)), 0
    for step in range(1, args.steps + 1):
        if position + 100 > len(data):
            order, position = torch.randperm(len(data)), 0
        real = data[order[position:position + 100]]
        position += 100

        with torch.no_grad():
            fake = generator(torch.randn(100, 2))
        d_optimizer.zero_grad()
        d_loss = softplus(-discriminator(real)).mean() + softplus(discriminator(fake)).mean()
        penalty = 0
        if args.r1:
            penalty = gradient_penalty(discriminator, real, args.r1)
        if args.gp0:
            mix = torch.rand(100, 1)
            penalty = penalty + gradient_penalty(discriminator, mix * real + (1 - mix) * fake, args.gp0)
        (d_loss + penalty).backward()
        d_optimizer.step()

        g_optimizer.zero_grad()
        discriminator.requires_grad_(False)
        softplus(-discriminator(generator(torch.randn(100, 2)))).mean().backward()
        discriminator.requires_grad_(True)
        g_optimizer.step()
        for schedule in schedules:
            schedule.step()
        if average is not None:
            with torch.no_grad():
                for kept, current in zip(average.parameters(), generator.parameters()):
                    kept.lerp_(current, 1 - args.ema)

        if step % args.every == 0 or step == args.steps:
            line = f"step {step}  modes/HQ {score(generator)}  D loss {d_loss.item():.3f}"
            if average is not None:
                line += f"  EMA {score(average, batch_statistics=True)}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
