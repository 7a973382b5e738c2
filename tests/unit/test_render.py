"""Message content (attachment 3) and SMS length rules."""

from __future__ import annotations

import datetime as dt

import pytest

from licence_reminder.render import (
    LicenceLine, MessageRejected, check_sms, render, sms_params, sms_segments,
)

TODAY = dt.date(2026, 11, 24)
LINE = LicenceLine(
    licence_name="食品经营许可证", expiry_date=dt.date(2026, 12, 24), renewal_deadline_days=0,
    online_url="https://zwfw.example.gov.cn/ay", service_hall="安阳市政务服务中心",
    service_phone="0372-1234567", materials=("延续申请书", "营业执照复印件"),
    lapse_consequences="证照过期后继续经营将依法承担法律责任。",
)


def test_stage1_has_every_attachment3_element() -> None:
    body = render("sms_stage1", sms_params("张三", [LINE], stage=1, today=TODAY))
    for part in ("尊敬的张三", "食品经营许可证", "30天后", "2026年12月24日",
                 "https://zwfw.example.gov.cn/ay", "安阳市政务服务中心", "0372-1234567",
                 "1.延续申请书", "2.营业执照复印件"):
        assert part in body
    assert "法律责任" not in body


def test_stage2_states_consequences() -> None:
    body = render("sms_stage2", sms_params("张三", [LINE], stage=2, today=dt.date(2026, 12, 17)))
    assert "7天后" in body and "证照过期后继续经营将依法承担法律责任" in body


def test_several_licences_one_message() -> None:
    other = LicenceLine(**{**LINE.__dict__, "licence_name": "药品经营许可证",
                           "expiry_date": dt.date(2026, 12, 30), "materials": ("营业执照复印件", "质量管理文件")})
    params = sms_params("李四", [other, LINE], stage=1, today=TODAY)
    assert params["licence"] == "食品经营许可证、药品经营许可证"  # earliest expiry first, whatever the input order
    assert params["expiry"] == "2026年12月24日"  # the earliest
    assert params["materials"].count("营业执照复印件") == 1


def test_deadline_from_catalogue() -> None:
    line = LicenceLine(**{**LINE.__dict__, "renewal_deadline_days": 30})
    assert sms_params("王五", [line], stage=1, today=TODAY)["deadline"] == "2026年11月24日"


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (160, 3)])
def test_segments(length: int, segments: int) -> None:
    assert sms_segments(length) == segments


def test_length_counts_signature() -> None:
    length, segments = check_sms("一" * 62, {}, sign_name="安阳市政务")
    assert length == 62 + len("【安阳市政务】") == 69 and segments == 1


def test_rejects_over_cap_and_signature_in_template() -> None:
    with pytest.raises(MessageRejected, match="500"):
        check_sms("字" * 495, {}, sign_name="安阳市政务")
    with pytest.raises(MessageRejected, match="signature"):
        check_sms("【安阳】您好", {}, sign_name="安阳")
    with pytest.raises(MessageRejected, match=r"\['url'\]"):
        check_sms("ok", {"url": "x" * 40, "name": "张三"}, sign_name="s", max_param_length=35)
