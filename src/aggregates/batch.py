"""A publicity batch (公示批次): one media announcement listing approved platforms (Art. 8(6))."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from .publicity_window import PublicityWindow
from .recorded import RecordedAggregate
from .values import Act

T = "platform-registry/PublicityBatch"


class PublicityBatch(RecordedAggregate):
    """Its reference is unique: the id derives from ``batch_ref``."""

    TOPIC = T

    class Event(RecordedAggregate.Event):
        TOPIC = f"{T}/Event"

    @staticmethod
    def create_id(batch_ref: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"platform-registry:publicity-batch:{batch_ref}")

    @classmethod
    def publish(
        cls, batch_ref: str, media: str, window: PublicityWindow, working_days: int,
        platform_ids: list[UUID], act: Act,
    ) -> PublicityBatch:
        """Art. 8(6): the list is publicized in the media for the policy's working days."""
        return cls._create_recorded(
            cls.Published, act=act, batch_ref=batch_ref, media=media, start_date=window.start_date,  # type: ignore[attr-defined]  # the event class @event makes
            first_day=window.first_day, last_day=window.last_day, working_days=working_days,
            platform_ids=[str(p) for p in platform_ids],
        )

    @event("Published", topic=f"{T}/Published")
    def __init__(
        self, batch_ref: str, media: str, start_date: date, first_day: date | None,
        last_day: date | None, working_days: int, platform_ids: list[str], act: Act,
    ) -> None:
        self.batch_ref = batch_ref
        self.media = media
        self.start_date = start_date
        self.first_day = first_day
        self.last_day = last_day
        self.working_days = working_days
        self.platform_ids = list(platform_ids)

    @property
    def window(self) -> PublicityWindow:
        """Art. 8(6): the batch's window as recorded (pending days stay ``None`` here)."""
        return PublicityWindow(self.start_date, self.first_day, self.last_day)
