#!/usr/bin/env python3
"""Writes parity.json: PyTorch's outputs, gradients and Adam updates for LearnedLoss's preset
networks (dcgan28, dcgan at 64 px, sngan at 32 px and mlp2d generator and discriminator, alphagan28's encoder and code
discriminator, completion28's and colorize28's conditional generators, pix2pix's U-Net and PatchGAN at
64 px), and the R1 penalty of mlp2d's
discriminator with its gradients, for ModelsTests/ParityTests.swift.

Run by hand when the presets change (PyTorch is never a dependency of LearnedLoss itself):

    pip install torch
    python3 Tests/ModelsTests/Fixtures/make_parity_fixtures.py [case ...]

Named cases (e.g. alphagan28_encoder) are computed anew and the others kept from the existing
file: another machine's kernels round the unchanged networks' results differently in the last bits.

Every weight and input is a formula both sides compute (`pattern` below), so the fixture holds
only results. Large gradients are stored as every `stride`-th element plus the full L2 norm.
"""
import os

import sys

import torch

# The PyTorch definitions of the presets, shared with the side-by-side benchmark, and the fixture helpers.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "benchmarks"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from torch_fixtures import pattern, rounded, sampled, set_pattern_weights, write_cases  # noqa: E402
from torch_reference import (  # noqa: E402
    DCGANDiscriminator, DCGANGenerator, SNGANDiscriminator, SNGANGenerator,
    Colorize28Generator, Completion28Generator, alphagan28_code_discriminator, alphagan28_encoder, dcgan28_discriminator, dcgan28_generator,
    mlp2d_discriminator, mlp2d_generator, NLayerDiscriminator, UnetGenerator)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def case(network, input_shape, lr, betas, training=True, eps=1e-8):
    """With training=False the gradients and Adam steps are taken in evaluation mode (BatchNorm on
    its running statistics), and the training-mode output is kept alone: for a network whose
    training-mode gradients at this batch of 4 move by percents under float32 rounding of its weights.
    `eps` is Adam's: a large one keeps an element whose gradient is rounding noise (a channel that a
    ReLU all but closes) from moving by ±lr each step, which β1 = 0 would otherwise make it do."""
    set_pattern_weights(network)
    training_output = None
    if not training:
        fresh = {name: t.clone() for name, t in network.state_dict().items()}
        network.train()
        with torch.no_grad():
            training_output = rounded(network(pattern(input_shape, 1000)).flatten().tolist())
        network.load_state_dict(fresh)  # the forward moved the running statistics
    network.train(training)
    x = pattern(input_shape, 1000).requires_grad_(True)
    output = network(x)
    probe = pattern(output.shape, 2000) / output.shape[0]
    (output * probe).sum().backward()
    initial = {name: t.clone() for name, t in network.state_dict().items()}
    result = {
        "state": [{"name": name, "shape": list(t.shape)} for name, t in network.state_dict().items()],
        "input_shape": list(input_shape),
        "output": rounded(output.detach().flatten().tolist()),
        "input_gradient": rounded(x.grad.flatten().tolist()),
        "gradients": {name: sampled(p.grad) for name, p in network.named_parameters()},
        "training": training,
    }
    if training_output is not None:
        result["training_output"] = training_output
    # Three Adam steps on the same batch; BatchNorm statistics move with every forward.
    adam = torch.optim.Adam(network.parameters(), lr=lr, betas=betas, eps=eps)
    for _ in range(3):
        adam.zero_grad()
        output = network(x.detach())
        (output * probe).sum().backward()
        adam.step()
    result["after_adam"] = {
        name: sampled(t.double() - initial[name].double()) if not name.endswith("num_batches_tracked") else {"value": int(t)}
        for name, t in network.state_dict().items()
    }
    return result


def r1_case(network, input_shape, gamma):
    """The R1 penalty γ/2 · mean ‖∇ₓD(x)‖² at a pattern batch, and its gradients, by double backward."""
    set_pattern_weights(network)
    x = pattern(input_shape, 1000).requires_grad_(True)
    slope, = torch.autograd.grad(network(x).sum(), x, create_graph=True)
    penalty = gamma / 2 * slope.pow(2).sum(1).mean()
    penalty.backward()
    return {
        "input_shape": list(input_shape),
        "gamma": gamma,
        "penalty": penalty.item(),
        # The penalty does not reach every bias: PyTorch leaves those gradients unset, meaning 0.
        "gradients": {name: sampled(torch.zeros_like(p) if p.grad is None else p.grad) for name, p in network.named_parameters()},
    }


cases = {
    "dcgan28_generator": lambda: case(dcgan28_generator(), (4, 100), 2e-4, (0.5, 0.999)),
    "dcgan28_discriminator": lambda: case(dcgan28_discriminator(), (4, 1, 28, 28), 2e-4, (0.5, 0.999)),
    "mlp2d_generator": lambda: case(mlp2d_generator(), (8, 2), 1e-4, (0.8, 0.999)),
    "mlp2d_discriminator": lambda: case(mlp2d_discriminator(), (8, 2), 1e-4, (0.8, 0.999)),
    "alphagan28_encoder": lambda: case(alphagan28_encoder(), (4, 1, 28, 28), 2e-4, (0.5, 0.999)),
    "alphagan28_code_discriminator": lambda: case(alphagan28_code_discriminator(), (4, 100), 2e-4, (0.5, 0.999)),
    "completion28_generator": lambda: case(Completion28Generator(), (4, 424), 2e-4, (0.5, 0.999)),
    # Its training-mode gradients at a batch of 4 change by 1-2% when its weights change by 3e-7
    # relatively (two ReLU stages at 28x28 behind batch statistics of 4 samples), so they are
    # compared in evaluation mode, where the same change moves them by 1e-5.
    "colorize28_generator": lambda: case(Colorize28Generator(), (4, 816), 2e-4, (0.5, 0.999), training=False),
    # The example's networks at their 64 px in colour, on batches of 1 and 2 to keep the fixture small.
    # In training mode their gradients here are float32 noise to a few percent on either side
    # (PyTorch's own float32 against float64: 3% on G's input gradient, four BatchNorms over
    # batches of 2 cancelling large terms), so, as for colorize28, gradients and Adam steps are
    # compared in evaluation mode and the training-mode output alone.
    "dcgan64_generator": lambda: case(DCGANGenerator(64, 3), (1, 100), 2e-4, (0.5, 0.999), training=False),
    "dcgan64_discriminator": lambda: case(DCGANDiscriminator(64, 3), (2, 3, 64, 64), 2e-4, (0.5, 0.999), training=False),
    # SNGAN at 32 px in colour with its Adam (β 0, 0.9). The generator's training-mode gradients are
    # float32 noise to 0.6% here (PyTorch's float32 against float64, BatchNorm over a batch of 2 from
    # 4x4), so as for dcgan64 they are compared in evaluation mode. The discriminator in training
    # mode: each of its 4 forwards takes a power iteration, and weight_u, weight_v move as in PyTorch.
    "sngan32_generator": lambda: case(SNGANGenerator(32, 3), (2, 128), 2e-4, (0.0, 0.9), training=False, eps=0.1),
    "sngan32_discriminator": lambda: case(SNGANDiscriminator(32, 3), (2, 3, 32, 32), 2e-4, (0.0, 0.9), eps=0.1),
    # pix2pix at 64 px, gray in and colour out, on one image, as for dcgan64 in evaluation mode (BatchNorm
    # at 2x2 is float32 noise in training mode). Dropout off: its masks are LearnedLoss's
    # noise, drawn from its own stream (Dropout.swift); DropoutTests check them against the definition.
    "pix2pix64_generator": lambda: case(UnetGenerator(1, 3, 64, dropout=False), (1, 1, 64, 64), 2e-4, (0.5, 0.999), training=False),
    "pix2pix64_discriminator": lambda: case(NLayerDiscriminator(4), (1, 4, 64, 64), 2e-4, (0.5, 0.999), training=False),
}
# The packed discriminator judges pairs: rows of 4 features.
cases["r1"] = lambda: {
    "mlp2d_discriminator": r1_case(mlp2d_discriminator(), (8, 2), 0.1),
    "mlp2d_discriminator_pack2": r1_case(mlp2d_discriminator(pack=2), (4, 4), 0.1),
}
write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity.json"), cases)
