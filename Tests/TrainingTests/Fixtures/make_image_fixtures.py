#!/usr/bin/env python3
"""Writes the image fixtures of TrainingTests/ImageDataTests.swift (Pillow and OpenCV are never
dependencies of LearnedLoss itself; run by hand, `pip install pillow opencv-python-headless`):

- images/*.jpg: two small JPEG files (one colour, one gray) of a pattern both sides can describe,
  for the folder loader's JPEG path;
- resize.json: a 23x17 gray pattern resized by OpenCV to 8x8 (shrinking: INTER_AREA, each output
  pixel the mean of the input area it covers, fractions of pixels included; Pillow's BOX counts
  whole pixels by their centres instead) and to 40x40 (growing: INTER_LINEAR, between pixel
  centres), the references for `launcher dataset`'s resampler; and Pillow's decoding of the JPEGs.
"""
import json
import math
import os

import cv2
import numpy
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def pattern(width, height, channel=0):
    """Values 0-255 that vary smoothly in both directions, different per channel."""
    return bytes(int(127.5 + 127.5 * math.sin(0.37 * x + 0.23 * y + 1.1 * channel)) for y in range(height) for x in range(width))


def colour(width, height):
    planes = [pattern(width, height, c) for c in range(3)]
    return bytes(planes[c][i] for i in range(width * height) for c in range(3))


os.makedirs(os.path.join(HERE, "images"), exist_ok=True)
Image.frombytes("RGB", (12, 12), colour(12, 12)).save(os.path.join(HERE, "images", "colour.jpg"), quality=95)
Image.frombytes("L", (12, 12), pattern(12, 12)).save(os.path.join(HERE, "images", "gray.jpg"), quality=95)

source = numpy.frombuffer(pattern(23, 17), dtype=numpy.uint8).reshape(17, 23)
fixture = {
    "source": {"width": 23, "height": 17},
    "shrunk": {"size": 8, "pixels": cv2.resize(source, (8, 8), interpolation=cv2.INTER_AREA).flatten().tolist()},
    "grown": {"size": 40, "pixels": cv2.resize(source, (40, 40), interpolation=cv2.INTER_LINEAR).flatten().tolist()},
    "jpeg": {name: list(Image.open(os.path.join(HERE, "images", name)).convert("RGB").tobytes()) for name in ("colour.jpg", "gray.jpg")},
}
with open(os.path.join(HERE, "resize.json"), "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print("wrote images/colour.jpg, images/gray.jpg and resize.json")
