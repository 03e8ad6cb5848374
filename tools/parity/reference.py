"""Reference forward passes in plain PyTorch, written from the published architectures and the
Hugging Face implementations' conventions (tensor names, post-/pre-LN placement, rotate-half RoPE,
Conv1D weight layout), so tiny random checkpoints can pin the C# engine's numerics.

Every model takes a dict name -> fp32 tensor laid out exactly as the HF checkpoint stores it.
"""
import math
import torch
import torch.nn.functional as F


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):  # HF "gelu_new"
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def linear(x, w, b=None):  # w is (out, in), as nn.Linear stores it
    return F.linear(x, w, b)


# ---------------------------------------------------------------- BERT (Devlin et al. 2019), HF BertModel


def bert_forward(cfg, W, input_ids, token_type_ids, attention_mask, prefix=""):
    """Returns (last_hidden_state (B,T,C), pooled (B,C) or None)."""
    p = prefix
    B, T = input_ids.shape
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    D = C // H
    eps = cfg.get("layer_norm_eps", 1e-12)
    act = gelu_erf if cfg.get("hidden_act", "gelu") == "gelu" else gelu_tanh
    pos = torch.arange(T).unsqueeze(0).expand(B, T)
    x = W[p + "embeddings.word_embeddings.weight"][input_ids] \
        + W[p + "embeddings.position_embeddings.weight"][pos] \
        + W[p + "embeddings.token_type_embeddings.weight"][token_type_ids]
    x = F.layer_norm(x, (C,), W[p + "embeddings.LayerNorm.weight"], W[p + "embeddings.LayerNorm.bias"], eps)
    # HF's extended mask: 0 where attended, finfo.min where padded, added to the scores.
    ext = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for i in range(cfg["num_hidden_layers"]):
        l = f"{p}encoder.layer.{i}."
        def heads(t):
            return t.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        q = heads(linear(x, W[l + "attention.self.query.weight"], W[l + "attention.self.query.bias"]))
        k = heads(linear(x, W[l + "attention.self.key.weight"], W[l + "attention.self.key.bias"]))
        v = heads(linear(x, W[l + "attention.self.value.weight"], W[l + "attention.self.value.bias"]))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D) + ext
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
        a = linear(ctx, W[l + "attention.output.dense.weight"], W[l + "attention.output.dense.bias"])
        x = F.layer_norm(x + a, (C,), W[l + "attention.output.LayerNorm.weight"], W[l + "attention.output.LayerNorm.bias"], eps)
        h = act(linear(x, W[l + "intermediate.dense.weight"], W[l + "intermediate.dense.bias"]))
        h = linear(h, W[l + "output.dense.weight"], W[l + "output.dense.bias"])
        x = F.layer_norm(x + h, (C,), W[l + "output.LayerNorm.weight"], W[l + "output.LayerNorm.bias"], eps)
    pooled = None
    if p + "pooler.dense.weight" in W:
        pooled = torch.tanh(linear(x[:, 0], W[p + "pooler.dense.weight"], W[p + "pooler.dense.bias"]))
    return x, pooled


# ---------------------------------------------------------------- GPT-2 (Radford et al. 2019), HF GPT2Model


def gpt2_forward(cfg, W, ids):
    """Logits (T, V) for one sequence, no cache (the causal mask makes row t depend on tokens <= t only)."""
    T = ids.shape[0]
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    x = W["wte.weight"][ids] + W["wpe.weight"][torch.arange(T)]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        l = f"h.{i}."
        y = F.layer_norm(x, (C,), W[l + "ln_1.weight"], W[l + "ln_1.bias"], eps)
        qkv = y @ W[l + "attn.c_attn.weight"] + W[l + "attn.c_attn.bias"]  # Conv1D: weight (in, out)
        q, k, v = [t.view(T, H, D).transpose(0, 1) for t in qkv.split(C, dim=-1)]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        scores = scores.masked_fill(~causal, torch.finfo(torch.float32).min)
        ctx = (scores.softmax(-1) @ v).transpose(0, 1).reshape(T, C)
        x = x + ctx @ W[l + "attn.c_proj.weight"] + W[l + "attn.c_proj.bias"]
        y = F.layer_norm(x, (C,), W[l + "ln_2.weight"], W[l + "ln_2.bias"], eps)
        h = gelu_tanh(y @ W[l + "mlp.c_fc.weight"] + W[l + "mlp.c_fc.bias"])
        x = x + h @ W[l + "mlp.c_proj.weight"] + W[l + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (C,), W["ln_f.weight"], W["ln_f.bias"], eps)
    return x @ W["wte.weight"].T  # tied head


# ---------------------------------------------------------------- Llama / Qwen2 (HF LlamaModel, Qwen2Model)


def rope_inv_freq(cfg, D):
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        factor = rs["factor"]
        if kind == "linear":
            inv_freq = inv_freq / factor
        elif kind == "llama3":
            lo, hi = rs["low_freq_factor"], rs["high_freq_factor"]
            old = rs["original_max_position_embeddings"]
            low_wavelen, high_wavelen = old / lo, old / hi
            wavelen = 2 * math.pi / inv_freq
            scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
            smooth = (old / wavelen - lo) / (hi - lo)
            smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
            inv_freq = torch.where(medium, smoothed, scaled)
        else:
            raise ValueError(kind)
    return inv_freq


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def llama_forward(cfg, W, ids):
    T = ids.shape[0]
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    D = cfg.get("head_dim", C // H)
    eps = cfg["rms_norm_eps"]
    qwen = cfg["model_type"] == "qwen2"
    inv_freq = rope_inv_freq(cfg, D)
    freqs = torch.arange(T).float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()  # (T, D)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def b(key):
        return W.get(key)

    x = W["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        l = f"model.layers.{i}."
        y = rms_norm(x, W[l + "input_layernorm.weight"], eps)
        q = linear(y, W[l + "self_attn.q_proj.weight"], b(l + "self_attn.q_proj.bias")).view(T, H, D).transpose(0, 1)
        k = linear(y, W[l + "self_attn.k_proj.weight"], b(l + "self_attn.k_proj.bias")).view(T, KV, D).transpose(0, 1)
        v = linear(y, W[l + "self_attn.v_proj.weight"], b(l + "self_attn.v_proj.bias")).view(T, KV, D).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=0)  # GQA: each kv head serves H/KV query heads
        v = v.repeat_interleave(H // KV, dim=0)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        scores = scores.masked_fill(~causal, torch.finfo(torch.float32).min)
        ctx = (scores.softmax(-1) @ v).transpose(0, 1).reshape(T, H * D)
        x = x + linear(ctx, W[l + "self_attn.o_proj.weight"], b(l + "self_attn.o_proj.bias"))
        y = rms_norm(x, W[l + "post_attention_layernorm.weight"], eps)
        g = linear(y, W[l + "mlp.gate_proj.weight"])
        u = linear(y, W[l + "mlp.up_proj.weight"])
        x = x + linear(F.silu(g) * u, W[l + "mlp.down_proj.weight"])
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return x @ head.T
