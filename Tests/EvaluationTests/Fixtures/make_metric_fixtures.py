#!/usr/bin/env python3
"""Writes metrics.json: independent numpy/scipy values of the image metrics for
TrainingTests/ImageMetricsTests.swift. Run by hand (pip install numpy scipy):

    python3 Tests/EvaluationTests/Fixtures/make_metric_fixtures.py
"""
import json
import os

import numpy as np
from scipy import linalg

rng = np.random.default_rng(7)


def fid_from_statistics(mu1, s1, mu2, s2):
    covmean = linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


def unbiased_mmd(x, y):
    d = x.shape[1]
    kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    m = x.shape[0]
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())


def kth_radii(points, k):
    distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    return np.sort(distances, axis=1)[:, k]  # column 0 is the point itself


def share_inside(points, centres, radii):
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=-1)
    return float(np.mean(np.any(distances <= radii[None, :], axis=1)))


# Two Gaussians with known parameters: the closed form, and the estimate from samples of them.
d = 6
mu1, mu2 = np.zeros(d), np.linspace(-1, 1, d)
a = rng.normal(size=(d, d)); s1 = a @ a.T / d + np.eye(d) * 0.5
b = rng.normal(size=(d, d)); s2 = b @ b.T / d + np.eye(d) * 0.2
x = rng.multivariate_normal(mu1, s1, size=800).astype(np.float32)
y = rng.multivariate_normal(mu2, s2, size=600).astype(np.float32)
xd, yd = x.astype(np.float64), y.astype(np.float64)

real = rng.normal(size=(90, 4)).astype(np.float32)
fake = (rng.normal(size=(70, 4)) * 1.3 + 0.4).astype(np.float32)
probabilities = rng.dirichlet(np.ones(5) * 0.3, size=40).astype(np.float32)
p = probabilities.astype(np.float64)
marginal = p.mean(axis=0)
counts = np.bincount(p.argmax(axis=1), minlength=5)
hist = counts[counts > 0] / counts.sum()

fixture = {
    "gaussians": {
        "mean1": mu1.tolist(), "cov1": s1.ravel().tolist(), "mean2": mu2.tolist(), "cov2": s2.ravel().tolist(),
        "fid_closed_form": fid_from_statistics(mu1, s1, mu2, s2),
    },
    "samples": {
        "x": x.ravel().tolist(), "y": y.ravel().tolist(), "dimension": d,
        "fid": fid_from_statistics(xd.mean(0), np.cov(xd, rowvar=False), yd.mean(0), np.cov(yd, rowvar=False)),
        "mmd_first_200": unbiased_mmd(xd[:200], yd[:200]),
    },
    "precision_recall": {
        "real": real.ravel().tolist(), "fake": fake.ravel().tolist(), "dimension": 4,
        "precision": share_inside(fake.astype(np.float64), real.astype(np.float64), kth_radii(real.astype(np.float64), 3)),
        "recall": share_inside(real.astype(np.float64), fake.astype(np.float64), kth_radii(fake.astype(np.float64), 3)),
    },
    "classifier": {
        "probabilities": probabilities.ravel().tolist(), "classes": 5,
        "score": float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1)))),
        "counts": counts.tolist(), "kl_from_uniform": float(np.sum(hist * np.log(hist * 5))),
    },
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.json")
with open(path, "w") as f:
    json.dump(fixture, f)
print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB)")
