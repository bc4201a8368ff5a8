#!/usr/bin/env python3
"""Draws docs/learned-loss.md's yellow-bird figure from `launcher sample CKPT --count 8 --out F.h5`
files of colorize28 checkpoints: the first row the gray inputs, then one row per file (its
colourings of the same test images), 2-pixel black borders.

    python3 scripts/yellow-bird.py OUT.png l2.h5 adversarial.h5 [adversarial-seed2.h5 ...]
"""
import struct
import sys
import zlib

import h5py
import numpy as np


def write_png(path, rgb):
    height, width, _ = rgb.shape
    rows = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def main():
    out, files = sys.argv[1], sys.argv[2:]
    if not files:
        sys.exit(__doc__)
    rows = []
    with h5py.File(files[0]) as f:
        gray = f["inputs"][()]
        rows.append(np.repeat(gray, 3, axis=1))
    for name in files:
        with h5py.File(name) as f:
            rows.append(f["samples"][()])
    count, border = rows[0].shape[0], 2
    picture = np.zeros((len(rows) * (28 + border) + border, count * (28 + border) + border, 3), dtype=np.uint8)
    for r, images in enumerate(rows):
        for c in range(count):
            tile = np.clip(np.round((images[c].transpose(1, 2, 0) + 1) * 127.5), 0, 255).astype(np.uint8)
            top, left = border + r * (28 + border), border + c * (28 + border)
            picture[top:top + 28, left:left + 28] = tile
    write_png(out, picture)
    print(f"wrote {out}: {len(rows)} rows of {count}")


if __name__ == "__main__":
    main()
