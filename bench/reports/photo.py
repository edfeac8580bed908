#!/usr/bin/env python3
"""Writes a phone-like JPEG (default 4000x3000, about 4 MB): a smooth scene with
photographic noise, so the encoder cannot shrink it to nothing. Needs Pillow.
Usage: photo.py OUT.jpg [width height quality]"""
import sys
from PIL import Image, ImageFilter

out = sys.argv[1]
w, h = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (4000, 3000)
q = int(sys.argv[4]) if len(sys.argv) > 4 else 89
# A sky-to-asphalt gradient with some shapes, then per-channel Gaussian noise.
base = Image.linear_gradient("L").resize((w, h)).filter(ImageFilter.GaussianBlur(4))
chans = []
for i, sigma in enumerate((28, 24, 30)):
    noise = Image.effect_noise((w, h), sigma)
    chans.append(Image.blend(base, noise, 0.45 + 0.05 * i))
img = Image.merge("RGB", chans)
img.save(out, "JPEG", quality=q, subsampling=2)
