"""The SD1 CLIP tokenizer from the shipped BPE file (no hub access).

OpenAI's `bpe_simple_vocab_16e6.txt.gz` lists byte-pair merges; the vocabulary is the 256 byte
symbols, the same with an end-of-word mark, one entry per merge (the first 48,894), then the
start/end tokens: 49,408 ids, exactly those of the HF `openai/clip-vit-large-patch14` tokenizer.
"""

from __future__ import annotations

import functools
import gzip
import inspect
import json
from pathlib import Path

from ..core.atomic import write_text
from ..checkpoints.hashing import cache_dir

BPE_FILE = Path(__file__).with_name("tokenizer") / "bpe_simple_vocab_16e6.txt.gz"
N_MERGES = 49152 - 256 - 2
START, END = "<|startoftext|>", "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


@functools.lru_cache(maxsize=1)
def clip_bpe() -> tuple[dict[str, int], tuple[str, ...]]:
    """(vocab token -> id, merges as "a b" strings) built from the shipped BPE file."""
    lines = gzip.open(BPE_FILE).read().decode("utf-8").split("\n")
    merges = tuple(lines[1:N_MERGES + 1])
    symbols = list(bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges] + [START, END]
    return {tok: i for i, tok in enumerate(vocab)}, merges


def _files() -> tuple[Path, Path]:
    """vocab.json / merges.txt for tokenizer versions that only take files (cached, atomic)."""
    folder = cache_dir() / "clip-bpe-16e6"
    vocab_path, merges_path = folder / "vocab.json", folder / "merges.txt"
    if not (vocab_path.is_file() and merges_path.is_file()):
        vocab, merges = clip_bpe()
        write_text(vocab_path, json.dumps(vocab, ensure_ascii=False))
        write_text(merges_path, "#version: 0.2\n" + "\n".join(merges) + "\n")
    return vocab_path, merges_path


def clip_tokenizer(max_length: int = 77):
    """A transformers CLIPTokenizer equal to SD1's, padded with the end token to 77."""
    from transformers import CLIPTokenizer

    params = inspect.signature(CLIPTokenizer.__init__).parameters
    common = dict(unk_token=END, bos_token=START, eos_token=END, pad_token=END, model_max_length=max_length)
    if "vocab_file" in params:                     # transformers 4.x: files only
        vocab_path, merges_path = _files()
        return CLIPTokenizer(vocab_file=str(vocab_path), merges_file=str(merges_path), **common)
    vocab, merges = clip_bpe()
    return CLIPTokenizer(vocab=dict(vocab), merges=[tuple(m.split()) for m in merges], **common)
