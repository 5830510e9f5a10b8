"""The Kivy signage player: plays a device's signed manifest full screen, in Vietnamese and Lao.

Only ``app``, ``playback``, ``richtext`` and ``main`` (when not ``--headless``) import Kivy;
``presenter``, ``strings``, ``linebreak`` and ``resources`` do not.
"""

__version__ = "0.1.0"
