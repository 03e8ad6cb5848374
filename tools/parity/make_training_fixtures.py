#!/usr/bin/python3
"""Gradient-parity fixtures for training the dual encoder (src/Neural/Training). For tiny random BERT towers and one
batch of questions and passages with padding, PyTorch autograd (in float64, the oracle) computes DPR's in-batch loss
and the gradient of every parameter; torch.optim.AdamW (float32, with clip_grad_norm_ and a linear warm-up/decay
LambdaLR) then takes two steps from those gradients. The C# tests load the same directories and must agree.

  shared-st: one shared sentence-transformer tower (mean pooling, L2 normalisation, exact GELU), cosine similarity
             with temperature 0.05, one hard negative per question.
  dpr:       separate DPR question and context towers (CLS pooling, encode_proj, tanh GELU), dot product, no hard negatives.

Run:  /usr/bin/python3 tools/parity/make_training_fixtures.py tests/Neural.Tests/Fixtures
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
from make_fixtures import BERT_CFG, Init, bert_weights, flat, write_safetensors  # noqa: E402

LR, WARMUP, TOTAL, MAX_NORM, WEIGHT_DECAY, EPS = 1e-3, 1, 4, 1.0, 0.01, 1e-8


def schedule(step):  # 1-based update number, as AdamWOptimizer.LearningRateAt
    return step / max(1, WARMUP) if step <= WARMUP else max(0.0, (TOTAL - step) / max(1, TOTAL - WARMUP))


def decays(name):
    return not (name.endswith(".bias") or "LayerNorm" in name)


def batch(init, rows, length, vocab, lengths):
    ids = torch.stack([init.ids(length, vocab) for _ in range(rows)])
    ids[:, 0] = 2  # [CLS]
    mask = torch.zeros(rows, length, dtype=torch.int64)
    for r, n in enumerate(lengths):
        mask[r, :n] = 1
        ids[r, n:] = 0
    return ids, torch.zeros(rows, length, dtype=torch.int64), mask


def write_tower(d, cfg, W, st):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), W, "F32")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(cfg["vocab_size"] - 5)]
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    if st:
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ]
        with open(os.path.join(d, "modules.json"), "w") as f:
            json.dump(modules, f, indent=2)
        os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
        with open(os.path.join(d, "1_Pooling", "config.json"), "w") as f:
            json.dump({"word_embedding_dimension": cfg["hidden_size"], "pooling_mode_cls_token": False,
                       "pooling_mode_mean_tokens": True}, f, indent=2)


def encode(cfg, W, prefix, ids, types, mask, pooling, normalize, proj):
    h, _ = ref.bert_forward(cfg, W, ids, types, mask, prefix=prefix)
    if pooling == "mean":
        m = mask.unsqueeze(-1).to(h.dtype)
        e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    else:
        e = h[:, 0]
    if proj:
        e = ref.linear(e, W[proj + "encode_proj.weight"], W[proj + "encode_proj.bias"])
    return F.normalize(e, p=2, dim=1) if normalize else e


def adamw_steps(towers, grads):
    """Two AdamW updates in float32: first from the reference gradients, then from -0.3 times them."""
    params = {f"{t}/{k}": v.float().clone().requires_grad_(True) for t, W in towers.items() for k, v in W.items()}
    groups = [{"params": [p for n, p in params.items() if decays(n)], "weight_decay": WEIGHT_DECAY},
              {"params": [p for n, p in params.items() if not decays(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=EPS)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: schedule(k + 1))
    lrs, norms = [], []
    for factor in (1.0, -0.3):
        for n, p in params.items():
            p.grad = (grads[n].float() * factor).clone()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), MAX_NORM)))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {n: p.detach() for n, p in params.items()}, lrs, norms


def make(out, name, towers, specs, qb, pb, scale):
    """towers: tower name -> (cfg, fp32 weights); specs: 'question'/'context' -> (tower, prefix, pooling, normalize, proj)."""
    d = os.path.join(out, name)
    for t, (cfg, W) in towers.items():
        write_tower(os.path.join(d, t), cfg, W, st=specs["question"][2] == "mean")
    W64 = {t: {k: v.double().requires_grad_(True) for k, v in W.items()} for t, (cfg, W) in towers.items()}
    qt, qp, qpool, qnorm, qproj = specs["question"]
    ct, cp, cpool, cnorm, cproj = specs["context"]
    q = encode(towers[qt][0], W64[qt], qp, *qb, qpool, qnorm, qproj)
    p = encode(towers[ct][0], W64[ct], cp, *pb, cpool, cnorm, cproj)
    scores = scale * q @ p.T
    loss = F.cross_entropy(scores, torch.arange(q.shape[0]))
    loss.backward()
    grads = {f"{t}/{k}": v.grad if v.grad is not None else torch.zeros_like(v) for t, W in W64.items() for k, v in W.items()}
    write_safetensors(os.path.join(d, "grads.safetensors"), {k: v.float() for k, v in grads.items()}, "F32")
    after, lrs, norms = adamw_steps({t: W for t, (cfg, W) in towers.items()}, grads)
    write_safetensors(os.path.join(d, "adamw.safetensors"), after, "F32")
    expected = {
        "scale": scale, "loss": float(loss),
        "question_ids": qb[0].tolist(), "question_types": qb[1].tolist(), "question_mask": qb[2].tolist(),
        "passage_ids": pb[0].tolist(), "passage_types": pb[1].tolist(), "passage_mask": pb[2].tolist(),
        "question_embeddings": flat(q.detach().float()), "passage_embeddings": flat(p.detach().float()),
        "adamw": {"lr": LR, "warmup": WARMUP, "total": TOTAL, "max_norm": MAX_NORM, "weight_decay": WEIGHT_DECAY, "eps": EPS,
                  "second_factor": -0.3, "lrs": lrs, "grad_norms": norms},
    }
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(f"{name}: loss {float(loss):.6f}, {sum(g.numel() for g in grads.values())} gradient values")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/Neural.Tests/Fixtures"
    torch.set_num_threads(1)
    out = os.path.join(out, "training")

    # Shared sentence-transformer tower, cosine / 0.05, passages = 3 positives + 3 hard negatives.
    init = Init(11)
    cfg = dict(BERT_CFG)
    W = bert_weights(cfg, init, "", pooler=False)
    qb = batch(init, 3, 6, cfg["vocab_size"], [6, 4, 3])
    pb = batch(init, 6, 9, cfg["vocab_size"], [9, 7, 5, 8, 9, 2])
    make(out, "shared-st", {"encoder": (cfg, W)},
         {"question": ("encoder", "", "mean", True, None), "context": ("encoder", "", "mean", True, None)}, qb, pb, 1 / 0.05)

    # Separate DPR towers with encode_proj (16), tanh GELU, dot product, in-batch negatives only.
    init = Init(12)
    qcfg = dict(BERT_CFG, model_type="dpr", architectures=["DPRQuestionEncoder"], projection_dim=16, hidden_act="gelu_new")
    ccfg = dict(qcfg, architectures=["DPRContextEncoder"])
    Wq = bert_weights(qcfg, init, "question_encoder.bert_model.", pooler=False)
    Wq["question_encoder.encode_proj.weight"] = init.w(16, qcfg["hidden_size"])
    Wq["question_encoder.encode_proj.bias"] = init.w(16, std=0.1)
    Wc = bert_weights(ccfg, init, "ctx_encoder.bert_model.", pooler=False)
    Wc["ctx_encoder.encode_proj.weight"] = init.w(16, ccfg["hidden_size"])
    Wc["ctx_encoder.encode_proj.bias"] = init.w(16, std=0.1)
    qb = batch(init, 3, 5, qcfg["vocab_size"], [5, 3, 4])
    pb = batch(init, 3, 8, ccfg["vocab_size"], [8, 6, 3])
    make(out, "dpr", {"question": (qcfg, Wq), "context": (ccfg, Wc)},
         {"question": ("question", "question_encoder.bert_model.", "cls", False, "question_encoder."),
          "context": ("context", "ctx_encoder.bert_model.", "cls", False, "ctx_encoder.")}, qb, pb, 1.0)
