"""The seed's module paths (``embedding_service``, ``ai_service``), re-exporting where the
code lives now. New code imports from the feature folders."""
