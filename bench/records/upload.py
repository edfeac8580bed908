#!/usr/bin/env python3
"""Upload throughput of the E-Akte API (issue 11): N text PDFs of about 200 KB each through
POST /api/v1/records/files/{id}/documents with C parallel clients, then the time until every
one is found by a word inside it (text extraction and the search index caught up).

Usage: upload.py URL TOKEN FILE_ID [--docs 1000] [--concurrency 4] [--pid PID]
Prints one line per figure; the shell script (bench/records-upload.sh) records them.
Standard library only.
"""
import argparse
import json
import random
import statistics
import threading
import time
import urllib.request
import uuid

WORDS = ("Antrag Bescheid Frist Gemeinde Verwaltung Mietzuschuss Wohngeld Haushalt Einkommen "
         "Miete Vermieter Widerspruch Gebuehr Satzung Ordnungsamt Hundesteuer Steuermarke "
         "Sitzung Protokoll Beschluss Bauantrag Grundstueck Flurstueck Genehmigung pruefen "
         "erfassen weiterleiten genehmigen ablehnen der die das und mit fuer nach innerhalb von "
         "Tagen schriftlich Nachweis Bewilligung").split()
MARK = "Pruefvermerkbench"  # in every document: the count of hits says how many are findable


def text_pdf(lines_per_page, pages, unique, rng):
    """A PDF of `pages` pages of text (Helvetica 9 pt), uncompressed, so pdftotext reads it."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for p in range(pages):
        lines = [" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(lines_per_page)]
        if p == 0:
            lines[0] = f"{MARK} {unique}"
        body = ["BT /F1 9 Tf 11 TL 40 800 Td"]
        for ln in lines:
            body.append(f"({ln}) Tj T*")
        body.append("ET")
        stream = "\n".join(body).encode("latin-1")
        page_no = len(objs) + 1
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {page_no + 1} 0 R >>".encode())
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(f"{page_no} 0 R")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def multipart(fields, filename, data):
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n".encode())
    parts.append(data)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return boundary, b"".join(parts)


def rss_mb(pid):
    if not pid:
        return None
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1]) / 1024
    return None


def search_total(url, token, q):
    req = urllib.request.Request(f"{url}api/v1/records/search?q={q}",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["total"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("file_id")
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--pid", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(11)
    t0 = time.time()
    pdfs = [text_pdf(38, 40, f"Einzelwort{i:05d}", rng) for i in range(a.docs)]
    sizes = [len(p) for p in pdfs]
    print(f"generated: {a.docs} PDFs, {statistics.mean(sizes) / 1024:.0f} KB each on average, "
          f"40 pages, in {time.time() - t0:.1f} s")

    lat, errors, lock = [], [], threading.Lock()
    nxt = iter(range(a.docs))
    peak = [rss_mb(a.pid) or 0]

    def worker():
        while True:
            with lock:
                i = next(nxt, None)
            if i is None:
                return
            b, body = multipart({"title": f"Nachweis {i}"}, f"nachweis-{i:05d}.pdf", pdfs[i])
            req = urllib.request.Request(
                f"{a.url}api/v1/records/files/{a.file_id}/documents", data=body, method="POST",
                headers={"Authorization": f"Bearer {a.token}",
                         "Content-Type": f"multipart/form-data; boundary={b}"})
            s = time.time()
            try:
                with urllib.request.urlopen(req) as r:
                    r.read()
                    ok = r.status == 201
            except Exception as e:  # noqa: BLE001 - counted and reported
                ok = False
                with lock:
                    errors.append(str(e))
            with lock:
                if ok:
                    lat.append(time.time() - s)
                if i % 50 == 0:
                    peak[0] = max(peak[0], rss_mb(a.pid) or 0)

    start = time.time()
    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    up = time.time() - start
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(round((len(lat) - 1) * q)))] * 1000  # noqa: E731
    print(f"stored: {len(lat)} of {a.docs} documents in {up:.1f} s = {len(lat) / up:.1f} documents/s "
          f"({a.concurrency} clients); latency p50 {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms; errors {len(errors)}")
    if errors:
        print("first error:", errors[0])
    if a.pid:
        print(f"server RSS during the upload: peak {peak[0]:.0f} MB (sampled)")

    # Findable by a word inside: the count of documents holding the mark.
    found, last = 0, time.time()
    while time.time() - start < 3600:
        found = search_total(a.url, a.token, MARK)
        if found >= len(lat):
            break
        time.sleep(0.5)
    allin = time.time() - start
    print(f"findable: {found} of {len(lat)} documents by a word inside them {allin:.1f} s after the "
          f"first upload ({allin - up:.1f} s after the last); extraction and indexing "
          f"{len(lat) / allin:.1f} documents/s overall")
    probe = search_total(a.url, a.token, f"Einzelwort{a.docs - 1:05d}")
    print(f"the last document by its own word: {probe} hit(s)")
    if a.pid:
        print(f"server RSS after: {rss_mb(a.pid):.0f} MB")


if __name__ == "__main__":
    main()
