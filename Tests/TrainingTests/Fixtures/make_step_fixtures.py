#!/usr/bin/env python3
"""Writes step.json: one whole adversarial step in PyTorch (the discriminator's phase, then the
generator's through the frozen discriminator, each with Adam, the non-saturating objective,
BatchNorm in training mode in both phases) for dcgan28 and grid2d's networks, for
TrainingTests/StepParityTests.swift.

Run by hand when a preset's step changes (PyTorch is never a dependency of LearnedLoss itself):

    pip install torch
    python3 Tests/TrainingTests/Fixtures/make_step_fixtures.py

Weights, real batch and noise are formulas both sides compute (`pattern`, as in
ModelsTests/Fixtures/make_parity_fixtures.py), so the fixture holds only results: the losses and
scores of the step and the change of every state entry, sampled, with its L2 norm.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "benchmarks"))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from torch_fixtures import pattern, sampled, set_pattern_weights  # noqa: E402
from torch_reference import dcgan28_discriminator, dcgan28_generator, mlp2d_discriminator, mlp2d_generator  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def changes(network, initial):
    return {name: ({"value": int(t)} if name.endswith("num_batches_tracked") else sampled(t.double() - initial[name].double()))
            for name, t in network.state_dict().items()}


def step_case(generator, discriminator, real_shape, latent, batch, lr_g, lr_d, betas):
    set_pattern_weights(generator)
    set_pattern_weights(discriminator)
    generator.train()
    discriminator.train()
    initial_g = {name: t.clone() for name, t in generator.state_dict().items()}
    initial_d = {name: t.clone() for name, t in discriminator.state_dict().items()}
    real = pattern(real_shape, 1000)
    noise_d, noise_g = pattern((batch, latent), 3000), pattern((batch, latent), 4000)
    adam_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas)
    adam_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas)

    # D's phase: real and generated batches through D separately; G's samples are constants.
    fake = generator(noise_d).detach()
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
              + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    adam_d.zero_grad()
    d_loss.backward()
    adam_d.step()

    # G's phase through D, whose weights it does not update.
    for p in discriminator.parameters():
        p.requires_grad_(False)
    judged = discriminator(generator(noise_g))
    g_loss = F.binary_cross_entropy_with_logits(judged, torch.ones_like(judged))
    adam_g.zero_grad()
    g_loss.backward()
    adam_g.step()

    return {
        "real_shape": list(real_shape), "latent": latent, "lr_g": lr_g, "lr_d": lr_d, "beta1": betas[0],
        "d_loss": d_loss.item(), "g_loss": g_loss.item(),
        "d_real": torch.sigmoid(real_logits).mean().item(), "d_fake": torch.sigmoid(fake_logits).mean().item(),
        "generator": changes(generator, initial_g), "discriminator": changes(discriminator, initial_d),
    }


fixtures = {
    "dcgan28": step_case(dcgan28_generator(), dcgan28_discriminator(), (4, 1, 28, 28), 100, 4, 2e-4, 2e-4, (0.5, 0.999)),
    "grid2d": step_case(mlp2d_generator(), mlp2d_discriminator(), (8, 2), 2, 8, 2e-4, 1e-3, (0.5, 0.999)),
    "torch_version": torch.__version__,
}
path = os.path.join(HERE, "step.json")
with open(path, "w") as f:
    json.dump(fixtures, f, separators=(",", ":"))
print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB) with torch {torch.__version__}")
