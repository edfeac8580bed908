#!/usr/bin/env python3
"""Map requests as panning users make them: N viewports per kind, each a random shift of the
kind's box (so the answer cache hits rarely), as /maengel/karte.geojson?bbox=... lines.
Usage: viewports.py N [query-suffix] < kinds   (kind lines: name:min_lon,min_lat,max_lon,max_lat)"""
import random
import sys

n = int(sys.argv[1])
suffix = sys.argv[2] if len(sys.argv) > 2 else ""
random.seed(11)
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    _, box = line.split(":", 1)
    a, b, c, d = map(float, box.split(","))
    w, h = c - a, d - b
    for _ in range(n):
        # up to a quarter of the box in each direction
        dx = random.uniform(-w / 4, w / 4)
        dy = random.uniform(-h / 4, h / 4)
        print(f"/maengel/karte.geojson?bbox={a + dx:.5f},{b + dy:.5f},{c + dx:.5f},{d + dy:.5f}{suffix}")
