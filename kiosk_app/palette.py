"""The kiosk's colours and touch-target size, shared by its screens, on-screen keyboard
and feedback form (no Kivy here)."""

from __future__ import annotations

# The smallest side of anything a finger must hit (WCAG-style targets are ~9 mm).
TOUCH_TARGET_MM = 9.0
PALETTES: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "normal": {
        "bg": (0.05, 0.16, 0.29, 1),
        "bar": (0.03, 0.11, 0.21, 1),
        "surface": (0.11, 0.28, 0.46, 1),
        "text": (1, 1, 1, 1),
        "dim": (0.84, 0.89, 0.95, 1),
        "accent": (0.95, 0.79, 0.30, 1),
        "accent_text": (0.05, 0.16, 0.29, 1),
        "border": (0, 0, 0, 0),
    },
    "high_contrast": {
        "bg": (0, 0, 0, 1),
        "bar": (0, 0, 0, 1),
        "surface": (0, 0, 0, 1),
        "text": (1, 1, 1, 1),
        "dim": (1, 1, 1, 1),
        "accent": (1, 0.9, 0, 1),
        "accent_text": (0, 0, 0, 1),
        "border": (1, 1, 1, 1),
    },
}
