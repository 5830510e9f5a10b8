"""The emergency overlay on a real window under Xvfb: a signed alert in Vietnamese and Lao
covers the screen, large, every text inside its box (the PNG is kept in tests/artifacts)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest

from signage_core.alert import SCHEMA
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time
from tests.support.xvfb import xvfb

pytestmark = pytest.mark.display
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACT = ROOT / "tests" / "artifacts" / "player-alert-vi-lo.png"
TEXTS = {
    "vi": {
        "title": "Cửa khẩu A Đớt tạm dừng thông quan",
        "body": "Do mưa lũ sạt lở trên đường 49, cửa khẩu tạm dừng làm thủ tục đến khi có "
        "thông báo mới. Quý khách vui lòng ở lại khu vực chờ và làm theo hướng dẫn của "
        "Bộ đội Biên phòng.",
    },
    "lo": {
        "title": "ດ່ານອາເດີດ ໂຈະການຜ່ານແດນຊົ່ວຄາວ",
        "body": "ຍ້ອນນ້ຳຖ້ວມ ແລະ ດິນເຈື່ອນໃນເສັ້ນທາງ 49 ດ່ານຈຶ່ງໂຈະການຜ່ານແດນຈົນກວ່າຈະມີ"
        "ແຈ້ງການໃໝ່ ກະລຸນາລໍຖ້າຢູ່ບໍລິເວນລໍຖ້າ ແລະ ປະຕິບັດຕາມຄຳແນະນຳຂອງເຈົ້າໜ້າທີ່ປ້ອງກັນຊາຍແດນ",
    },
}


def test_the_player_shows_a_signed_alert_in_vietnamese_and_lao(tmp_path: Path) -> None:
    key = SigningKey.generate()
    now = datetime.now(UTC)
    envelope = sign_envelope(
        {
            "schema": SCHEMA, "id": "a-flood", "site_id": "adot", "version": 1,
            "issued_at": format_time(now), "expires_at": format_time(now + timedelta(hours=2)),
            "state": "active", "severity": "emergency", "texts": TEXTS,
        },
        [key],
    )  # fmt: skip
    shot, report_path = tmp_path / "alert.png", tmp_path / "report.json"
    scenario = {
        "alert": envelope,
        "trusted": key.public.spec(),
        "screenshot": str(shot),
        "report": str(report_path),
    }
    (tmp_path / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False))
    with xvfb(tmp_path / "xvfb") as display:
        proc = subprocess.run(
            [sys.executable, str(HERE / "alert_overlay_driver.py"), "scenario.json"],
            env=display.env(PYTHONPATH=str(ROOT)), cwd=tmp_path,
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["shown_id"] == "a-flood"
    shown = {t["text"] for t in report["texts"]}
    for lang in ("vi", "lo"):
        assert {TEXTS[lang]["title"], TEXTS[lang]["body"]} <= shown
    for t in report["texts"]:  # nothing clipped: every text fits its box
        assert t["content_height"] <= t["height"] + 1, t["text"]
        assert t["content_width"] <= t["width"] + 1, t["text"]
        assert t["lines"], t["text"]

    img = cv2.imread(str(shot))
    assert img.shape[:2] == (720, 1280)
    b, g, r = (int(v) for v in img[5, 5])
    assert r > 120 and g < 40 and b < 40  # the emergency red covers the screen, edge to edge
    ARTIFACT.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACT)
