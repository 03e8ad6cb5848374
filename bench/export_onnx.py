#!/usr/bin/python3
"""Exports the random BERT-base checkpoint that Neural.Bench prepared (DIR/bert/model.safetensors) to DIR/bert/model.onnx
with Debian's PyTorch (torch.onnx.export), so that ONNX Runtime runs the very same weights as our engine. The forward pass
is tools/parity/reference.py's, written the way Hugging Face's BertModel is, so ONNX Runtime's graph optimiser sees the
patterns it fuses in a Hugging Face export (MatMul + Add, LayerNormalization, erf GELU, attention)."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "parity"))
import reference as ref  # noqa: E402
from torch_bench import load_safetensors  # noqa: E402


class Bert(torch.nn.Module):
    def __init__(self, cfg, weights):
        super().__init__()
        self.cfg = cfg
        self.names = list(weights)
        for i, name in enumerate(self.names):
            self.register_buffer(f"w{i}", weights[name])

    def forward(self, input_ids, attention_mask, token_type_ids):
        W = {name: getattr(self, f"w{i}") for i, name in enumerate(self.names)}
        hidden, _ = ref.bert_forward(self.cfg, W, input_ids, token_type_ids, attention_mask)
        return hidden


def main(d):
    bert = os.path.join(d, "bert")
    cfg = json.load(open(os.path.join(bert, "config.json")))
    model = Bert(cfg, load_safetensors(os.path.join(bert, "model.safetensors"))).eval()
    B, T = 2, 16
    example = (torch.randint(5, 1000, (B, T)), torch.ones(B, T, dtype=torch.int64), torch.zeros(B, T, dtype=torch.int64))
    axes = {0: "batch", 1: "sequence"}
    with torch.inference_mode():
        torch.onnx.export(model, example, os.path.join(bert, "model.onnx"), opset_version=14, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes})
    print(f"exported {bert}/model.onnx with torch {torch.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
