#!/usr/bin/env python3
"""Ingest throughput and /v1/search latency of a running service, through its HTTP API only.

Uploads every SQuAD v1.1 dev paragraph as a JSON document, times from the first upload until every document is
indexed (passages per second = chunks written / that time), then sends questions to /v1/search one at a time (the
service's default mode: hybrid with the default encoder) and prints p50/p95. Usage:
    service_throughput.py URL KEY SQUAD.json [--questions N]
"""
import json, sys, time, urllib.request

def call(url, key, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")

def main():
    base, key, squad = sys.argv[1], sys.argv[2], sys.argv[3]
    n_questions = int(sys.argv[sys.argv.index("--questions") + 1]) if "--questions" in sys.argv else 500
    data = json.load(open(squad))["data"]
    paragraphs, questions = [], []
    for article in data:
        for i, p in enumerate(article["paragraphs"]):
            paragraphs.append((f"{article['title']} {i + 1}", p["context"]))
            questions.extend(qa["question"] for qa in p["qas"])
    start = time.perf_counter()
    for title, text in paragraphs:
        call(f"{base}/v1/documents", key, "POST", {"title": title, "text": text})
    uploaded = time.perf_counter() - start
    while True:
        docs, offset = [], 0
        while True:
            page = call(f"{base}/v1/documents?offset={offset}&limit=500", key)
            docs += page["items"]; offset += 500
            if offset >= page["total"]: break
        states = [d["status"] for d in docs]
        if "failed" in states: sys.exit("a document failed: " + next(d["error"] for d in docs if d["status"] == "failed"))
        if len(docs) == len(paragraphs) and all(s == "indexed" for s in states): break
        time.sleep(0.5)
    elapsed = time.perf_counter() - start
    chunks = sum(d["chunkCount"] for d in docs)
    print(f"ingest: {len(paragraphs)} paragraphs ({chunks} passages) uploaded in {uploaded:.1f} s, all indexed after {elapsed:.1f} s: "
          f"{chunks / elapsed:.1f} passages/s")
    step = max(1, len(questions) // n_questions)
    sample = questions[::step][:n_questions]
    for q in sample[:10]: call(f"{base}/v1/search", key, "POST", {"query": q, "k": 5})  # warm-up
    times = []
    for q in sample:
        t0 = time.perf_counter()
        call(f"{base}/v1/search", key, "POST", {"query": q, "k": 5})
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    pct = lambda p: times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))]
    print(f"search: {len(times)} questions one at a time, p50 {pct(50):.1f} ms, p95 {pct(95):.1f} ms, max {times[-1]:.1f} ms")

main()
