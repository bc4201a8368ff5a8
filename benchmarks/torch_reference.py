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


# SNGAN as StudioGAN builds it unconditionally (models/resnet.py, g_conv_dim = d_conv_dim = 64), with
# StudioGAN's attribute names; the discriminator's shortcut reads the block's input (see SNGAN.swift).
SNGAN_GENERATOR_WIDTHS = {32: [(256, 256)] * 3, 64: [(1024, 512), (512, 256), (256, 128), (128, 64)]}
SNGAN_DISCRIMINATOR_WIDTHS = {32: [(128, True), (128, True), (128, False), (128, False)],
                              64: [(64, True), (128, True), (256, True), (512, True), (1024, False)]}


def sn(module):
    return nn.utils.spectral_norm(module, eps=1e-6)


class SNGANUpBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(cin, eps=1e-4), nn.BatchNorm2d(cout, eps=1e-4)
        self.conv2d0 = nn.Conv2d(cin, cout, 1)
        self.conv2d1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2d2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        up = lambda t: nn.functional.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        h = self.conv2d2(torch.relu(self.bn2(self.conv2d1(up(torch.relu(self.bn1(x)))))))
        return h + self.conv2d0(up(x))


class SNGANGenerator(nn.Module):
    def __init__(self, resolution=32, channels=3, nz=128):
        super().__init__()
        widths = SNGAN_GENERATOR_WIDTHS[resolution]
        self.first = widths[0][0]
        self.linear0 = nn.Linear(nz, self.first * 16)
        self.blocks = nn.ModuleList([nn.ModuleList([SNGANUpBlock(cin, cout)]) for cin, cout in widths])
        self.bn4 = nn.BatchNorm2d(widths[-1][1], eps=1e-4)
        self.conv2d5 = nn.Conv2d(widths[-1][1], channels, 3, padding=1)

    def forward(self, z):
        h = self.linear0(z).view(-1, self.first, 4, 4)
        for (block,) in self.blocks:
            h = block(h)
        return torch.tanh(self.conv2d5(torch.relu(self.bn4(h))))


class SNGANDownBlock(nn.Module):
    def __init__(self, cin, cout, down, first):
        super().__init__()
        self.down, self.first = down, first
        if first or down or cin != cout:
            self.conv2d0 = sn(nn.Conv2d(cin, cout, 1))
        self.conv2d1 = sn(nn.Conv2d(cin, cout, 3, padding=1))
        self.conv2d2 = sn(nn.Conv2d(cout, cout, 3, padding=1))

    def forward(self, x):
        pool = lambda t: nn.functional.avg_pool2d(t, 2)  # noqa: E731
        h = self.conv2d2(torch.relu(self.conv2d1(x if self.first else torch.relu(x))))
        if self.down:
            h = pool(h)
        if not hasattr(self, "conv2d0"):
            return h + x
        shortcut = self.conv2d0(pool(x)) if self.first else self.conv2d0(x)
        return h + (pool(shortcut) if self.down and not self.first else shortcut)


class SNGANDiscriminator(nn.Module):
    def __init__(self, resolution=32, channels=3):
        super().__init__()
        blocks, cin = [], channels
        for index, (cout, down) in enumerate(SNGAN_DISCRIMINATOR_WIDTHS[resolution]):
            blocks.append(nn.ModuleList([SNGANDownBlock(cin, cout, down, index == 0)]))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.linear1 = sn(nn.Linear(cin, 1))

    def forward(self, x):
        for (block,) in self.blocks:
            x = block(x)
        return self.linear1(torch.sum(torch.relu(x), dim=[2, 3]))


# pix2pix as pytorch-CycleGAN-and-pix2pix builds it with batch norm (models/networks.py,
# UnetGenerator with UnetSkipConnectionBlock, NLayerDiscriminator with n_layers=3), its attribute names.
class UNetLevel(nn.Module):
    """One U-Net level: `model` down, through the inner levels, and up; joined to its input unless outermost.
    The reference's first LeakyReLU runs in place on the input it then concatenates, so the skip
    carries the activated input: written out here."""

    def __init__(self, layers, outermost=False):
        super().__init__()
        self.outermost = outermost
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        activated = self.model[0](x)
        return torch.cat([activated, self.model[1:](activated)], 1)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, resolution, ngf=64, dropout=True):
        super().__init__()
        top = 8 * ngf
        block = UNetLevel([nn.LeakyReLU(0.2), nn.Conv2d(top, top, 4, 2, 1, bias=False),
                           nn.ReLU(), nn.ConvTranspose2d(top, top, 4, 2, 1, bias=False), nn.BatchNorm2d(top)])

        def level(outer, inner, block, dropout):
            return UNetLevel([nn.LeakyReLU(0.2), nn.Conv2d(outer, inner, 4, 2, 1, bias=False), nn.BatchNorm2d(inner), block,
                              nn.ReLU(), nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
                             + ([nn.Dropout(0.5)] if dropout else []))

        for _ in range(resolution.bit_length() - 1 - 5):
            block = level(top, top, block, dropout)
        for outer in (4 * ngf, 2 * ngf, ngf):
            block = level(outer, 2 * outer, block, False)
        self.model = UNetLevel([nn.Conv2d(input_nc, ngf, 4, 2, 1, bias=False), block,
                                nn.ReLU(), nn.ConvTranspose2d(2 * ngf, output_nc, 4, 2, 1), nn.Tanh()], outermost=True)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """The 70x70 PatchGAN, logits flattened [N, patches]."""

    def __init__(self, input_nc, ndf=64):
        super().__init__()
        layers = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        for inner, stride in ((2 * ndf, 2), (4 * ndf, 2), (8 * ndf, 1)):
            layers += [nn.Conv2d(inner // 2, inner, 4, stride, 1, bias=False), nn.BatchNorm2d(inner), nn.LeakyReLU(0.2)]
        layers.append(nn.Conv2d(8 * ndf, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x).reshape(x.shape[0], -1)
