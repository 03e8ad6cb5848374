#!/usr/bin/python3
"""Builds tiny random models in the Hugging Face layout (config.json + model.safetensors) and records what
the reference forward passes in reference.py compute for them: hidden states, pooled embeddings, prefill
logits and the logits of 5 cached decode steps. The C# tests load the same directories and must agree to 1e-4.

Run:  /usr/bin/python3 tools/parity/make_fixtures.py tests/Neural.Tests/Fixtures
(The `transformers` library is not installed on this machine; where it is, it would be the stronger oracle.)
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def write_safetensors(path, tensors, dtype="F32"):
    """8-byte little-endian header length, JSON header (padded to 8 bytes), raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.to(DTYPES[dtype]).contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if dtype == "BF16" else t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def stored(W, dtype):
    """The fp32 values the engine will see after loading W stored as dtype (the reference computes with these)."""
    return {k: v.to(DTYPES[dtype]).to(torch.float32) for k, v in W.items()}


class Init:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def w(self, *shape, std=0.2):
        return torch.randn(*shape, generator=self.g) * std

    def gain(self, n):
        return 1.0 + torch.randn(n, generator=self.g) * 0.1

    def ids(self, n, vocab):
        return torch.randint(0, vocab, (n,), generator=self.g)


def bert_weights(cfg, init, prefix, pooler):
    C, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    p = prefix
    W = {
        p + "embeddings.word_embeddings.weight": init.w(V, C, std=0.5),
        p + "embeddings.position_embeddings.weight": init.w(cfg["max_position_embeddings"], C, std=0.5),
        p + "embeddings.token_type_embeddings.weight": init.w(cfg["type_vocab_size"], C, std=0.5),
        p + "embeddings.LayerNorm.weight": init.gain(C),
        p + "embeddings.LayerNorm.bias": init.w(C, std=0.1),
    }
    for i in range(cfg["num_hidden_layers"]):
        l = f"{p}encoder.layer.{i}."
        for name, (o, n) in {"attention.self.query": (C, C), "attention.self.key": (C, C), "attention.self.value": (C, C),
                             "attention.output.dense": (C, C), "intermediate.dense": (I, C), "output.dense": (C, I)}.items():
            W[l + name + ".weight"] = init.w(o, n)
            W[l + name + ".bias"] = init.w(o, std=0.1)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            W[l + ln + ".weight"] = init.gain(C)
            W[l + ln + ".bias"] = init.w(C, std=0.1)
    if pooler:
        W[p + "pooler.dense.weight"] = init.w(C, C)
        W[p + "pooler.dense.bias"] = init.w(C, std=0.1)
    return W


BERT_CFG = {
    "architectures": ["BertModel"], "model_type": "bert", "vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 64, "max_position_embeddings": 32, "type_vocab_size": 2,
    "layer_norm_eps": 1e-12, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
}


def bert_inputs(init, vocab):
    B, T = 2, 7
    ids = torch.stack([init.ids(T, vocab), init.ids(T, vocab)])
    mask = torch.ones(B, T, dtype=torch.int64)
    mask[1, 5:] = 0  # second sequence is padded
    ids[1, 5:] = 0
    types = torch.zeros(B, T, dtype=torch.int64)
    types[0, 4:] = 1  # a sentence pair in the first row
    return ids, types, mask


def flat(t):
    return {"shape": list(t.shape), "data": [float(x) for x in t.reshape(-1).tolist()]}


def save(out, name, cfg, W, dtype, expected, extra_files=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), W, dtype)
    for rel, content in (extra_files or {}).items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)) or d, exist_ok=True)
        with open(os.path.join(d, rel), "w") as f:
            json.dump(content, f, indent=2)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f)
    if cfg["model_type"] in ("bert", "dpr"):
        # A WordPiece vocabulary of the model's size, so the directory loads as a complete encoder.
        words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        words += [f"w{i}" for i in range(cfg["vocab_size"] - len(words))]
        with open(os.path.join(d, "vocab.txt"), "w") as f:
            f.write("\n".join(words) + "\n")
    print(f"{name}: {dtype}, {os.path.getsize(os.path.join(d, 'model.safetensors'))} bytes")


def make_encoders(out):
    # Sentence-transformer style BERT (with pooler): hidden states, pooler output, mean-pooled normalised embedding.
    init = Init(1)
    cfg = dict(BERT_CFG)
    W = bert_weights(cfg, init, "", pooler=True)
    ids, types, mask = bert_inputs(init, cfg["vocab_size"])
    with torch.no_grad():
        h, pooled = ref.bert_forward(cfg, W, ids, types, mask)
        m = mask.unsqueeze(-1).float()
        mean = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        emb = torch.nn.functional.normalize(mean, p=2, dim=1)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {"word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
               "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}
    save(out, "bert-st", cfg, W, "F32", {
        "input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
        "last_hidden_state": flat(h), "pooler_output": flat(pooled), "embedding": flat(emb),
    }, {"modules.json": modules, "1_Pooling/config.json": pooling})

    # DPR question encoder: CLS hidden state, no projection (projection_dim 0), F32.
    init = Init(2)
    cfg = dict(BERT_CFG, model_type="dpr", architectures=["DPRQuestionEncoder"], projection_dim=0)
    W = bert_weights(cfg, init, "question_encoder.bert_model.", pooler=False)
    ids, types, mask = bert_inputs(init, cfg["vocab_size"])
    types.zero_()
    with torch.no_grad():
        h, _ = ref.bert_forward(cfg, W, ids, types, mask, prefix="question_encoder.bert_model.")
    save(out, "dpr-question", cfg, W, "F32", {
        "input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
        "last_hidden_state": flat(h), "embedding": flat(h[:, 0]),
    })

    # DPR context encoder with a projection (encode_proj), stored in F16.
    init = Init(3)
    cfg = dict(BERT_CFG, model_type="dpr", architectures=["DPRContextEncoder"], projection_dim=16, hidden_act="gelu")
    W = bert_weights(cfg, init, "ctx_encoder.bert_model.", pooler=False)
    W["ctx_encoder.encode_proj.weight"] = init.w(16, cfg["hidden_size"])
    W["ctx_encoder.encode_proj.bias"] = init.w(16, std=0.1)
    Ws = stored(W, "F16")
    ids, types, mask = bert_inputs(init, cfg["vocab_size"])
    types.zero_()
    with torch.no_grad():
        h, _ = ref.bert_forward(cfg, Ws, ids, types, mask, prefix="ctx_encoder.bert_model.")
        emb = ref.linear(h[:, 0], Ws["ctx_encoder.encode_proj.weight"], Ws["ctx_encoder.encode_proj.bias"])
    save(out, "dpr-context-f16", cfg, W, "F16", {
        "input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
        "last_hidden_state": flat(h), "embedding": flat(emb),
    })


def decoder_expected(forward, cfg, W, init, vocab, prompt_len=6, steps=5):
    """Prefill logits for the prompt, then the logits of `steps` single-token decode steps fed fixed tokens."""
    prompt = init.ids(prompt_len, vocab)
    fed = init.ids(steps, vocab)
    with torch.no_grad():
        logits = forward(cfg, W, torch.cat([prompt, fed]))
    return {
        "prompt_ids": prompt.tolist(), "decode_ids": fed.tolist(),
        "prefill_logits": flat(logits[:prompt_len]),
        # decode step i feeds decode_ids[i]; its logits are row prompt_len + i of the uncached full pass
        "decode_logits": flat(logits[prompt_len:prompt_len + steps]),
    }


def make_decoders(out):
    # GPT-2: tied head, Conv1D weights (in, out), F32.
    init = Init(4)
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 96, "n_embd": 32, "n_layer": 2,
           "n_head": 4, "n_positions": 64, "n_inner": None, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
           "bos_token_id": 0, "eos_token_id": 0}
    C, V = cfg["n_embd"], cfg["vocab_size"]
    W = {"wte.weight": init.w(V, C, std=0.5), "wpe.weight": init.w(cfg["n_positions"], C, std=0.3)}
    for i in range(cfg["n_layer"]):
        l = f"h.{i}."
        W[l + "ln_1.weight"], W[l + "ln_1.bias"] = init.gain(C), init.w(C, std=0.1)
        W[l + "attn.c_attn.weight"], W[l + "attn.c_attn.bias"] = init.w(C, 3 * C), init.w(3 * C, std=0.1)
        W[l + "attn.c_proj.weight"], W[l + "attn.c_proj.bias"] = init.w(C, C), init.w(C, std=0.1)
        W[l + "ln_2.weight"], W[l + "ln_2.bias"] = init.gain(C), init.w(C, std=0.1)
        W[l + "mlp.c_fc.weight"], W[l + "mlp.c_fc.bias"] = init.w(C, 4 * C), init.w(4 * C, std=0.1)
        W[l + "mlp.c_proj.weight"], W[l + "mlp.c_proj.bias"] = init.w(4 * C, C), init.w(C, std=0.1)
    W["ln_f.weight"], W["ln_f.bias"] = init.gain(C), init.w(C, std=0.1)
    save(out, "gpt2", cfg, W, "F32", decoder_expected(ref.gpt2_forward, cfg, W, init, V))

    def llama_weights(cfg, init, qkv_bias, tied):
        C, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
        H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        D = C // H
        W = {"model.embed_tokens.weight": init.w(V, C, std=0.5)}
        for i in range(cfg["num_hidden_layers"]):
            l = f"model.layers.{i}."
            W[l + "input_layernorm.weight"] = init.gain(C)
            W[l + "self_attn.q_proj.weight"] = init.w(H * D, C)
            W[l + "self_attn.k_proj.weight"] = init.w(KV * D, C)
            W[l + "self_attn.v_proj.weight"] = init.w(KV * D, C)
            if qkv_bias:
                W[l + "self_attn.q_proj.bias"] = init.w(H * D, std=0.1)
                W[l + "self_attn.k_proj.bias"] = init.w(KV * D, std=0.1)
                W[l + "self_attn.v_proj.bias"] = init.w(KV * D, std=0.1)
            W[l + "self_attn.o_proj.weight"] = init.w(C, H * D)
            W[l + "post_attention_layernorm.weight"] = init.gain(C)
            W[l + "mlp.gate_proj.weight"] = init.w(I, C)
            W[l + "mlp.up_proj.weight"] = init.w(I, C)
            W[l + "mlp.down_proj.weight"] = init.w(C, I)
        W["model.norm.weight"] = init.gain(C)
        if not tied:
            W["lm_head.weight"] = init.w(V, C)
        return W

    # Llama with GQA (4 query heads, 2 kv heads), llama3 rope_scaling, untied head, F32.
    init = Init(5)
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 80, "hidden_size": 32,
           "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False,
           "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                            "original_max_position_embeddings": 16},
           "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"}
    W = llama_weights(cfg, init, qkv_bias=False, tied=False)
    save(out, "llama", cfg, W, "F32", decoder_expected(ref.llama_forward, cfg, W, init, cfg["vocab_size"]))

    # Llama with linear rope scaling, stored in F16 (conversion on load).
    init = Init(7)
    cfg = dict(cfg, rope_scaling={"type": "linear", "factor": 2.0}, rope_theta=500000.0)
    W = llama_weights(cfg, init, qkv_bias=False, tied=False)
    save(out, "llama-linear-f16", cfg, W, "F16", decoder_expected(ref.llama_forward, cfg, stored(W, "F16"), init, cfg["vocab_size"]))

    # Qwen2: QKV bias, tied head (no lm_head in the checkpoint), GQA, stored in BF16.
    init = Init(6)
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 88, "hidden_size": 32,
           "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
           "bos_token_id": 3, "eos_token_id": 4, "hidden_act": "silu", "use_sliding_window": False}
    W = llama_weights(cfg, init, qkv_bias=True, tied=True)
    save(out, "qwen2-bf16", cfg, W, "BF16", decoder_expected(ref.llama_forward, cfg, stored(W, "BF16"), init, cfg["vocab_size"]))


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/Neural.Tests/Fixtures"
    torch.set_num_threads(1)
    make_encoders(out)
    make_decoders(out)
