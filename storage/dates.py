"""One text form for instants in the database: UTC ISO 8601, so text order is time order."""

from datetime import UTC, datetime


def to_db(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def now_db() -> str:
    return to_db(datetime.now(UTC))  # type: ignore[return-value]
