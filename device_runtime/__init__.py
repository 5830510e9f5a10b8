"""What both device apps share, headless: settings, fetcher, cache, sync, trust state,
MQTT link and record queue, behind one facade, ``Runtime``.

No Kivy here. Decisions (trust, sync plans, topics) come from ``signage_core``;
this package does the I/O around them. See ``runtime.py`` for the interface.
"""

from .content import Content, SyncStatus
from .runtime import Runtime
from .settings import DeviceSettings, load_settings

__all__ = ["Content", "DeviceSettings", "Runtime", "SyncStatus", "load_settings"]
