#!/usr/bin/env python3
"""Draws docs/learned-loss.md's yellow-bird figures from `launcher sample CKPT --count 8 --out F.h5`
files of colorize28 or pix2pix checkpoints: the first row the inputs (gray ones in three equal
channels), then one row per file (its outputs for the same inputs), then the targets when the files
hold them (pix2pix's), 2-pixel black borders.

    python3 scripts/yellow-bird.py OUT.png l2.h5 adversarial.h5 [adversarial-seed2.h5 ...]
    python3 scripts/yellow-bird.py docs/pix2pix-colour.png l2.h5 l1.h5 l1+adversarial.h5 adversarial.h5
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
        inputs = f["inputs"][()]
        rows.append(inputs if inputs.shape[1] == 3 else np.repeat(inputs, 3, axis=1))
        targets = f["targets"][()] if "targets" in f else None
    for name in files:
        with h5py.File(name) as f:
            rows.append(f["samples"][()])
    if targets is not None:
        rows.append(targets)
    count, side, border = rows[0].shape[0], rows[0].shape[2], 2
    picture = np.zeros((len(rows) * (side + border) + border, count * (side + border) + border, 3), dtype=np.uint8)
    for r, images in enumerate(rows):
        for c in range(count):
            tile = np.clip(np.round((images[c].transpose(1, 2, 0) + 1) * 127.5), 0, 255).astype(np.uint8)
            top, left = border + r * (side + border), border + c * (side + border)
            picture[top:top + side, left:left + side] = tile
    write_png(out, picture)
    print(f"wrote {out}: {len(rows)} rows of {count}")


if __name__ == "__main__":
    main()
