"""The interface every SMS gateway adapter implements."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

#: (connect, read) seconds of every adapter's calls; the read timeout is the adapter's own
CONNECT_TIMEOUT = 3.05


@dataclass(frozen=True)
class SmsMessage:
    message_id: str  # our outbox id; the provider's OutId / SessionContext
    mobile: str
    template_code: str
    params: dict[str, str]
    sign_name: str | None = None


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    #: this message will never go (bad number, unsubscribed holder): the phone-call list
    PERMANENT = "permanent"
    #: the provider refuses the account, not the message (wrong key or secret, signature or
    #: template not approved): no message can go until the connection is fixed
    REFUSED = "refused"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    code: str
    message: str
    provider_message_id: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    #: the request may have reached the provider: look it up before any resend
    ambiguous: bool = False


@dataclass(frozen=True)
class LookupResult:
    found: bool
    delivered: bool | None = None
    provider_message_id: str | None = None
    code: str | None = None
    #: False when "not found" does not prove the provider never accepted the message (its record
    #: may not exist yet, or there is nothing to ask): such a message must not be sent again
    conclusive: bool = True


class SmsGateway(ABC):
    name: str
    #: seconds to wait for a reply once connected (the adapters' read timeout)
    timeout: float = 10.0

    def longest_call_seconds(self) -> float:
        """The longest one call can be in flight: connecting, then waiting for the reply. A sender
        that takes a shard over waits this long before looking up its predecessor's messages."""
        return CONNECT_TIMEOUT + self.timeout

    @abstractmethod
    def send(self, message: SmsMessage) -> SendResult: ...

    @abstractmethod
    def lookup(self, message: SmsMessage, sent_on: dt.date) -> LookupResult:
        """What became of ``message.message_id`` at the provider. Never sends."""

    def close(self) -> None:
        pass
