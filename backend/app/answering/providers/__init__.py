"""Answer providers: each a class with ``answer(context) -> Answer`` (see ``ai_service``)."""
