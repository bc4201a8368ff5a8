"""LearnedLoss's preset networks in PyTorch, layer for layer and with the same state_dict names.

Used by the parity fixtures (Tests/ModelsTests/Fixtures/make_parity_fixtures.py) and by the
side-by-side benchmark (benchmarks/pytorch_bench.py). PyTorch is not a dependency of LearnedLoss.
"""
import torch
from torch import nn


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


class Maxout(nn.Module):
    """units outputs, each the max of `pieces` affine maps; row u * pieces + k is piece k of unit u."""

    def __init__(self, inputs, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.weight = nn.Parameter(torch.empty(units * pieces, inputs))
        self.bias = nn.Parameter(torch.empty(units * pieces))
        # nn.Linear's own initialisation, as LearnedLoss's Maxout draws it: U(±1/√inputs) for both.
        # (torch.empty alone leaves whatever the memory held, which timings and training would inherit.)
        bound = inputs ** -0.5
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return nn.functional.linear(x, self.weight, self.bias).view(x.shape[0], self.units, self.pieces).max(-1).values


def dcgan28_generator():
    return nn.Sequential(
        nn.Linear(100, 6272), nn.BatchNorm1d(6272), nn.ReLU(), Reshape(128, 7, 7),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())


def dcgan28_discriminator():
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1))


def mlp2d_generator(batch_norm=False):
    """With batch_norm, PacGAN's original: a BatchNorm1d(400) before each ReLU."""
    layers, width = [], 2
    for _ in range(4):
        layers += [nn.Linear(width, 400)] + ([nn.BatchNorm1d(400)] if batch_norm else []) + [nn.ReLU()]
        width = 400
    return nn.Sequential(*layers, nn.Linear(400, 2))


def mlp2d_discriminator(pack=1):
    return nn.Sequential(Maxout(2 * pack, 200, 5), Maxout(200, 200, 5), Maxout(200, 200, 5), nn.Linear(200, 1))


def alphagan28_encoder():
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 100), nn.BatchNorm1d(100, affine=False))


def alphagan28_code_discriminator():
    return nn.Sequential(nn.Linear(100, 750), nn.LeakyReLU(0.2), nn.Linear(750, 750), nn.LeakyReLU(0.2), nn.Linear(750, 1))


def condition_encoder(height, width):
    """The conditional presets' encoder: a flattened [1, height, width] condition to 256 features."""
    return nn.Sequential(
        Reshape(1, height, width), nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
        nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(128 * (height // 4) * (width // 4), 256),
        nn.BatchNorm1d(256), nn.ReLU())


class Completion28Generator(nn.Module):
    """Input [N, 392 + 32]: a flattened top half, then noise; output the bottom half [N, 1, 14, 28]."""

    def __init__(self):
        super().__init__()
        self.encoder = condition_encoder(14, 28)
        self.decoder = nn.Sequential(
            nn.Linear(256 + 32, 64 * 7 * 14), nn.BatchNorm1d(64 * 7 * 14), nn.ReLU(), Reshape(64, 7, 14),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 1, 3, 1, 1), nn.Tanh())

    def forward(self, x):
        return self.decoder(torch.cat([self.encoder(x[:, :392]), x[:, 392:]], dim=1))


class Colorize28Generator(nn.Module):
    """Input [N, 784 + 32]: a flattened gray image, then noise; output the colour image [N, 3, 28, 28].
    The head sees the decoder's 16 channels and the gray image itself (a skip connection)."""

    def __init__(self):
        super().__init__()
        self.encoder = condition_encoder(28, 28)
        self.decoder = nn.Sequential(
            nn.Linear(256 + 32, 64 * 7 * 7), nn.BatchNorm1d(64 * 7 * 7), nn.ReLU(), Reshape(64, 7, 7),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Sequential(
            nn.Conv2d(17, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 3, 3, 1, 1), nn.Tanh())

    def forward(self, x):
        decoded = self.decoder(torch.cat([self.encoder(x[:, :784]), x[:, 784:]], dim=1))
        return self.head(torch.cat([decoded, x[:, :784].reshape(-1, 1, 28, 28)], dim=1))


class DCGANGenerator(nn.Module):
    """PyTorch's own DCGAN example (pytorch/examples, dcgan/main.py) at `resolution` (a power of
    two from 16; the example's is 64) and `channels`: one stride-2 block per doubling, no biases.
    It takes z as [N, nz] (the example's [N, nz, 1, 1], reshaped here); state names `main.<i>.…`."""

    def __init__(self, resolution=64, channels=3, nz=100, ngf=64):
        super().__init__()
        width = ngf * resolution // 8
        layers = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
        while width > ngf:
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z.reshape(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """The example's discriminator without its final Sigmoid (the losses take logits): [N, 1]."""

    def __init__(self, resolution=64, channels=3, ndf=64):
        super().__init__()
        width, side = ndf, resolution // 2
        layers = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        while side > 4:
            layers += [nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2, inplace=True)]
            width, side = 2 * width, side // 2
        layers.append(nn.Conv2d(width, 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).reshape(x.shape[0], -1)
