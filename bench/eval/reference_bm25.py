#!/usr/bin/env python3
"""A naive single-threaded BM25 over SQuAD v1.1 dev paragraphs: the reference the eval benchmark is compared with.

Every question scores every paragraph (no inverted index), Okapi BM25 with k1 = 1.2, b = 0.75 and Lucene's idf,
lower-cased \\w+ tokens, no stemming or stop words. Prints recall@1/5/20 and the seconds spent on questions.
Usage: reference_bm25.py PATH/dev-v1.1.json [LIMIT]
"""
import json
import math
import re
import sys
import time
from collections import Counter

K1, B = 1.2, 0.75
TOKEN = re.compile(r"\w+")


def tokens(text):
    return TOKEN.findall(text.lower())


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    data = json.load(open(path, encoding="utf-8"))["data"]
    paragraphs, questions = [], []
    for article in data:
        for p in article["paragraphs"]:
            paragraphs.append(p["context"])
            for qa in p["qas"]:
                questions.append((qa["question"], len(paragraphs) - 1))
    questions = questions[:limit] if limit else questions

    start = time.perf_counter()
    docs = [Counter(tokens(p)) for p in paragraphs]
    lengths = [sum(d.values()) for d in docs]
    avgdl = sum(lengths) / len(lengths)
    df = Counter(t for d in docs for t in d)
    n = len(docs)
    idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
    index_seconds = time.perf_counter() - start

    hits = {1: 0, 5: 0, 20: 0}
    start = time.perf_counter()
    for question, gold in questions:
        terms = [t for t in tokens(question) if t in idf]
        scores = []
        for i, d in enumerate(docs):
            norm = K1 * (1 - B + B * lengths[i] / avgdl)
            s = 0.0
            for t in terms:
                tf = d.get(t, 0)
                if tf:
                    s += idf[t] * tf * (K1 + 1) / (tf + norm)
            scores.append((s, i))
        scores.sort(reverse=True)
        ranked = [i for _, i in scores[:20]]
        for k in hits:
            if gold in ranked[:k]:
                hits[k] += 1
    seconds = time.perf_counter() - start
    q = len(questions)
    print(f"python naive BM25: recall@1 {hits[1] / q:.3f} @5 {hits[5] / q:.3f} @20 {hits[20] / q:.3f}; "
          f"index {index_seconds:.1f} s, {q} questions in {seconds:.1f} s = {q / seconds:.0f} questions per second")


if __name__ == "__main__":
    main()
