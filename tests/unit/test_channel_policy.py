"""The channel policy in a catalogue entry, and WeChat's data-field rules: pure rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from licence_reminder.channels.policy import DEFAULT, ChannelPolicy
from licence_reminder.channels.wechat import WeChatConfig, field_problem, mask_openid
from licence_reminder.errors import PermanentError
from licence_reminder.registry import RegistryError, load_catalogue

ENTRY = {
    "licence_name": "食品经营许可证",
    "approval_item": "食品经营许可",
    "office": "审批科",
    "statutory_validity": "5年",
    "renewal_window": "届满30日前",
    "online_url": "https://x.example",
    "service_phone": "0372-1234567",
    "materials": ["申请书"],
    "lapse_consequences": "无证经营。",
}


def write(tmp_path: Path, channels: object) -> Path:
    path = tmp_path / "dept1.yaml"
    path.write_text(
        yaml.safe_dump(
            {"department": "dept1", "entries": [{**ENTRY, "channels": channels}]},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path


def test_without_a_policy_an_entry_keeps_sms_at_both_stages(tmp_path: Path) -> None:
    path = tmp_path / "dept1.yaml"
    path.write_text(
        yaml.safe_dump({"department": "dept1", "entries": [ENTRY]}, allow_unicode=True),
        encoding="utf-8",
    )
    entry = load_catalogue(path).entries[0]
    assert entry.channels == DEFAULT and entry.channels.at(1) == entry.channels.at(2) == ("sms",)
    assert entry.channels.to_mirror() is None


def test_a_policy_is_read_in_order_and_mirrored(tmp_path: Path) -> None:
    entry = load_catalogue(
        write(tmp_path, {"stage1": ["sms", "miniprogram"], "stage2": ["prompt", "sms", "call"]})
    ).entries[0]
    assert entry.channels.at(2) == ("prompt", "sms", "call")
    assert entry.channels.used() == ("sms", "miniprogram", "prompt", "call")
    assert ChannelPolicy.from_mirror(entry.channels.to_mirror()) == entry.channels


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        pytest.param(
            {"stage1": ["sms", "wechat"]},
            r"field 'entries.0.channels.stage1': unknown channel\(s\) \['wechat'\]",
            id="unknown-channel",
        ),
        pytest.param(
            {"stage1": ["sms", "sms"]},
            r"field 'entries.0.channels.stage1': channel\(s\) \['sms'\] listed twice",
            id="twice",
        ),
        pytest.param(
            {"stage2": []}, r"field 'entries.0.channels.stage2'.*at least 1", id="empty-stage"
        ),
        pytest.param(
            {"stage3": ["sms"]},
            r"field 'entries.0.channels.stage3': unknown field",
            id="no-stage-3",
        ),
    ],
)
def test_a_wrong_policy_names_the_file_entry_and_field(
    tmp_path: Path, channels: object, message: str
) -> None:
    with pytest.raises(RegistryError, match=message) as refused:
        load_catalogue(write(tmp_path, channels))
    assert "dept1.yaml" in str(refused.value) and "(in the entry of '食品经营许可证')" in str(
        refused.value
    )


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        pytest.param("thing1", "食" * 20, None, id="thing-20"),
        pytest.param("thing1", "食" * 21, "21 characters, WeChat takes at most 20", id="thing-21"),
        pytest.param("phrase4", "首次提醒", None, id="phrase-chinese"),
        pytest.param("phrase4", "提醒一二三四", "6 characters", id="phrase-6"),
        pytest.param("phrase4", "提醒2", "not at most 5 Chinese", id="phrase-digit"),
        pytest.param("character_string2", "JY14105020000001", None, id="string"),
        pytest.param("character_string2", "豫JY1410", "not at most 32 digits", id="string-chinese"),
        pytest.param("character_string2", "A" * 33, "33 characters", id="string-33"),
        pytest.param("number3", "12.5", None, id="number"),
        pytest.param("number3", "12天", "not at most 32 digits", id="number-text"),
        pytest.param("date2", "2026年12月24日", None, id="date"),
        pytest.param("date2", "2026年12月24日 15:01", None, id="date-time"),
        pytest.param("date2", "2026-12-24", "not a date", id="date-iso"),
        pytest.param("time5", "15:01", None, id="time"),
        pytest.param("time5", "2026年10月1日 15:01~2026年10月1日 16:00", None, id="time-span"),
        pytest.param("time5", "25:01", "not a 24-hour time", id="time-25"),
        pytest.param("thing1", "", "empty", id="empty"),
        pytest.param("title1", "x", "not a WeChat data field", id="no-such-kind"),
    ],
)
def test_wechat_field_rules(key: str, value: str, problem: str | None) -> None:
    found = field_problem(key, value)
    assert (found is None) if problem is None else (problem in (found or "")), found
    if found:
        assert value not in found or not value  # never the value itself


def test_openids_are_masked() -> None:
    assert mask_openid("oHolder000000000000000000001") == "oHol…0001"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        pytest.param({"provider": "aliyun"}, "extra.provider", id="provider"),
        pytest.param({"provider": "wechat_miniprogram"}, "extra.templates", id="no-templates"),
        pytest.param(
            {
                "provider": "wechat_miniprogram",
                "templates": {
                    "default": {"template_id": "t" * 20, "data": {"thing1": "licence_nam"}}
                },
            },
            "extra.templates.default.data.thing1",
            id="unknown-value",
        ),
        pytest.param(
            {
                "provider": "wechat_miniprogram",
                "templates": {
                    "default": {"template_id": "t" * 20, "data": {"titl1": "licence_name"}}
                },
            },
            "extra.templates.default.data.titl1",
            id="unknown-field",
        ),
    ],
)
def test_a_wrong_wechat_connection_names_the_field(extra: dict, field: str) -> None:
    from types import SimpleNamespace

    with pytest.raises(PermanentError, match=f"connection 'wechat_miniprogram': field {field!r}"):
        WeChatConfig.from_connection(
            SimpleNamespace(
                conn_id="wechat_miniprogram", login="wx1", password="s", extra_dejson=extra
            )
        )
