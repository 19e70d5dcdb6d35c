#!/usr/bin/env python3
"""Writes a llama-architecture GGUF model with random Q4_0 weights, for llama-bench.

Nothing can be downloaded from a model hub here, and a benchmark needs only the shapes:
llama-bench feeds random tokens, so the weights' values do not matter for speed.  The
Q4_0 blocks are written directly (a random fp16 scale and random 4-bit values per block of
32), which is far quicker than quantizing float weights.

  make_model.py --size tiny|small|1b OUT.gguf   (PYTHONPATH must reach gguf-py)
"""
import argparse
import sys

import numpy as np

import gguf

# name: (embedding, layers, feed-forward, heads, kv heads, vocab)
SIZES = {
    "tiny": (512, 8, 1408, 8, 8, 32000),  # ~55 M parameters: lavapipe on 2 cores
    "small": (1024, 12, 2816, 16, 8, 32000),  # ~0.2 B
    "1b": (2048, 16, 5632, 32, 8, 32000),  # ~0.85 B: the H200 figure of issue 11
}
QK = 32  # values per Q4_0 block
QBYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles


def q4_0(rng, rows, cols, scale):
    """Random Q4_0 data for a rows x cols matrix, as gguf-py's raw byte layout."""
    assert cols % QK == 0
    nblocks = rows * cols // QK
    blocks = np.empty((nblocks, QBYTES), dtype=np.uint8)
    d = (rng.uniform(0.5, 1.5, nblocks) * scale).astype(np.float16)
    blocks[:, 0:2] = d.view(np.uint8).reshape(nblocks, 2)
    blocks[:, 2:] = rng.integers(0, 256, (nblocks, QK // 2), dtype=np.uint8)
    return blocks.reshape(rows, cols // QK * QBYTES)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out")
    args = ap.parse_args()
    n_embd, n_layer, n_ff, n_head, n_head_kv, n_vocab = SIZES[args.size]
    head_dim = n_embd // n_head
    rng = np.random.default_rng(args.seed)
    scale = 1.0 / np.sqrt(n_embd) / 4

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name(f"venusd-bench-random-{args.size}")
    w.add_context_length(4096)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0)
    # A SentencePiece-style vocabulary: unk, bos, eos, the 256 byte tokens, then filler.
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"t{i}" for i in range(n_vocab - len(tokens))]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256
    types += [gguf.TokenType.NORMAL] * (n_vocab - len(types))
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * n_vocab)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    ones = np.ones(n_embd, dtype=np.float32)
    kv = n_head_kv * head_dim
    def add_q(name, rows, cols, s):
        w.add_tensor(name, q4_0(rng, rows, cols, s), raw_dtype=gguf.GGMLQuantizationType.Q4_0)

    add_q("token_embd.weight", n_vocab, n_embd, scale * 8)
    for i in range(n_layer):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", ones)
        add_q(b + "attn_q.weight", n_embd, n_embd, scale)
        add_q(b + "attn_k.weight", kv, n_embd, scale)
        add_q(b + "attn_v.weight", kv, n_embd, scale)
        add_q(b + "attn_output.weight", n_embd, n_embd, scale)
        w.add_tensor(b + "ffn_norm.weight", ones)
        add_q(b + "ffn_gate.weight", n_ff, n_embd, scale)
        add_q(b + "ffn_up.weight", n_ff, n_embd, scale)
        add_q(b + "ffn_down.weight", n_embd, n_ff, scale)
    w.add_tensor("output_norm.weight", ones)
    add_q("output.weight", n_vocab, n_embd, scale)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    params = n_vocab * n_embd * 2 + n_layer * (2 * n_embd * n_embd + 2 * kv * n_embd + 3 * n_ff * n_embd)
    print(f"{args.out}: llama, {params / 1e6:.0f} M parameters, Q4_0", file=sys.stderr)


if __name__ == "__main__":
    main()
