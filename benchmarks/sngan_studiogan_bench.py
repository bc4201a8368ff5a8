#!/usr/bin/env python3
"""The yardstick for `launcher bench --preset sngan`: StudioGAN's SNGAN (its unconditional ResNets,
spectral normalization on D, hinge loss, Adam 2e-4 with betas (0, 0.9)), one D update and one G
update per iteration as StudioGAN's worker runs them, on random data of the given side and channels,
timed the way `launcher bench` times (warm-up excluded).

One iteration, as StudioGAN's `train_discriminator` and `train_generator` write it: G frozen, a fake
batch from G, D on the real and on the fake batch, hinge loss, backward, D's Adam step; then D frozen,
a new fake batch from G, D on it, -mean, backward through D into G, G's Adam step. It computes G's
forward twice; LearnedLoss's iteration computes it once and reuses the fake batch for G's step, so
this form does more work than LearnedLoss and a ratio against it flatters LearnedLoss. --reuse-fake
does the same work as LearnedLoss: G's forward once (trainable, not frozen), D on its detached
output, then D on the same batch for G's step (PyTorch's DCGAN example's form). (StudioGAN trains
with 5 D updates per G update; the benchmark times one of each on both sides.)

    pip install torch
    python3 benchmarks/sngan_studiogan_bench.py --resolution 32 --channels 3 --threads 1 --batch-size 64
"""
import torch
from torch import nn

from torch_timing import image_arguments, report_images
from torch_reference import SNGANDiscriminator, SNGANGenerator


def orthogonal_init(module):
    """StudioGAN's "ortho": convolutions' and linear layers' weights orthogonal, biases zero."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.orthogonal_(module.weight_orig if hasattr(module, "weight_orig") else module.weight)
        nn.init.zeros_(module.bias)


def main():
    args = image_arguments(__doc__, resolution=32, add_options=lambda parser: parser.add_argument(
        "--reuse-fake", action="store_true", help="one G forward per iteration, its batch reused for G's step"))
    generator, discriminator = SNGANGenerator(args.resolution, args.channels), SNGANDiscriminator(args.resolution, args.channels)
    generator.apply(orthogonal_init)
    discriminator.apply(orthogonal_init)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.0, 0.9))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.0, 0.9))
    n = args.batch_size
    real = torch.rand(n, args.channels, args.resolution, args.resolution) * 2 - 1

    def iterate():
        generator.requires_grad_(args.reuse_fake)
        discriminator.requires_grad_(True)
        optimizer_d.zero_grad()
        fake = generator(torch.randn(n, 128))
        loss = torch.relu(1 - discriminator(real)).mean() + torch.relu(1 + discriminator(fake.detach())).mean()
        loss.backward()
        optimizer_d.step()
        generator.requires_grad_(True)
        discriminator.requires_grad_(False)
        optimizer_g.zero_grad()
        (-discriminator(fake if args.reuse_fake else generator(torch.randn(n, 128))).mean()).backward()
        optimizer_g.step()

    report_images("StudioGAN's SNGAN in PyTorch", iterate, args)


if __name__ == "__main__":
    main()
