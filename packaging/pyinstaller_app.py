"""What the PyInstaller specs of the device apps share: one file per app, built alike.

``signage-player.spec`` and ``kiosk-app.spec`` call
``build_device_app(name, package, globals())``. Inside each binary: Python, the app's
package with ``device_runtime`` and ``signage_core``, Kivy with only the providers
the apps use (SDL2 window, text and images: no video, audio, camera, spelling or
clipboard provider; a default Kivy build pulls every installed one, 160 MB), the
fonts of ``assets/fonts`` and the ``.kv`` files of the app's package and of
``signage_player`` (whose widgets the kiosk reuses), at the same relative paths as in
the source tree, where ``signage_player/resources.py`` finds them (``sys._MEIPASS``).
OpenCV and NumPy are inside (the player decodes video with OpenCV); the server's
packages (FastAPI, Pydantic, sqlite-utils, …) are left out: no device app imports them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Never imported by a device app; excluded so that nothing drags them in.
EXCLUDES = [
    "content_server", "fastapi", "starlette", "uvicorn", "pydantic", "pydantic_core",
    "pydantic_settings", "sqlite_utils", "yaml", "argon2", "multipart", "PIL",
    "schemathesis", "hypothesis", "pytest", "IPython", "docutils", "pygments",
    "kivy.core.image.img_pil", "kivy.core.image.img_ffpyplayer", "kivy.core.text.text_pango",
    "kivy.core.text.text_pil", "kivy.core.window.window_x11", "kivy.core.window.window_egl_rpi",
    "kivy_garden", "ffpyplayer", "gi", "enchant",
]  # fmt: skip


def data_files(package: str) -> list[tuple[str, str]]:
    """``(file, folder in the bundle)`` for the fonts and the .kv files ``package`` needs."""
    files = sorted((ROOT / "assets" / "fonts").iterdir())
    for folder in dict.fromkeys(["signage_player", package]):
        files += sorted((ROOT / folder).glob("*.kv"))
    return [(str(p), str(p.parent.relative_to(ROOT))) for p in files if p.is_file()]


def entry_script(package: str, workdir: Path) -> Path:
    """A plain script that runs ``package.main:main`` (PyInstaller wants a script)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"entry_{package}.py"
    path.write_text(
        f"import sys\n\nfrom {package}.main import main\n\nsys.exit(main())\n", encoding="utf-8"
    )
    return path


def build_device_app(name: str, package: str, spec: dict[str, Any]) -> None:
    """Define the one-file ``dist/<name>`` with the spec's ``Analysis``, ``PYZ`` and ``EXE``."""
    from kivy.tools.packaging.pyinstaller_hooks import get_deps_minimal, hookspath, runtime_hooks
    from PyInstaller.utils.hooks import collect_data_files

    kivy = get_deps_minimal(
        window=True, text=True, image=True, video=None, audio=None, spelling=None,
        camera=None, clipboard=None,
    )  # fmt: skip
    datas = data_files(package)
    datas += collect_data_files("certifi")  # requests' CA bundle, for https:// servers
    datas += collect_data_files("tzdata")  # time zones, without /usr/share/zoneinfo
    analysis = spec["Analysis"](
        [str(entry_script(package, Path(spec["workpath"])))],
        pathex=[str(ROOT)],
        datas=datas,
        hiddenimports=[*kivy["hiddenimports"], "tzdata"],
        hookspath=hookspath(),
        runtime_hooks=runtime_hooks(),
        excludes=[*kivy["excludes"], *EXCLUDES],
    )
    pyz = spec["PYZ"](analysis.pure)
    spec["EXE"](
        pyz,
        analysis.scripts,
        analysis.binaries,
        analysis.datas,
        name=name,
        debug=False,
        # Not stripped: strip leaves NumPy's OpenBLAS (which OpenCV loads) unloadable
        # ("ELF load command address/offset not page-aligned"). SIGNAGE_PACKAGE_STRIP=1
        # strips anyway, for a build without video.
        strip=os.environ.get("SIGNAGE_PACKAGE_STRIP", "0") == "1",
        upx=False,
        console=True,
        runtime_tmpdir=None,
    )
