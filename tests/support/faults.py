"""Faults injected from the test side: wrappers around real parts that fail on cue."""

from __future__ import annotations

from typing import Any


class SimulatedCrash(RuntimeError):
    """The sender's process died: raised where a kill would have stopped it."""


class CrashAfterCalls:
    """A gateway that sends for real and then 'dies' right after its ``calls``-th send, before the
    sender can record the outcome: the message is with the provider, the outbox says 'sending'."""

    def __init__(self, gateway: Any, calls: int) -> None:
        self.gateway, self.calls, self.made = gateway, calls, 0

    def send(self, message: Any) -> Any:
        result = self.gateway.send(message)
        self.made += 1
        if self.made >= self.calls:
            raise SimulatedCrash(f"simulated crash after gateway call {self.made}")
        return result

    def __getattr__(self, name: str) -> Any:  # name, lookup, receipts: the real gateway's
        return getattr(self.gateway, name)


class LostRequests:
    """A gateway whose first ``calls`` requests are lost on the way: no reply, as after a read
    timeout (in doubt), but the provider never got them."""

    def __init__(self, gateway: Any, calls: int) -> None:
        self.gateway, self.calls = gateway, calls

    def send(self, message: Any) -> Any:
        from licence_reminder.gateways.base import Outcome, SendResult

        if self.calls > 0:
            self.calls -= 1
            return SendResult(Outcome.TRANSIENT, "TIMEOUT", "read timeout", ambiguous=True)
        return self.gateway.send(message)

    def __getattr__(self, name: str) -> Any:  # name, lookup, timeout: the real gateway's
        return getattr(self.gateway, name)
