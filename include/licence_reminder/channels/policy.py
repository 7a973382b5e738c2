"""Which channels a catalogue entry uses at each reminder stage (``channels:`` in its YAML).

Every channel listed for a stage is used on that stage's day, each exactly once per licence cycle
(``reminder``'s unique key holds the channel). The list's order is the order they are planned and
shown. Whatever is listed, a stage none of whose channels reached the holder ends as a call task
for the department's staff (电话告知): that is the default today's behaviour names ("SMS, then the
call list when SMS fails"); ``call`` in a stage's list makes one for every holder at that stage.

Read at DAG-parse time with the catalogue: imports only pydantic.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from licence_reminder.channels import CHANNELS, SMS

Channel = Literal["sms", "miniprogram", "prompt", "call"]


class ChannelPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stage1: tuple[Channel, ...] = Field(default=(SMS,), min_length=1)
    stage2: tuple[Channel, ...] = Field(default=(SMS,), min_length=1)

    @field_validator("stage1", "stage2", mode="before")
    @classmethod
    def _known(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list | tuple):
            unknown = [c for c in v if c not in CHANNELS]
            if unknown:
                raise ValueError(f"unknown channel(s) {unknown}: the channels are {list(CHANNELS)}")
            dupes = sorted({c for c in v if list(v).count(c) > 1})
            if dupes:
                raise ValueError(f"channel(s) {dupes} listed twice")
        return v

    def at(self, stage: int) -> tuple[str, ...]:
        return self.stage1 if int(stage) == 1 else self.stage2

    def used(self) -> tuple[str, ...]:
        """Every channel of either stage, in the order they first appear."""
        return tuple(dict.fromkeys((*self.stage1, *self.stage2)))

    @property
    def is_default(self) -> bool:
        return self == DEFAULT

    def to_mirror(self) -> str | None:
        """As the ledger database's ``catalogue_entry.channels`` keeps it (None: the default)."""
        return (
            None
            if self.is_default
            else json.dumps({"stage1": list(self.stage1), "stage2": list(self.stage2)})
        )

    @classmethod
    def from_mirror(cls, value: str | None) -> ChannelPolicy:
        return DEFAULT if not value else cls.model_validate(json.loads(value))


#: today's behaviour: SMS at both stages (then a call task when it fails)
DEFAULT = ChannelPolicy()
