"""The seed's module name for the answering service, kept so that code written against the
seed still imports: the pipeline lives in ``app/answering/pipeline.py``."""

from app.answering.pipeline import AnswerPipeline, ProcessedAnswer

__all__ = ("AnswerPipeline", "ProcessedAnswer")
