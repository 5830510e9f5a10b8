"""The gate content and its sources stay together.

A rule on a screen at the border speaks for the state, so an item or kiosk page that
states one names its legal source with ``sources: [id]``, and every id is a row of the
Sources table in ``docs/content.md`` (number, article, date, where to read it, when it
was checked). The import accepts the key, checks its shape, and keeps it out of the
manifest. The real ``playlists/`` folder is imported and published for both gates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from content_server.cli import main
from content_server.settings import Settings
from content_server.store import Store
from tests.server.content_server_kit import newest_signed, stored

ROOT = Path(__file__).resolve().parents[2]
PLAYLISTS = ROOT / "playlists"
CONTENT_MD = ROOT / "docs" / "content.md"

# A Vietnamese text that states one of these rules must name the source that rules it.
STATED_RULES: dict[str, str] = {
    r"\b1,5 lít\b|\b200 điếu\b|\b10\.000\.000 đồng\b": "decree-134-2016-art6",
    r"\b5\.000 USD\b|\b15\.000\.000 đồng\b": "circular-15-2011-sbv",
    r"\b300[ \u00a0]g\b|vàng miếng": "circular-11-2014-sbv",
    r"cửa khẩu chính": "decision-1020-2006-ttg",
    r"chỉ công dân Việt Nam và công dân Lào": "decree-112-2014",
    r"\b30 ngày\b": "visa-vn-la-2004",
    r"\b11[345]\b": "vn-emergency-numbers",
    r"\b119[015]\b": "la-emergency-numbers",
}

# Said before the fact check, and wrong or clumsy: none of it may reach a screen.
WRONG = (
    "quốc tế A Đớt", "ດ່ານສາກົນ ອາເດີດ", "International", "Offenders face",
    "before the counter", "for a while", "đường mòn, lối mở", "sources",
)  # fmt: skip


def documented_sources(markdown: str) -> dict[str, list[str]]:
    """``{id: cells}`` for each row of the table under ``## Sources``."""
    match = re.search(r"^## Sources\n(.*?)(?=^## )", markdown, re.S | re.M)
    assert match, "docs/content.md has no '## Sources' section"
    rows = {}
    for line in match.group(1).splitlines():
        cell = re.match(r"^\| `([a-z0-9-]+)` \|(.*)\|$", line)
        if cell:
            rows[cell.group(1)] = [c.strip() for c in cell.group(2).split("|")]
    return rows


def entries(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping with an ``id`` (site, playlist, item, category, page), at any depth."""
    if isinstance(node, dict):
        if "id" in node:
            yield node
        for value in node.values():
            yield from entries(value)
    elif isinstance(node, list):
        for value in node:
            yield from entries(value)


def vietnamese(entry: dict[str, Any]) -> str:
    text = entry.get("text", {}).get("vi", {}) if isinstance(entry.get("text"), dict) else {}
    if isinstance(text, str):  # a ticker notice: one line per language
        text = {"body": text}
    caption = entry.get("caption", {}).get("vi", "") if "caption" in entry else ""
    return " ".join([text.get("title", ""), text.get("body", ""), caption])


def content(folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(folder.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in entries(data):
            yield str(path.relative_to(folder)), entry


def unlisted(folder: Path, listed: dict[str, list[str]]) -> list[str]:
    return [
        f"{where}: {entry['id']} names source '{sid}', not listed in docs/content.md"
        for where, entry in content(folder)
        for sid in entry.get("sources", [])
        if sid not in listed
    ]


def unsourced(folder: Path) -> list[str]:
    out = []
    for where, entry in content(folder):
        text = vietnamese(entry)
        for pattern, sid in STATED_RULES.items():
            found = re.search(pattern, text)
            if found and sid not in entry.get("sources", []):
                out.append(
                    f"{where}: {entry['id']} says {found.group(0)!r} but not 'sources: [{sid}]'"
                )
    return out


@pytest.fixture(scope="module")
def listed() -> dict[str, list[str]]:
    return documented_sources(CONTENT_MD.read_text(encoding="utf-8"))


def test_every_source_the_content_names_is_listed_in_docs_content(
    listed: dict[str, list[str]],
) -> None:
    cited = {
        (where.split("/")[0], sid)
        for where, e in content(PLAYLISTS)
        for sid in e.get("sources", [])
    }
    for gate in ("adot", "hongvan"):
        assert {s for g, s in cited if g == gate} >= {
            "decree-134-2016-art6", "circular-15-2011-sbv", "circular-11-2014-sbv",
            "decree-112-2014", "visa-vn-la-2004", "la-emergency-numbers",
        }, gate  # fmt: skip
    assert unlisted(PLAYLISTS, listed) == []


def test_every_rule_stated_on_screen_names_its_source() -> None:
    assert unsourced(PLAYLISTS) == []


def test_every_listed_source_has_its_text_where_to_read_it_and_when_it_was_checked(
    listed: dict[str, list[str]],
) -> None:
    assert len(listed) >= 8
    for sid, (said, legal, where, checked) in listed.items():
        assert said and legal and where, sid
        assert checked == "2026-12-02", sid
    for sid in ("decree-134-2016-art6", "circular-15-2011-sbv", "circular-11-2014-sbv"):
        assert "https://" in listed[sid][2], sid
    assert "Art. 6(1), 01/09/2016" in listed["decree-134-2016-art6"][1]


def test_the_checks_catch_an_unlisted_source_and_a_rule_without_its_source(
    tmp_path: Path, listed: dict[str, list[str]]
) -> None:
    (tmp_path / "gate").mkdir()
    (tmp_path / "gate" / "customs.yaml").write_text(
        "playlist:\n"
        "  id: gate-customs\n"
        "  items:\n"
        "    - id: cash\n"
        "      sources: [decree-134-2016-art6]\n"  # the wrong source for a cash rule
        "      text: {vi: {title: 'Tiền mặt', body: 'Mang trên 5.000 USD phải khai báo.'}}\n"
        "    - id: gold\n"
        "      sources: [circular-11-2014-sbv, circular-99-2099]\n"
        "      text: {vi: {title: 'Vàng', body: 'Vàng trang sức từ 300 g trở lên.'}}\n",
        encoding="utf-8",
    )
    assert unlisted(tmp_path, listed) == [
        "gate/customs.yaml: gold names source 'circular-99-2099', not listed in docs/content.md"
    ]
    assert unsourced(tmp_path) == [
        "gate/customs.yaml: cash says '5.000 USD' but not 'sources: [circular-15-2011-sbv]'"
    ]
    # A docs page that lost its table is caught, not read as "nothing to check".
    with pytest.raises(AssertionError, match="no '## Sources' section"):
        documented_sources("# Content\n\n## Pictures\n")


def test_sources_are_accepted_by_the_import_and_kept_out_of_the_manifest(
    cli: Callable[..., Any],
    settings: Settings,
    content_dir: Path,
    enrol_device: Callable[..., str],
) -> None:
    path = content_dir / "adot/welcome.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "    - id: welcome\n      kind: text\n      duration_s: 12\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + "      sources: [vn-emergency-numbers]\n"))
    result = cli("import", content_dir, "--data-dir", settings.data_dir)
    assert result.returncode == 0, result.stderr
    enrol_device(settings, "adot-hall-1", "adot-hall")
    signed = newest_signed(settings, "adot-hall-1")
    welcome = next(p for p in signed["playlists"] if p["id"] == "adot-welcome")
    assert welcome["items"][0]["id"] == "welcome"
    assert "sources" not in json.dumps(signed)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (
            "sources: decree-134-2016-art6",
            "sources must be a list of ids, like [decree-134-2016-art6]",
        ),
        (
            "sources: [Decree 134]",
            "sources: 'Decree 134' must be lowercase letters, digits and hyphens",
        ),
        ("sources: [law-1, law-1]", "sources: 'law-1' is listed twice"),
    ],
)
def test_a_malformed_sources_list_is_named_by_line_and_nothing_is_imported(
    written: str,
    reason: str,
    settings: Settings,
    content_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = content_dir / "adot/welcome.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "    - id: welcome\n      kind: text\n      duration_s: 12\n"
    path.write_text(text.replace(anchor, anchor + f"      {written}\n"), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index(f"      {written}") + 1

    assert main(["import", str(content_dir), "--data-dir", str(settings.data_dir)]) == 1

    err = capsys.readouterr().err
    assert f"{path}:{line}: {reason}" in err, err
    assert stored(settings, Store.playlists) == []


def test_the_real_content_publishes_the_corrections_for_both_gates(
    cli: Callable[..., Any], settings: Settings, enrol_device: Callable[..., str]
) -> None:
    result = cli("import", PLAYLISTS, "--data-dir", settings.data_dir)
    assert result.returncode == 0, result.stderr
    sites = stored(settings, Store.sites)
    # A Đớt is a main gate: no "international" in any language of its name.
    assert sites["adot"].name == {
        "vi": "Cửa khẩu A Đớt",
        "lo": "ດ່ານ ອາເດີດ",
        "en": "A Dot Border Gate",
    }
    enrol_device(settings, "adot-hall-1", "adot-hall")
    enrol_device(settings, "hongvan-hall-1", "hongvan-hall")
    for gate, device in (("adot", "adot-hall-1"), ("hongvan", "hongvan-hall-1")):
        signed = newest_signed(settings, device)
        items = {i["id"]: i for p in signed["playlists"] for i in p["items"]}
        pages = {p["id"]: p for p in signed["pages"]}
        gold = items[f"{gate}-customs-gold"]["variants"]
        assert "không được mang vàng miếng" in gold["vi"]["body"]
        assert "300 ກຣາມ" in gold["lo"]["body"]
        assert "hộ chiếu" in items[f"{gate}-customs-alcohol"]["variants"]["vi"]["body"]
        assert "từ đủ 18 tuổi" in items[f"{gate}-customs-alcohol"]["variants"]["vi"]["body"]
        assert "1195" in items[f"{gate}-emergency-laos"]["variants"]["lo"]["body"]
        who = items[f"{gate}-docs-who"]["variants"]
        assert "chỉ công dân Việt Nam và công dân Lào" in who["vi"]["body"]
        numbers = pages[f"{gate}-kiosk-emergency-numbers"]["variants"]["vi"]["body"]
        assert "1191" in numbers and "Salavan" in numbers
        shown = json.dumps(signed, ensure_ascii=False)
        for wrong in WRONG:
            assert wrong not in shown, (gate, wrong)
