"""`content-server import DIR`: every mistake is named by file and line, and nothing is stored."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from content_server.cli import main
from content_server.settings import Settings
from content_server.store import Store
from tests.server.content_server_kit import stored

Run = Callable[..., subprocess.CompletedProcess[str]]
Cli = Callable[..., Any]


def snapshot(settings: Settings) -> tuple[str, list[str]]:
    return stored(settings, Store.dump), sorted(p.name for p in settings.assets_dir.iterdir())


def edit(path: Path, old: str, new: str) -> Path:
    """Replace ``old`` (which must be there) with ``new`` in a content file; the file."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def refused(cli: Cli, settings: Settings, folder: Path) -> str:
    """``content-server import folder``, which must fail; what it said on stderr."""
    result = cli("import", folder, "--data-dir", settings.data_dir)
    assert result.returncode == 1, result.stdout
    stderr: str = result.stderr
    return stderr


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    matches = [i + 1 for i, line in enumerate(lines) if fragment in line]
    assert len(matches) == 1, f"{fragment!r} is not on exactly one line of {path}"
    return matches[0]


def test_import_stores_sites_playlists_and_media_then_changes_nothing_the_second_time(
    run_cli: Run, settings: Settings, content_dir: Path
) -> None:
    first = run_cli("import", content_dir, "--data-dir", settings.data_dir)
    assert first.returncode == 0, first.stderr
    assert "sites: 4 new" in first.stdout
    assert "playlists: 4 new" in first.stdout
    assert "media files: 3 (3 new)" in first.stdout

    playlists = {p.id: p for p in stored(settings, Store.playlists)}
    sites = stored(settings, Store.sites)
    assert sites["adot-hall"].parent_id == "adot"
    assert sites["adot"].languages is None  # inherited, not copied
    welcome = playlists["adot-welcome"]
    assert welcome.schedule == {
        "start_date": "2026-12-01",
        "end_date": "2027-01-31",
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "windows": [{"start": "07:00", "end": "17:00"}],
    }
    gate_map = welcome.items[1]
    sha = gate_map["variants"]["vi"]["asset"]
    assert gate_map["variants"] == {
        "vi": {"asset": sha, "caption": "Sơ đồ"},
        "lo": {"asset": sha, "caption": "ແຜນຜັງ"},
    }
    assert (settings.assets_dir / sha).read_bytes() == (
        content_dir / "adot/images/map.png"
    ).read_bytes()
    # An image without captions still has a Vietnamese variant.
    assert set(playlists["hongvan-welcome"].items[0]["variants"]) == {"vi"}

    before = snapshot(settings)
    again = run_cli("import", content_dir, "--data-dir", settings.data_dir)
    assert again.returncode == 0, again.stderr
    assert "playlists: 0 new, 0 changed, 4 unchanged" in again.stdout
    assert snapshot(settings)[1] == before[1]
    # Only the audit trail grows: no row of content is rewritten.
    assert [line for line in snapshot(settings)[0].splitlines() if "audit" not in line] == [
        line for line in before[0].splitlines() if "audit" not in line
    ]


def test_a_changed_playlist_is_updated_in_place(
    cli: Cli, settings: Settings, content_dir: Path
) -> None:
    assert cli("import", content_dir, "--data-dir", settings.data_dir).returncode == 0
    edit(content_dir / "fallback.yaml", "duration_s: 10", "duration_s: 20")
    result = cli("import", content_dir, "--data-dir", settings.data_dir)
    assert "playlists: 0 new, 1 changed, 3 unchanged" in result.stdout
    (fallback,) = [p for p in stored(settings, Store.playlists) if p.id == "hue-fallback"]
    assert fallback.items[0]["duration_s"] == 20


# (file, text to replace, replacement, fragment on the offending line, words of the reason)
BAD = {
    "unknown language": (
        "adot/welcome.yaml",
        '        en: {title: "Welcome"',
        '        xx: {title: "Welcome"',
        "xx: {title",
        "unknown language 'xx'",
    ),
    "missing file": (
        "adot/welcome.yaml",
        "file: images/map.png",
        "file: images/nothere.png",
        "nothere.png",
        "not found",
    ),
    "path out of the folder": (
        "adot/hall/video.yaml",
        "file: media/queue.mp4",
        "file: ../../../outside.mp4",
        "outside.mp4",
        "must not use '..'",
    ),
    "NUL in a file name": (
        "adot/welcome.yaml",
        "file: images/map.png",
        'file: "images/map.png\\0"',
        "map.png\\0",
        "contains a NUL character",
    ),
    "absolute path": (
        "adot/hall/video.yaml",
        "file: media/queue.mp4",
        "file: /etc/passwd",
        "/etc/passwd",
        "not absolute",
    ),
    "malformed schedule": (
        "adot/welcome.yaml",
        "weekdays: [mon, tue, wed, thu, fri]",
        "weekdays: [mon, funday]",
        "funday",
        "'funday' is not one of",
    ),
    "schedule ends before it starts": (
        "adot/welcome.yaml",
        "end_date: 2027-01-31",
        "end_date: 2026-11-01",
        "end_date",
        "ends (2026-11-01) before it starts (2026-12-01)",
    ),
    "unquoted time": (
        "adot/welcome.yaml",
        '{start: "07:00", end: "17:00"}',
        '{start: "07:00", end: 17:00}',
        "end: 17:00",
        "write the time in quotes",
    ),
    "unknown key": (
        "adot/welcome.yaml",
        "  priority: 10",
        "  priorty: 10",
        "priorty",
        "unknown key 'priorty'",
    ),
    "unknown item key": (
        "adot/welcome.yaml",
        "      duration_s: 8",
        "      duration_s: 8\n      captoin: {vi: x}",
        "captoin",
        "unknown key 'captoin'",
    ),
    "duration is not a positive whole number": (
        "fallback.yaml",
        "duration_s: 10",
        "duration_s: -3",
        "duration_s",
        "duration_s must be a whole number above 0",
    ),
    "required language missing": (
        "fallback.yaml",
        '        lo: {title: "ສະບາຍດີ", body: "ຍິນດີຕ້ອນຮັບສູ່ເຫວ້"}\n',
        "",
        "text:",
        "lacks lo, required for site 'hue'",
    ),
    "unknown site": (
        "adot/hall/video.yaml",
        "site: adot-hall",
        "site: adot-lobby",
        "adot-lobby",
        "site 'adot-lobby' does not exist",
    ),
    "key given twice": (
        "fallback.yaml",
        "  fallback: true",
        "  fallback: true\n  fallback: false",
        "fallback: false",
        "'fallback' is given twice",
    ),
    "YAML syntax": (
        "fallback.yaml",
        "  id: hue-fallback",
        "  id: [hue-fallback",
        "site: hue",
        "YAML cannot be read",
    ),
}


@pytest.mark.parametrize("case", BAD.values(), ids=list(BAD))
def test_a_bad_file_is_named_by_line_and_nothing_is_stored(
    case: tuple[str, str, str, str, str],
    settings: Settings,
    content_dir: Path,
    tmp_path: Path,
    import_content: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The command's own main(), in-process (the subprocess test below covers the exit).
    name, old, new, fragment, reason = case
    import_content(settings, content_dir)
    before = snapshot(settings)
    (tmp_path / "outside.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom")
    # A good change elsewhere must not be stored either: all files are checked first.
    edit(content_dir / "hongvan/welcome.yaml", "duration_s: 5", "duration_s: 6")
    path = edit(content_dir / name, old, new)

    code = main(["import", str(content_dir), "--data-dir", str(settings.data_dir)])

    assert code == 1
    stderr = capsys.readouterr().err
    expected = f"{content_dir / name}:{line_of(path, fragment)}: "
    lines = stderr.splitlines()
    assert any(line.startswith(expected) and reason in line for line in lines), stderr
    assert lines[-1].endswith("nothing was imported")
    assert snapshot(settings) == before


def test_the_import_command_exits_1_with_file_and_line_and_no_traceback(
    run_cli: Run, settings: Settings, content_dir: Path
) -> None:
    path = edit(content_dir / "adot/welcome.yaml", "  priority: 10", "  priorty: 10")
    result = run_cli("import", content_dir, "--data-dir", settings.data_dir)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:{line_of(path, 'priorty')}: unknown key 'priorty'")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert stored(settings, Store.playlists) == []


def test_every_error_of_every_file_is_reported_at_once(
    cli: Cli, settings: Settings, content_dir: Path
) -> None:
    for name, old, new in [
        ("fallback.yaml", "duration_s: 10", "duration_s: zero"),
        ("adot/welcome.yaml", "file: images/map.png", "file: images/gone.png"),
        ("adot/welcome.yaml", "  priority: 10", "  priority: high"),
    ]:
        edit(content_dir / name, old, new)
    stderr = refused(cli, settings, content_dir)
    assert len([line for line in stderr.splitlines() if ".yaml:" in line]) == 3


def link_out_of_the_folder(content_dir: Path, outside: Path) -> None:
    secret = outside / "secret.png"
    secret.write_bytes((content_dir / "adot/images/map.png").read_bytes())
    os.symlink(secret, content_dir / "adot/images/link.png")
    edit(content_dir / "adot/welcome.yaml", "images/map.png", "images/link.png")


def not_media(content_dir: Path, outside: Path) -> None:
    (content_dir / "adot/images/map.png").write_bytes(b"GIF89a not what we play")


def video_in_an_image_item(content_dir: Path, outside: Path) -> None:
    video = (content_dir / "adot/hall/media/queue.mp4").read_bytes()
    (content_dir / "adot/images/map.png").write_bytes(video)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (link_out_of_the_folder, "leads outside the import folder"),
        (not_media, "is not a PNG, JPEG, MP4 or WebM file"),
        (video_in_an_image_item, "is video/mp4, but the item kind is image"),
    ],
    ids=["link-out-of-the-folder", "not-media", "video-in-an-image-item"],
)
def test_a_media_file_the_import_cannot_use_is_refused(
    cli: Cli,
    settings: Settings,
    content_dir: Path,
    tmp_path: Path,
    spoil: Callable[[Path, Path], None],
    reason: str,
) -> None:
    spoil(content_dir, tmp_path)
    assert reason in refused(cli, settings, content_dir)


def test_import_into_an_uninitialised_folder_says_what_to_do(
    cli: Cli, tmp_path: Path, content_dir: Path
) -> None:
    result = cli("import", content_dir, "--data-dir", tmp_path / "nothing")
    assert result.returncode == 1
    assert "run `content-server init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_publishes_only_devices_whose_content_changed(
    cli: Cli,
    settings: Settings,
    content_dir: Path,
    enrol_device: Callable[..., str],
) -> None:
    assert cli("import", content_dir, "--data-dir", settings.data_dir).returncode == 0
    enrol_device(settings, "adot-hall-1", "adot-hall")
    enrol_device(settings, "hongvan-1", "hongvan")
    edit(content_dir / "hongvan/welcome.yaml", "duration_s: 5", "duration_s: 7")
    result = cli("import", content_dir, "--data-dir", settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("published manifest version 3 for hongvan-1")
    store = Store.open(settings.db_path)
    try:
        versions = store.latest_manifest_versions()
        envelope = store.manifest_envelope("hongvan-1", 3)
    finally:
        store.close()
    assert {d: v for d, (v, _) in versions.items()} == {"adot-hall-1": 1, "hongvan-1": 3}
    assert envelope is not None
    signed = json.loads(envelope)["signed"]
    assert signed["playlists"][0]["items"][0]["duration_s"] == 7


def test_a_playlist_id_used_by_two_files_is_refused(
    cli: Cli, settings: Settings, content_dir: Path
) -> None:
    (content_dir / "copy.yaml").write_text((content_dir / "fallback.yaml").read_text())
    assert "playlist 'hue-fallback' is defined twice" in refused(cli, settings, content_dir)


def test_a_site_whose_parent_is_unknown_is_refused(
    cli: Cli, settings: Settings, content_dir: Path
) -> None:
    path = edit(content_dir / "sites.yaml", "parent: adot\n", "parent: adott\n")
    stderr = refused(cli, settings, content_dir)
    assert f"{path}:{line_of(path, 'id: adot-hall')}: site 'adot-hall': parent 'adott'" in stderr
