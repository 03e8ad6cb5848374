#!/usr/bin/env python3
"""Reference token ids for tests/Tokenizers.Tests/Fixtures, over the real vocabularies in ../shared/data.

Two oracles:
  --oracle hf         the Hugging Face `tokenizers` library (pip install tokenizers): the strongest oracle.
                      It is NOT installed on the machine these fixtures were first made on; run this on one
                      that has it and commit the *.hf.json files it writes.
  --oracle reference  self-contained ports of the original algorithms, needing only the `regex` module:
                      openai/gpt-2 encoder.py (GPT-2 BPE), tiktoken's rank-based byte-pair merge (Llama 3),
                      google-research/bert tokenization.py (WordPiece). Where google's Python and Hugging Face's
                      Rust BertNormalizer differ, the port follows Hugging Face (commented below), so both oracles
                      should agree on every case.

Usage: python3 tools/tokenizers/make_reference.py --data ../shared/data --out tests/Tokenizers.Tests/Fixtures [--oracle reference|hf]
Each fixture: {"oracle", "vocabulary", "cases": [{"text", "ids"}]}; ids carry no special tokens.
"""
import argparse
import base64
import json
import os
import random
import unicodedata

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


# ---------------------------------------------------------------- test strings

HANDWRITTEN = [
    "Hello world", "Hello, world!", "This is a test sentence.", "user", "\n\n", "", " ", "  leading and trailing  ",
    "I'm sure they'll say it's the dog's, we've seen 'em; YOU'RE WRONG, he'D say.",
    "naïve café résumé über Straße ÀÉÎÕÜ ñandú", "Ελληνικά ΣΟΦΙΑ σοφία", "Привет, мир! Съешь же ещё этих мягких булок.",
    "日本語のテキストと漢字", "中文分词测试：你好，世界！", "한국어 텍스트 안녕하세요", "العربية: مرحبا بالعالم", "עברית שלום",
    "हिन्दी नमस्ते दुनिया", "ไทย สวัสดี", "emoji 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🤖", "math 𝐀𝐁𝐂 𝟏𝟐𝟑 and 𠀀𠀁 ext-B",
    "combining: e\u0301 a\u0308 n\u0303 o\u0302\u0323", "tabs\tand\nnewlines\r\nand  double  spaces",
    "control\u0001chars\u0007here\u007f and zero\u200bwidth\u200dzwj", "nbsp\u00a0thin\u2009ideographic\u3000space",
    "numbers 1234567 3.14159 1,000,000 2024-11-25 0x1F", "punct !!! ??? ... --- ((())) [[]] {{}} <<>> @#$%^&*_+=|\\/~`",
    "URLs https://example.com/path?q=1&r=2#frag and emails a.b@c.io", "code: def f(x): return x**2  # comment",
    "MixedCASE camelCase snake_case kebab-case SCREAMING_CASE", "supercalifragilisticexpialidocious " * 3,
    "a" * 150, "ab " * 40, "The Super Bowl 50 was played on February 7, 2016.", "'s 't 're 've 'm 'll 'd",
    "  \n  \n\n   \t", "quotes “double” ‘single’ «guillemets» „low“", "dashes – — ‒ and ellipsis … and bullets •",
    "currency $5 €10 £20 ¥30 ₹40", "fractions ½ ¼ ¾ and superscripts x² y³", "Ǆemal İstanbul ǅ ǆ ß ẞ ﬁ ﬂ",
    "full-width ＡＢＣ１２３！", "<|endoftext|> <|im_start|>user<|im_end|> <|begin_of_text|>",
]


def random_strings(seed, count):
    """Varied strings from a fixed seed: words, scripts, digits, punctuation, whitespace and emoji mixed."""
    rng = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " \t\n", ".,;:!?'\"()[]{}-_/\\@#$%&*+=<>",
        "áéíóúàèìòùâêîôûäëïöüñçÁÉÍÓÚÑ", "αβγδεζηθλμπσςωΑΒΓΔΣΩ", "абвгдежзиклмнопрстуфхцчшщыэюяАБВ", "你好世界中文字漢語",
        "ひらがなカタカナ", "한국어문자", "👍🏽😀🎉🇫🇷❤️\u200d", "\u0301\u0308\u0303", "𝐀𝐁𝟏𝟐𠀀",
    ]
    out = []
    for _ in range(count):
        n = rng.randint(1, 40)
        s = []
        for _ in range(n):
            pool = rng.choice(pools[:4] * 4 + pools[4:])
            s.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        out.append(rng.choice(["", " ", "  "]).join(s) if rng.random() < 0.3 else " ".join(s))
    return out


def squad_sentences(data, count):
    path = os.path.join(data, "squad-v1.1", "dev-v1.1.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        squad = json.load(f)
    contexts = [p["context"] for a in squad["data"] for p in a["paragraphs"]]
    rng = random.Random(7)
    return [c[:300] for c in rng.sample(contexts, count)]


# ---------------------------------------------------------------- reference: byte-level BPE

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class Gpt2Encoder:
    """openai/gpt-2 src/encoder.py, unchanged in substance."""

    def __init__(self, encoder, bpe_merges):
        self.encoder = encoder
        self.byte_encoder = bytes_to_unicode()
        self.bpe_ranks = dict(zip(bpe_merges, range(len(bpe_merges))))
        self.pat = regex.compile(GPT2_PATTERN)

    def bpe(self, token):
        word = tuple(token)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
        return word

    def encode(self, text):
        ids = []
        for token in regex.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids


class Tiktoken:
    """tiktoken's _byte_pair_merge: merge the adjacent pair whose concatenation has the lowest rank."""

    def __init__(self, ranks, pattern):
        self.ranks = ranks
        self.pat = regex.compile(pattern)

    def merge(self, piece):
        if piece in self.ranks:
            return [self.ranks[piece]]
        parts = [piece[i:i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get(parts[i] + parts[i + 1])
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        return [self.ranks[p] for p in parts]

    def encode(self, text):
        ids = []
        for piece in regex.findall(self.pat, text):
            ids.extend(self.merge(piece.encode("utf-8")))
        return ids


# ---------------------------------------------------------------- reference: BERT WordPiece

def _is_whitespace(c):
    # Hugging Face's Rust BertNormalizer uses char::is_whitespace (Unicode White_Space): Zl and Zp count too.
    return c in " \t\n\r" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def _is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def _is_punctuation(c):
    cp = ord(c)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or unicodedata.category(c).startswith("P")


def _is_chinese_char(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class Bert:
    """google-research/bert tokenization.py (BasicTokenizer + WordpieceTokenizer), uncased."""

    def __init__(self, vocab):
        self.vocab = vocab

    def basic(self, text):
        text = "".join(c for c in text if not (ord(c) == 0 or ord(c) == 0xFFFD or _is_control(c)))
        text = "".join(" " if _is_whitespace(c) else c for c in text)
        text = "".join(f" {c} " if _is_chinese_char(ord(c)) else c for c in text)
        tokens = []
        for token in text.split():
            # Hugging Face: strip accents (NFD, drop Mn), then lower-case char by char (no final-sigma rule).
            token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
            token = "".join(c.lower() for c in token)
            word = []
            for c in token:
                if _is_punctuation(c):
                    if word:
                        tokens.append("".join(word))
                    tokens.append(c)
                    word = []
                else:
                    word.append(c)
            if word:
                tokens.append("".join(word))
        return tokens

    def wordpiece(self, token):
        if len(token) > 100:
            return [self.vocab["[UNK]"]]
        out, start = [], 0
        while start < len(token):
            end, cur = len(token), None
            while start < end:
                sub = token[start:end]
                if start > 0:
                    sub = "##" + sub
                if sub in self.vocab:
                    cur = self.vocab[sub]
                    break
                end -= 1
            if cur is None:
                return [self.vocab["[UNK]"]]
            out.append(cur)
            start = end
        return out

    def encode(self, text):
        return [i for t in self.basic(text) for i in self.wordpiece(t)]


# ---------------------------------------------------------------- oracles

def reference_encoders(data):
    with open(os.path.join(data, "gpt2-bpe", "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    with open(os.path.join(data, "gpt2-bpe", "vocab.bpe"), encoding="utf-8") as f:
        merges = [tuple(line.split()) for line in f.read().split("\n")[1:] if line]
    ranks = {}
    with open(os.path.join(data, "llama3-tokenizer", "tokenizer.model"), encoding="ascii") as f:
        for line in f:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    vocab = {}
    with open(os.path.join(data, "bert-base-uncased", "vocab.txt"), encoding="utf-8") as f:
        for i, line in enumerate(f.read().split("\n")):
            if line:
                vocab[line] = i
    return {
        "gpt2": Gpt2Encoder(encoder, merges).encode,
        "llama3": Tiktoken(ranks, LLAMA3_PATTERN).encode,
        "bert-uncased": Bert(vocab).encode,
    }


def hf_encoders(data):
    from tokenizers import Tokenizer  # only here: the library is optional
    bert = Tokenizer.from_file(os.path.join(data, "bert-base-uncased", "tokenizer.json"))
    gpt2 = Tokenizer.from_file(os.path.join(data, "gpt2-bpe", "tokenizer_trunc50.json"))
    for t in (bert, gpt2):
        t.no_truncation()
        t.no_padding()
    encoders = {
        "gpt2": lambda s: gpt2.encode(s, add_special_tokens=False).ids,
        "bert-uncased": lambda s: bert.encode(s, add_special_tokens=False).ids,
    }
    try:
        import tiktoken  # Llama 3 has no HF tokenizer.json in shared/data; tiktoken is its reference library
        from tiktoken.load import load_tiktoken_bpe
        ranks = load_tiktoken_bpe(os.path.join(data, "llama3-tokenizer", "tokenizer.model"))
        enc = tiktoken.Encoding("llama3", pat_str=LLAMA3_PATTERN, mergeable_ranks=ranks, special_tokens={})
        encoders["llama3"] = lambda s: enc.encode(s, disallowed_special=())
    except ImportError:
        pass
    return encoders


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="tests/Tokenizers.Tests/Fixtures")
    ap.add_argument("--oracle", choices=["reference", "hf"], default="reference")
    args = ap.parse_args()
    encoders = hf_encoders(args.data) if args.oracle == "hf" else reference_encoders(args.data)
    texts = HANDWRITTEN + squad_sentences(args.data, 100) + random_strings(seed=20261125, count=200)
    os.makedirs(args.out, exist_ok=True)
    for name, encode in encoders.items():
        fixture = {
            "oracle": args.oracle,
            "vocabulary": name,
            # HF tokenizers always matches added tokens (<|endoftext|>) in the text; the reference ports never do.
            "added_tokens_matched": args.oracle == "hf" and name == "gpt2",
            "note": "Made by tools/tokenizers/make_reference.py; SQuAD v1.1 excerpts are CC BY-SA 4.0 (Rajpurkar et al., 2016).",
            "cases": [{"text": t, "ids": encode(t)} for t in texts],
        }
        path = os.path.join(args.out, f"{name}.{args.oracle}.json")
        with open(path, "w", encoding="utf-8") as f:  # one case per line, so diffs stay readable
            head = {k: v for k, v in fixture.items() if k != "cases"}
            f.write(json.dumps(head)[:-1] + ', "cases": [\n')
            f.write(",\n".join(json.dumps(c, separators=(",", ":"), ensure_ascii=False) for c in fixture["cases"]))
            f.write("\n]}\n")
        print(f"{path}: {len(texts)} cases")


if __name__ == "__main__":
    main()
