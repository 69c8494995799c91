"""Column types shared by the models."""

from datetime import datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator

from ticketing.clock import as_utc


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return as_utc(value)


def enum_type(enum_cls) -> Enum:
    """An enum stored as its string value (not a native database enum)."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
