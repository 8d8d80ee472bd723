"""Prompt encoding the A1111 way: clip skip, and prompts longer than 75 tokens.

Clip skip N takes the hidden state N layers from the end and applies CLIP's final layer norm
(A1111 `CLIP_stop_at_last_layers`; ComfyUI CLIPSetLastLayer(-N)). Long prompts are cut into
chunks of 75 tokens, each wrapped in start/end tokens and padded to 77, encoded separately and
concatenated; the shorter of prompt and negative is padded with empty chunks.
(A1111's `(word:1.2)` emphasis syntax is not interpreted: such text is encoded as written.)
"""

from __future__ import annotations

from typing import Any

CHUNK = 75


def _chunks(tokenizer: Any, text: str) -> list[list[int]]:
    ids = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    parts = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)] or [[]]
    return [[bos] + p + [eos] * (CHUNK + 1 - len(p)) for p in parts]


def encode(text_encoder: Any, tokenizer: Any, text: str, clip_skip: int = 1, n_chunks: int = 0):
    """[1, 77 * chunks, width] embeddings for `text` (at least `n_chunks` chunks)."""
    import torch

    chunks = _chunks(tokenizer, text)
    empty = _chunks(tokenizer, "")[0]
    chunks += [empty] * max(0, n_chunks - len(chunks))
    model = getattr(text_encoder, "text_model", text_encoder)   # transformers 4 nests it
    device = next(text_encoder.parameters()).device
    outs = []
    for chunk in chunks:
        ids = torch.tensor([chunk], device=device)
        out = text_encoder(ids, output_hidden_states=True)
        hidden = out.hidden_states[-max(1, clip_skip)]
        outs.append(model.final_layer_norm(hidden))
    return torch.cat(outs, dim=1)


def encode_pair(text_encoder: Any, tokenizer: Any, prompt: str, negative: str, clip_skip: int):
    """(prompt, negative) embeddings with the same length."""
    n = max(len(_chunks(tokenizer, prompt)), len(_chunks(tokenizer, negative or "")))
    return (encode(text_encoder, tokenizer, prompt, clip_skip, n),
            encode(text_encoder, tokenizer, negative or "", clip_skip, n))
