#!/usr/bin/env python3
"""PyTorch CUDA side of bench/cuda.sh: Hugging Face's BertModel (SDPA attention) on the same random encoders and
token ids as Neural.Bench's cuda-run, mean pooling and L2 normalisation as sentence-transformers does. Each call is
timed as ours is: ids to the GPU, forward, pooled embeddings back to the host; the median of several runs after a
warm-up, in fp32 (TF32 off) and with TF32 matrix products allowed."""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def main(d):
    import transformers
    inputs = json.load(open(os.path.join(d, "cuda_inputs.json")))
    warmup, runs = inputs["warmup"], inputs["runs"]
    cuda = torch.cuda.is_available()
    describe = (f"pytorch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
                f"transformers {transformers.__version__} BertModel (sdpa), "
                f"{torch.cuda.get_device_name(0) if cuda else 'no GPU'}")
    print(describe, flush=True)
    result = {"describe": describe, "cuda": cuda, "shapes": {}}
    models = {}
    with torch.inference_mode():
        for s in inputs["shapes"]:
            if s["model"] not in models:
                models[s["model"]] = transformers.BertModel.from_pretrained(
                    os.path.join(d, s["model"]), attn_implementation="sdpa", add_pooling_layer=False).cuda().eval()
            model = models[s["model"]]
            B, T = s["batch"], s["seq"]
            ids_host = torch.tensor(s["ids"]).view(B, T).pin_memory()
            mask_host = torch.tensor(s["mask"]).view(B, T).pin_memory()
            out = {}
            for precision in ("fp32", "tf32"):
                set_tf32(precision == "tf32")
                times = []
                for run in range(warmup + runs):
                    torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    ids = ids_host.cuda(non_blocking=True)
                    mask = mask_host.cuda(non_blocking=True)
                    h = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
                    m = mask.unsqueeze(-1).to(h.dtype)
                    emb = F.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1).cpu()
                    if run >= warmup:
                        times.append((time.perf_counter() - t0) * 1000)
                out[precision] = {"median_ms": median(times), "min_ms": min(times), "max_ms": max(times), "embeddings": emb.tolist()}
                print(f"pytorch {s['name']} {precision}: {out[precision]['median_ms']:.2f} ms [{min(times):.2f}..{max(times):.2f}]", flush=True)
            result["shapes"][s["name"]] = out
            if B >= 64:  # where PyTorch's GPU time goes, kernel by kernel, to set beside our op profile
                try:
                    profile_kernels(model, ids, mask, s["name"])
                except Exception as e:  # a profiler problem must not lose the timings
                    print(f"pytorch profile {s['name']}: not available ({e})", flush=True)
    set_tf32(False)
    json.dump(result, open(os.path.join(d, "torch_cuda.json"), "w"))


def profile_kernels(model, ids, mask, name):
    set_tf32(False)
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(5):
            model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
        torch.cuda.synchronize()
    rows = sorted(prof.key_averages(), key=lambda e: -e.device_time_total)[:8]
    total = sum(e.device_time_total for e in prof.key_averages()) / 5 / 1000
    print(f"pytorch profile {name} fp32: {total:.2f} ms of kernels a pass: " + ", ".join(
        f"{e.key[:60]} {e.device_time_total / 5 / 1000:.2f}" for e in rows), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
