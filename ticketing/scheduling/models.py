"""Job heartbeats: the last run of each scheduler job."""

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.extensions import db
from ticketing.types import UTCDateTime


class JobRun(db.Model):
    """The last run of each scheduler job, for the admin page."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)
