#!/usr/bin/env python3
"""Writes step.json: one whole training step in PyTorch, each phase with Adam, the non-saturating
objective and BatchNorm in training mode, for TrainingTests/StepParityTests.swift:
- dcgan28 and grid2d: the discriminator's phase, then the generator's through the frozen discriminator,
  from one forward pass of G (PyTorch's DCGAN example: the fake batch D judged is G's batch);
- alphagan28: E and G through frozen D and C (L1 + three generator terms), then D on real images
  against reconstructions and samples, then C on prior samples against codes;
- completion28 (l1+adversarial, the mode-seeking term): the conditional discriminator on real
  images and on tops over generated bottoms, then G through it with λ·L1 and the mode-seeking term
  over pairs of noise draws for one top, from the same one forward pass of G.

Run by hand when a preset's step changes (PyTorch is never a dependency of LearnedLoss itself);
named cases are computed anew and the others kept from the existing file:

    pip install torch
    python3 Tests/TrainingTests/Fixtures/make_step_fixtures.py [alphagan28 completion28 ...]

Weights, real batch and noise are formulas both sides compute (`pattern`, as in
ModelsTests/Fixtures/make_parity_fixtures.py), so the fixture holds only results: the losses and
scores of the step and the change of every state entry, sampled, with its L2 norm.
"""
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "benchmarks"))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from torch_fixtures import pattern, sampled, set_pattern_weights, write_cases  # noqa: E402
from torch_reference import (Completion28Generator, alphagan28_code_discriminator, alphagan28_encoder,  # noqa: E402
                             dcgan28_discriminator, dcgan28_generator, mlp2d_discriminator, mlp2d_generator)

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
    noise = pattern((batch, latent), 3000)
    adam_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas)
    adam_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas)

    # D's phase: real and generated batches through D separately; G's samples are constants to it.
    fake = generator(noise)
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
              + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    adam_d.zero_grad()
    d_loss.backward()
    adam_d.step()

    # G's phase through the updated D, whose weights it does not update, on the same samples.
    for p in discriminator.parameters():
        p.requires_grad_(False)
    judged = discriminator(fake)
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


def real_loss(logits):
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def fake_loss(logits):
    return F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))


def frozen(network, frozen):
    for p in network.parameters():
        p.requires_grad_(not frozen)


# Adam's first step moves every weight by ±lr whatever its gradient's size (m / √v = sign), so a
# gradient near 0 moves its weight by +lr on one side and -lr on the other. Behind BatchNorm over
# 4 samples, float32 gradients here are ~1% off float64's on either side (measured: 4e-4 on
# gradients of 0.03 for G's BatchNorm biases), so such entries exist. ε = 0.1 makes the first step
# lr · g / (|g| + 0.1), smooth in g: gradients of ~0.1 still take steps near lr, and rounding
# noise in a small one moves its step by far less than the tests' atol of 0.1 lr.
EPS = 0.1


def alphagan_case(lam, lr_g, lr_d, betas, batch=4):
    networks = {"encoder": alphagan28_encoder(), "generator": dcgan28_generator(), "discriminator": dcgan28_discriminator(),
                "code_discriminator": alphagan28_code_discriminator()}
    initial = {}
    for name, network in networks.items():
        set_pattern_weights(network)
        network.train()
        initial[name] = {key: t.clone() for key, t in network.state_dict().items()}
    e, g, d, c = (networks[n] for n in ("encoder", "generator", "discriminator", "code_discriminator"))
    adams = {name: torch.optim.Adam(network.parameters(), lr=lr_g if name in ("encoder", "generator") else lr_d, betas=betas, eps=EPS)
             for name, network in networks.items()}
    real, z = pattern((batch, 1, 28, 28), 1000), pattern((batch, 100), 4000)

    # Phase 1: E and G through frozen D and C.
    frozen(d, True), frozen(c, True)
    codes = e(real)
    reconstructions, samples = g(codes), g(z)
    l1 = (reconstructions - real).abs().mean()
    eg_loss = lam * l1 + real_loss(d(reconstructions)) + real_loss(d(samples)) + real_loss(c(codes))
    adams["encoder"].zero_grad(), adams["generator"].zero_grad()
    eg_loss.backward()
    adams["encoder"].step(), adams["generator"].step()
    frozen(d, False), frozen(c, False)

    # Phase 2: D, real images against phase 1's reconstructions and samples, half each.
    real_logits, reconstruction_logits, sample_logits = d(real), d(reconstructions.detach()), d(samples.detach())
    d_loss = 0.5 * (real_loss(real_logits) + fake_loss(reconstruction_logits)) + 0.5 * (real_loss(real_logits) + fake_loss(sample_logits))
    adams["discriminator"].zero_grad()
    d_loss.backward()
    adams["discriminator"].step()

    # Phase 3: C, prior samples its real class, phase 1's codes its fake one.
    c_loss = real_loss(c(z)) + fake_loss(c(codes.detach()))
    adams["code_discriminator"].zero_grad()
    c_loss.backward()
    adams["code_discriminator"].step()

    return {
        "real_shape": [batch, 1, 28, 28], "latent": 100, "lr_g": lr_g, "lr_d": lr_d, "beta1": betas[0], "eps": EPS, "weight": lam,
        "d_loss": d_loss.item(), "g_loss": eg_loss.item(), "c_loss": c_loss.item(), "recon_l1": l1.item(),
        "d_real": torch.sigmoid(real_logits).mean().item(), "d_fake": torch.sigmoid(sample_logits).mean().item(),
        "networks": {name: changes(network, initial[name]) for name, network in networks.items()},
    }


def completion_case(lam, mode_seeking, lr_g, lr_d, betas, batch=4):
    g, d = Completion28Generator(), dcgan28_discriminator()
    initial = {}
    for name, network in (("generator", g), ("discriminator", d)):
        set_pattern_weights(network)
        network.train()
        initial[name] = {key: t.clone() for key, t in network.state_dict().items()}
    adam_g = torch.optim.Adam(g.parameters(), lr=lr_g, betas=betas, eps=EPS)
    adam_d = torch.optim.Adam(d.parameters(), lr=lr_d, betas=betas, eps=EPS)
    real, noise = pattern((batch, 1, 28, 28), 1000), pattern((batch, 32), 4000)
    top, bottom = real[:, :, :14], real[:, :, 14:]
    # MSGAN's pairs: rows 2k and 2k + 1 take row 2k's top with their own noise, firsts of pairs first.
    firsts = list(range(0, batch - 1, 2))
    conditions, noise_rows = firsts + firsts, firsts + [i + 1 for i in firsts]
    paired_top, paired_bottom = top[conditions], bottom[conditions]
    generator_input = torch.cat([paired_top.reshape(batch, -1), noise[noise_rows]], dim=1)

    # D's phase: real images, then the paired tops over G's bottoms (constants to it).
    generated = g(generator_input)
    real_logits = d(real)
    fake_logits = d(torch.cat([paired_top, generated.detach()], dim=2))
    d_loss = real_loss(real_logits) + fake_loss(fake_logits)
    adam_d.zero_grad()
    d_loss.backward()
    adam_d.step()

    # G's phase through frozen D on the same outputs: adversarial + λ·L1 + the mode-seeking term over the pairs.
    frozen(d, True)
    l1 = (generated - paired_bottom).abs().mean()
    pairs = len(firsts)
    first, second = generated[:pairs], generated[pairs:2 * pairs]
    z = generator_input[:, 392:]
    noise_distances = (z[:pairs] - z[pairs:2 * pairs]).abs().mean(dim=1)
    ratios = (first - second).abs().flatten(1).mean(dim=1) / noise_distances
    g_loss = real_loss(d(torch.cat([paired_top, generated], dim=2))) + lam * l1 + mode_seeking * (1 / (ratios + 1e-5)).mean()
    adam_g.zero_grad()
    g_loss.backward()
    adam_g.step()

    return {
        "real_shape": [batch, 1, 28, 28], "latent": 32, "lr_g": lr_g, "lr_d": lr_d, "beta1": betas[0], "eps": EPS, "weight": lam,
        "mode_seeking": mode_seeking, "d_loss": d_loss.item(), "g_loss": g_loss.item(), "recon_l1": l1.item(),
        "d_real": torch.sigmoid(real_logits).mean().item(), "d_fake": torch.sigmoid(fake_logits).mean().item(),
        "networks": {"generator": changes(g, initial["generator"]), "discriminator": changes(d, initial["discriminator"])},
    }


def adversarial_case(generator, discriminator, real_shape, latent, batch, lr_g, lr_d, betas):
    case = step_case(generator, discriminator, real_shape, latent, batch, lr_g, lr_d, betas)
    case["networks"] = {"generator": case.pop("generator"), "discriminator": case.pop("discriminator")}
    return case


cases = {
    "dcgan28": lambda: adversarial_case(dcgan28_generator(), dcgan28_discriminator(), (4, 1, 28, 28), 100, 4, 2e-4, 2e-4, (0.5, 0.999)),
    "grid2d": lambda: adversarial_case(mlp2d_generator(), mlp2d_discriminator(), (8, 2), 2, 8, 2e-4, 1e-3, (0.5, 0.999)),
    "alphagan28": lambda: alphagan_case(30.0, 2e-4, 2e-4, (0.5, 0.999)),
    "completion28": lambda: completion_case(100.0, 1.0, 2e-4, 2e-4, (0.5, 0.999)),
}
write_cases(os.path.join(HERE, "step.json"), cases)
