"""The models that write answers, one floor below the features: the prompt every model
reads, a ``Protocol`` each provider implements (``answer(context) -> Answer``), the paid
model's circuit breaker, the local models and the offline answerer that needs no model."""
