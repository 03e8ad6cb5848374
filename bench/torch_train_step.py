#!/usr/bin/python3
"""PyTorch side of bench/train_step.sh: one dual-encoder training step on the weights and ids Neural.Bench
train-prepare wrote. A shared BERT tower written the way Hugging Face's BertModel runs in train mode (dropout after
the embeddings' LayerNorm, on the attention probabilities and before each residual), CLS pooling and L2 normalisation
(arctic-embed-xs), in-batch cross-entropy of Q P^T / temperature, backward, clip_grad_norm_(1.0) and one
torch.optim.AdamW step (no decay on biases and LayerNorm). Median of several steps after a warm-up."""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import blas_in_use, load_safetensors, median  # noqa: E402


def encode(cfg, W, ids, train):
    B, T = ids.shape
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    D, eps, p = C // H, cfg.get("layer_norm_eps", 1e-12), cfg.get("hidden_dropout_prob", 0.1)
    act = F.gelu if cfg.get("hidden_act", "gelu") == "gelu" else (lambda t: F.gelu(t, approximate="tanh"))
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:T] \
        + W["embeddings.token_type_embeddings.weight"][0]
    x = F.dropout(F.layer_norm(x, (C,), W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps), p, train)
    for i in range(cfg["num_hidden_layers"]):
        l = f"encoder.layer.{i}."

        def heads(t):
            return t.view(B, T, H, D).transpose(1, 2)
        q = heads(F.linear(x, W[l + "attention.self.query.weight"], W[l + "attention.self.query.bias"]))
        k = heads(F.linear(x, W[l + "attention.self.key.weight"], W[l + "attention.self.key.bias"]))
        v = heads(F.linear(x, W[l + "attention.self.value.weight"], W[l + "attention.self.value.bias"]))
        probs = F.dropout((q @ k.transpose(-1, -2) / math.sqrt(D)).softmax(-1), p, train)
        ctx = (probs @ v).transpose(1, 2).reshape(B, T, C)
        a = F.dropout(F.linear(ctx, W[l + "attention.output.dense.weight"], W[l + "attention.output.dense.bias"]), p, train)
        x = F.layer_norm(x + a, (C,), W[l + "attention.output.LayerNorm.weight"], W[l + "attention.output.LayerNorm.bias"], eps)
        h = act(F.linear(x, W[l + "intermediate.dense.weight"], W[l + "intermediate.dense.bias"]))
        h = F.dropout(F.linear(h, W[l + "output.dense.weight"], W[l + "output.dense.bias"]), p, train)
        x = F.layer_norm(x + h, (C,), W[l + "output.LayerNorm.weight"], W[l + "output.LayerNorm.bias"], eps)
    return F.normalize(x[:, 0], p=2, dim=1)


def main(d):
    inputs = json.load(open(os.path.join(d, "train_inputs.json")))
    B, T, temperature, runs = inputs["batch"], inputs["tokens"], inputs["temperature"], inputs["runs"]
    torch.set_num_threads(inputs["threads"])
    q_ids = torch.tensor(inputs["question_ids"]).view(B, T)
    p_ids = torch.tensor(inputs["passage_ids"]).view(B, T)
    folder = os.path.join(d, "arctic-train")
    cfg = json.load(open(os.path.join(folder, "config.json")))
    W = {k: v.requires_grad_() for k, v in load_safetensors(os.path.join(folder, "model.safetensors")).items()}
    config, libs, kernel = blas_in_use()
    print(f"pytorch {torch.__version__}: {', '.join(config)}; BLAS library loaded: {', '.join(libs) or 'none'}; "
          f"OpenBLAS kernel: {kernel or 'n/a'}; {torch.get_num_threads()} threads")
    decay = [w for k, w in W.items() if not (k.endswith(".bias") or "LayerNorm" in k)]
    no_decay = [w for k, w in W.items() if k.endswith(".bias") or "LayerNorm" in k]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
    targets = torch.arange(B)

    with torch.no_grad():
        eval_loss = F.cross_entropy(encode(cfg, W, q_ids, False) @ encode(cfg, W, p_ids, False).T / temperature, targets).item()

    times = []
    for run in range(runs + 1):  # run 0 warms up
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(encode(cfg, W, q_ids, True) @ encode(cfg, W, p_ids, True).T / temperature, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(W.values(), 1.0)
        opt.step()
        if run:
            times.append((time.perf_counter() - t0) * 1000)
    print(f"pytorch: training step {median(times):.0f} ms median of {runs} (min {min(times):.0f}, max {max(times):.0f}); "
          f"loss without dropout {eval_loss:.5f}")
    result = {"version": torch.__version__, "step_ms": median(times), "step_ms_min": min(times), "step_ms_max": max(times),
              "eval_loss": eval_loss, "blas": "openblas" if any("openblas" in lib for lib in libs) else "netlib or unknown",
              "blas_libraries": libs, "openblas_kernel": kernel}
    json.dump(result, open(os.path.join(d, "torch_train.json"), "w"))


if __name__ == "__main__":
    main(sys.argv[1])
