#!/usr/bin/python3
"""PyTorch side of bench/neural.sh: the same random checkpoints and inputs as Neural.Bench, timed at 1 and 2
threads (median of several runs after a warm-up), through the reference forward passes of tools/parity/reference.py
(BERT) and a KV-cached GPT-2 greedy loop written the way Hugging Face's GPT2Model runs it."""
import ctypes
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "parity"))
import reference as ref  # noqa: E402


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32"
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data, dtype=np.float32, count=(end - b) // 4, offset=b).reshape(e["shape"]).copy())
    return out


def gpt2_generate(cfg, W, prompt, new_tokens):
    """Greedy decoding with a per-layer KV cache (prefill, then one token at a time)."""
    C, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    D = C // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    cache = [None] * L
    out = []
    ids = torch.tensor(prompt)
    pos0 = 0
    for step in range(new_tokens):
        T = ids.shape[0]
        x = W["wte.weight"][ids] + W["wpe.weight"][torch.arange(pos0, pos0 + T)]
        for i in range(L):
            l = f"h.{i}."
            y = F.layer_norm(x, (C,), W[l + "ln_1.weight"], W[l + "ln_1.bias"], eps)
            qkv = torch.addmm(W[l + "attn.c_attn.bias"], y, W[l + "attn.c_attn.weight"])
            q, k, v = [t.view(T, H, D).transpose(0, 1) for t in qkv.split(C, dim=-1)]
            if cache[i] is not None:
                k = torch.cat([cache[i][0], k], dim=1)
                v = torch.cat([cache[i][1], v], dim=1)
            cache[i] = (k, v)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
            if T > 1:
                S = k.shape[1]
                causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)
                scores = scores.masked_fill(~causal, torch.finfo(torch.float32).min)
            ctx = (scores.softmax(-1) @ v).transpose(0, 1).reshape(T, C)
            x = x + torch.addmm(W[l + "attn.c_proj.bias"], ctx, W[l + "attn.c_proj.weight"])
            y = F.layer_norm(x, (C,), W[l + "ln_2.weight"], W[l + "ln_2.bias"], eps)
            h = ref.gelu_tanh(torch.addmm(W[l + "mlp.c_fc.bias"], y, W[l + "mlp.c_fc.weight"]))
            x = x + torch.addmm(W[l + "mlp.c_proj.bias"], h, W[l + "mlp.c_proj.weight"])
        last = F.layer_norm(x[-1:], (C,), W["ln_f.weight"], W["ln_f.bias"], eps)
        nxt = int((last @ W["wte.weight"].T).argmax())
        out.append(nxt)
        pos0 += T
        ids = torch.tensor([nxt])
    return out


def blas_in_use():
    """What torch's BLAS calls resolve to. Debian's torch is built against the generic libblas.so.3, whose provider
    update-alternatives picks: reference netlib BLAS (about 8x slower) unless OpenBLAS is installed."""
    torch.ones(64, 64) @ torch.ones(64, 64)  # loads the BLAS
    config = [part.strip() for part in torch.__config__.show().replace("\n", ",").split(",") if "BLAS_INFO" in part]
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and line.split()[-1].startswith("/")})
    kernel = None
    for lib in libs:
        if "openblas" in lib:
            try:
                f = ctypes.CDLL(lib).openblas_get_corename
                f.restype = ctypes.c_char_p
                kernel = f().decode()
            except (OSError, AttributeError):
                pass
    return config, libs, kernel


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def main(d):
    inputs = json.load(open(os.path.join(d, "inputs.json")))
    B, T, new = inputs["batch"], inputs["seq"], inputs["new_tokens"]
    ids = torch.tensor(inputs["encoder_ids"]).view(B, T)
    mask = torch.ones(B, T, dtype=torch.int64)
    for i in range(B):
        if i:
            mask[i, T - 8 * i:] = 0  # row i has 8i padding tokens, as in Neural.Bench
    types = torch.zeros(B, T, dtype=torch.int64)
    bert_cfg = json.load(open(os.path.join(d, "bert", "config.json")))
    bert_w = load_safetensors(os.path.join(d, "bert", "model.safetensors"))
    gpt_cfg = json.load(open(os.path.join(d, "gpt2", "config.json")))
    gpt_w = load_safetensors(os.path.join(d, "gpt2", "model.safetensors"))
    config, libs, kernel = blas_in_use()
    print(f"pytorch {torch.__version__}: {', '.join(config)}; BLAS library loaded: {', '.join(libs) or 'none'}; OpenBLAS kernel: {kernel or 'n/a'}"
          f" (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', 'unset')})", flush=True)
    result = {"encoder_ms": {}, "decoder_ms": {}, "blas": "openblas" if any("openblas" in lib for lib in libs) else "netlib or unknown", "blas_libraries": libs}
    with torch.inference_mode():
        for threads in (1, 2):
            torch.set_num_threads(threads)
            times = []
            for run in range(4):
                t0 = time.perf_counter()
                h, _ = ref.bert_forward(bert_cfg, bert_w, ids, types, mask)
                m = mask.unsqueeze(-1).float()
                emb = F.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1)
                if run:
                    times.append((time.perf_counter() - t0) * 1000)
            result["encoder_ms"][str(threads)] = median(times)
            times = []
            for run in range(4):
                t0 = time.perf_counter()
                gen = gpt2_generate(gpt_cfg, gpt_w, inputs["prompt_ids"], new)
                if run:
                    times.append((time.perf_counter() - t0) * 1000)
            result["decoder_ms"][str(threads)] = median(times)
            print(f"pytorch {torch.__version__}, {threads} thread(s): encoder {result['encoder_ms'][str(threads)]:.0f} ms, decoder {result['decoder_ms'][str(threads)]:.0f} ms", flush=True)
    result["embedding_row0"] = emb[0].tolist()
    result["generated"] = gen
    json.dump(result, open(os.path.join(d, "torch.json"), "w"))


if __name__ == "__main__":
    main(sys.argv[1])
