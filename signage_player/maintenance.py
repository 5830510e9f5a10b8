"""The maintenance overlay: what a technician needs at the screen, over the content.

Device id, manifest version, cache state, last sync, this machine's addresses
(``Runtime.maintenance_info``; words in ``strings.maintenance_lines``). Shown by a key
on the player or the server's ``overlay`` command, hidden again by itself after a
while (``SignageView`` arms that timer). It is drawn under an emergency alert: an
alert always covers everything. Rules are in ``maintenance.kv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.floatlayout import FloatLayout

from .resources import resource_path

_KV_LOADED = False


def load_kv() -> None:
    global _KV_LOADED
    if not _KV_LOADED:
        Builder.load_file(str(resource_path("signage_player", "maintenance.kv")))
        _KV_LOADED = True


class MaintenanceOverlay(FloatLayout):
    text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opacity = 0
        self.disabled = True

    @property
    def shown(self) -> bool:
        return bool(self.opacity)

    def show(self, lines: Sequence[str]) -> None:
        self.text = "\n".join(lines)
        self.opacity, self.disabled = 1, False

    def hide(self) -> None:
        self.opacity, self.disabled = 0, True

    def on_touch_down(self, touch: Any) -> bool:
        return False  # a technician's overlay never takes a traveller's touch
