"""Tiny randomly initialised checkpoints of the Qwen2/2.5/3-VL architectures, for offline tests and smoke checks.

`build_tiny(directory, arch)` writes a complete checkpoint (config, weights, tokenizer with a chat template, image
processor) of a few hundred kilobytes that loads through the same path as the real models. A random model writes
garbage; `script=` rigs it instead to answer a fixed text after the answer prefix, so the whole generate -> parse ->
map path can be checked against a known answer:

    python3 -m grounding.vlm.tiny /tmp/tiny-qwen25 --arch qwen2.5-vl
"""

from __future__ import annotations

import argparse
import string
from pathlib import Path

from .loading import CHATML_TEMPLATE

ARCHES = ("qwen2-vl", "qwen2.5-vl", "qwen3-vl")

SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
    "<|video_pad|>", "<|box_start|>", "<|box_end|>", "<unk>",
)

def _tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(string.printable))
    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *chars])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")  # one token per character
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", eos_token="<|im_end|>", pad_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def _config(arch: str, tokenizer):
    ids = {name: tokenizer.convert_tokens_to_ids(token) for name, token in (
        ("image_token_id", "<|image_pad|>"), ("video_token_id", "<|video_pad|>"),
        ("vision_start_token_id", "<|vision_start|>"), ("vision_end_token_id", "<|vision_end|>"),
    )}
    text = dict(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    if arch == "qwen2-vl":
        from transformers import Qwen2VLConfig

        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]}
        vision = dict(depth=1, embed_dim=32, hidden_size=32, mlp_ratio=2, num_heads=2)
        return Qwen2VLConfig(text_config=text, vision_config=vision, **ids)
    if arch == "qwen2.5-vl":
        from transformers import Qwen2_5_VLConfig

        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]}
        vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32,
                      fullatt_block_indexes=[0])
        return Qwen2_5_VLConfig(text_config=text, vision_config=vision, **ids)
    if arch == "qwen3-vl":
        from transformers import Qwen3VLConfig

        text.update(head_dim=16, rope_parameters={"rope_type": "default", "rope_theta": 5e5,
                                                  "mrope_section": [2, 3, 3], "mrope_interleaved": True})
        vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32,
                      num_position_embeddings=64, deepstack_visual_indexes=[0])
        return Qwen3VLConfig(text_config=text, vision_config=vision, **ids)
    raise ValueError(f"unknown architecture {arch!r} (one of {', '.join(ARCHES)})")


def _image_processor(arch: str, max_pixels: int):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    patch = 16 if arch == "qwen3-vl" else 14
    factor = patch * 2
    return Qwen2VLImageProcessorPil(patch_size=patch, merge_size=2, min_pixels=4 * factor * factor,
                                    max_pixels=max_pixels)


def _rig(model, tokenizer, script: str) -> None:
    """Makes greedy decoding a fixed successor chain: after the last character of the prompt comes `script`.

    Zeroing every layer's output projections leaves the residual stream at the last position equal to that token's
    embedding, so the next token depends on the current one only; the output row of each token is set to the
    (nearly orthogonal, random) embedding of the token that must precede it.
    """
    import torch

    chain = tokenizer.convert_tokens_to_ids(list(script)) + [tokenizer.eos_token_id]
    if len(set(chain)) != len(chain):
        raise ValueError(f"script {script!r} repeats a character; each one can have only one successor")
    language = model.model.language_model
    with torch.no_grad():
        for layer in language.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        generator = torch.Generator().manual_seed(0)
        embed = torch.randn(language.embed_tokens.weight.shape, generator=generator)
        embed = embed / embed.norm(dim=1, keepdim=True)
        language.embed_tokens.weight.copy_(embed)
        language.norm.weight.fill_(1.0)
        head = torch.full_like(model.lm_head.weight, 0.0)
        for current, following in zip(chain, chain[1:]):
            head[following] = embed[current] * 10
        model.lm_head.weight.copy_(head)


def build_tiny(
    directory: str | Path, arch: str = "qwen2.5-vl", *, max_pixels: int = 128 * 28 * 28, script: str | None = None,
    seed: int = 0,
) -> Path:
    """Writes a tiny checkpoint of `arch` to `directory`. With `script` (starting with the prompt's last
    character, e.g. "[12, 34]"), greedy decoding answers the rest of it, then stops."""
    import torch
    from transformers import AutoModelForImageTextToText

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    tokenizer = _tokenizer()
    model = AutoModelForImageTextToText.from_config(_config(arch, tokenizer))
    if script is not None:
        _rig(model, tokenizer, script)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    _image_processor(arch, max_pixels).save_pretrained(directory)
    return directory


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--arch", choices=ARCHES, default="qwen2.5-vl")
    parser.add_argument("--script", help="rig greedy decoding to write this after its first character")
    args = parser.parse_args(argv)
    print(build_tiny(args.directory, args.arch, script=args.script))


if __name__ == "__main__":
    main()
