"""One text form for instants in the database: UTC ISO 8601, so text order is time order."""

from datetime import UTC, datetime


def to_db(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def storable(moment: datetime) -> bool:
    """Whether `to_db` can write it: "9999-12-31T23:00-05:00" is past UTC's last year."""
    try:
        to_db(moment)
    except OverflowError:
        return False
    return True


def from_db(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def now_db() -> str:
    return to_db(datetime.now(UTC))  # type: ignore[return-value]
