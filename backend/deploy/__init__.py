"""Scheduled work: the seed's cron commands (``python -m deploy.cron_tasks …``)."""
