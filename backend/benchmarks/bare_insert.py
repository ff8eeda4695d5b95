"""The baseline the ``process`` overhead is measured against: a bare FastAPI endpoint that
stores one row in the same ``voice_logs`` table through the same engine and answers JSON.

    DATABASE_URL=… uvicorn benchmarks.bare_insert:app
"""

import os

from fastapi import FastAPI
from pydantic import BaseModel

from app.db.database import Database
from app.db.models import VoiceLog

database = Database(os.environ["DATABASE_URL"])
app = FastAPI()


class Question(BaseModel):
    message: str
    session_id: str


@app.post("/insert")
def insert(question: Question) -> dict:
    log = VoiceLog(
        session_id=question.session_id,
        user_message=question.message,
        ai_response="-",
        model_used="bare",
        answer_source="llm",
        response_time=0.0,
    )
    with database.session() as session:
        session.add(log)
        session.commit()
    return {"log_id": log.id}
