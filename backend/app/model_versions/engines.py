"""Which engine runs the local model: ``LOCAL_INFERENCE_ENGINE``.

``ctranslate2`` (default) answers from int8 weights converted once (2.2–2.5× the tokens per
second of Transformers on 2 cores, ``benchmarks/local_inference.py``; a float32 conversion
writes exactly what Transformers writes, int8 changes some greedy choices);
``transformers`` runs the weights as they are — any architecture Transformers knows, and
the only choice where CTranslate2 is not installed.
"""

import logging
from pathlib import Path

from app.core.config import Settings
from app.llm.base import AnswerProvider
from app.llm.local_prompting import local_model_label

logger = logging.getLogger(__name__)


def load_local_provider(path: str, settings: Settings) -> AnswerProvider:
    """The provider answering with the model at ``path`` (a version directory, a converted
    directory, a Hugging Face name or a local path). A model CTranslate2 cannot take (an
    architecture its converter does not know, the wheel missing) is served by Transformers,
    slower, with a warning that says why."""
    label = local_model_label(path)
    if settings.local_inference_engine == "ctranslate2":
        try:
            return _ctranslate2_provider(path, settings, label)
        except Exception as error:
            logger.warning(
                "CTranslate2 cannot serve %s (%s: %s); Transformers serves it instead",
                path, type(error).__name__, error,
            )  # fmt: skip
    from app.llm.local_transformers import LocalTransformersProvider

    return LocalTransformersProvider(
        path,
        max_new_tokens=settings.local_max_new_tokens,
        min_confidence=settings.local_min_confidence,
    )


def _ctranslate2_provider(path: str, settings: Settings, label: str) -> AnswerProvider:
    from app.llm.local_ctranslate2 import LocalCTranslate2Provider
    from app.model_versions.ctranslate2_conversion import ctranslate2_dir_for

    return LocalCTranslate2Provider(
        str(ctranslate2_dir_for(path, Path(settings.data_dir))),
        model_used=label,
        max_new_tokens=settings.local_max_new_tokens,
        min_confidence=settings.local_min_confidence,
        threads=settings.local_inference_threads,
    )
