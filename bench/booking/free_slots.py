#!/usr/bin/env python3
"""Slots that are free in the generated data, for booking creation without conflicts.

Night hours (00:00-03:45 UTC, before 05:00 local) on the equipment items (open around the
clock; the generator books them only between 07:00 and 22:00 local), every day from the day
after tomorrow for 300 days, skipping the tenant-wide blackouts. Four 45-minute slots per item
and day, shuffled: almost every request of the load is a 201 after the full conflict check.
Usage: free_slots.py IDS_FILE BLACKOUTS_FILE > slots.txt
  IDS_FILE: equipment ids, one a line; BLACKOUTS_FILE: "starts_at|ends_at" (UTC) a line.
"""
import datetime as dt
import random
import sys

ids = [int(x) for x in open(sys.argv[1]) if x.strip()]
closed = []
for line in open(sys.argv[2]):
    if "|" in line:
        s, e = line.split("|")[:2]
        # UTC dates of local midnights: a slot on day D (00:00-03:45 UTC) overlaps iff s < D <= e.
        closed.append((dt.date.fromisoformat(s.strip()[:10]), dt.date.fromisoformat(e.strip()[:10])))
first = dt.date.today() + dt.timedelta(days=2)
out = []
for r in ids:
    for n in range(300):
        d = first + dt.timedelta(days=n)
        if any(s < d <= e for s, e in closed):
            continue
        for h in range(4):
            out.append(f"{r} {d}T{h:02d}:00:00Z {d}T{h:02d}:45:00Z")
random.Random(4).shuffle(out)
sys.stdout.write("\n".join(out) + "\n")
