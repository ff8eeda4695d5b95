"""Turn any Transformers causal LM the service may answer with — a fine-tuned version
(full weights or a LoRA adapter), a bundled base, a Hugging Face name or a local path —
into a CTranslate2 directory the fast engine loads.

The retraining job converts every candidate once, right after fine-tuning, so the gate grades
and the service serves the very weights that were converted. A model configured by path is
converted on first load into ``DATA_DIR/models/ctranslate2/`` and reused afterwards.
A conversion writes into a temporary directory and renames it: a reader never sees half a
model.
"""

import hashlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from app.llm.local_ctranslate2 import INFERENCE_FILE, is_ctranslate2_dir
from app.llm.local_transformers import is_adapter_dir

logger = logging.getLogger(__name__)

#: Where a version directory keeps its converted weights.
CONVERTED_SUBDIR = "ctranslate2"
#: int8 weights: four times smaller than float32 and the fastest on a CPU.
DEFAULT_QUANTIZATION = "int8"


def convert_for_ctranslate2(
    model: str | Path, out_dir: Path, quantization: str = DEFAULT_QUANTIZATION
) -> dict:
    """Convert ``model`` into ``out_dir``; returns what ``inference.json`` records."""
    import ctranslate2
    from transformers import AutoConfig, AutoTokenizer

    started = time.monotonic()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as work:
        source = _full_weights(Path(model), Path(work) / "merged")
        staging = Path(work) / "converted"
        ctranslate2.converters.TransformersConverter(str(source)).convert(
            str(staging), quantization=quantization, force=True
        )
        AutoTokenizer.from_pretrained(str(source)).save_pretrained(str(staging))
        config = AutoConfig.from_pretrained(str(source))
        manifest = {
            "engine": "ctranslate2",
            "quantization": quantization,
            "converted_from": str(model),
            "context_length": _context_length(config),
            "conversion_seconds": round(time.monotonic() - started, 2),
        }
        (staging / INFERENCE_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    logger.info("%s converted for CTranslate2 into %s: %s", model, out_dir, manifest)
    return manifest


def convert_version(version_dir: Path) -> dict:
    """A fine-tuned version's serving weights, in its own ``ctranslate2/``."""
    return convert_for_ctranslate2(version_dir, version_dir / CONVERTED_SUBDIR)


def _full_weights(model: Path, merged_dir: Path) -> Path | str:
    """A LoRA adapter merged into its base (CTranslate2 takes whole models only)."""
    if not (model.exists() and is_adapter_dir(model)):
        return model if model.exists() else str(model)
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    merged = AutoPeftModelForCausalLM.from_pretrained(str(model)).merge_and_unload()
    merged.save_pretrained(str(merged_dir))
    AutoTokenizer.from_pretrained(str(model)).save_pretrained(str(merged_dir))
    return merged_dir


def _context_length(config) -> int:
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048


def ctranslate2_dir_for(model_path: str, data_dir: Path) -> Path:
    """The converted weights for ``model_path``: itself when it is converted already, its
    version's ``ctranslate2/`` when the retraining job wrote one, else a cached conversion."""
    path = Path(model_path)
    if is_ctranslate2_dir(path):
        return path
    if is_ctranslate2_dir(path / CONVERTED_SUBDIR):
        return path / CONVERTED_SUBDIR
    cache = data_dir / "models" / CONVERTED_SUBDIR / _cache_name(model_path)
    if not is_ctranslate2_dir(cache):
        logger.info("converting %s for CTranslate2 (once) into %s", model_path, cache)
        convert_for_ctranslate2(model_path, cache)
    return cache


def _cache_name(model_path: str) -> str:
    """Readable and unique: the model's last path part and a hash of where it lies and
    when it last changed (a directory trained again in place gets a new conversion)."""
    path = Path(model_path)
    where = f"{path.resolve()}@{path.stat().st_mtime_ns}" if path.exists() else model_path
    digest = hashlib.sha256(where.encode()).hexdigest()[:12]
    return f"{path.name or 'model'}-{digest}"
