"""Where the backend lives on disk: the one definition every default path starts from."""

from pathlib import Path

#: ``backend/``: alembic, the shipped knowledge base, datasets, local data and models.
BACKEND_DIR = Path(__file__).resolve().parents[2]
