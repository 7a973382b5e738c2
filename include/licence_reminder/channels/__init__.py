"""Every channel the city's mechanism names, beside SMS: WeChat mini-program subscribe messages,
prompts pulled by the departments' business systems, and phone calls by policy.

- ``policy``: which channels a catalogue entry uses at each stage (read at DAG-parse time: light).
- ``wechat``: the mini-program's ``subscribeMessage.send`` adapter and WeChat's data-field rules.
- ``consent``: the subscriptions holders gave in the mini-program (intake, use, revocation).
- ``prompts``: the in-system prompts a department's business system pulls and acknowledges.
- ``render``: turning a day's planned reminders of these channels into messages, prompts, calls.
- ``clients`` / ``api``: the authenticated HTTP API (consent intake, prompt feed) the plugin
  ``plugins/licence_reminder_channels.py`` serves.

docs/channels.md is the guide; docs/adr/0401-channels.md says why it is built this way.
"""

from __future__ import annotations

import os

SMS = "sms"
MINIPROGRAM = "miniprogram"
PROMPT = "prompt"
CALL = "call"
#: every channel a catalogue entry may name
CHANNELS = (SMS, MINIPROGRAM, PROMPT, CALL)
#: channels that push a message to the holder (a gateway's or WeChat's acceptance is reach)
PUSHED = (SMS, MINIPROGRAM)
#: the outbox shard of mini-program messages: sent by a task of their own, so that a WeChat
#: account problem stops only that task and never the SMS shards (dispatch._refuse)
MINIPROGRAM_SHARD = 1000


def wechat_conn_id() -> str:
    """The Airflow connection of the mini-program (``LR_WECHAT_CONN_ID``)."""
    return os.environ.get("LR_WECHAT_CONN_ID", "wechat_miniprogram")
