"""Draw the small, textless pictograms used by the border-gate playlists.

Run from anywhere with the project's Python::

    .venv/bin/python scripts/make_images.py

It writes the same PNG files into ``playlists/adot/images/`` and
``playlists/hongvan/images/`` (a playlist may only name files below its own
folder, see docs/playlist-format.md). The output is deterministic: the same
bytes on every run. Everything is drawn at 4x size and shrunk with area
averaging, which gives smooth edges without any randomness.

Images:
- flag-vn.png       flag of Viet Nam (red, centred yellow five-pointed star)
- flag-la.png       flag of Laos (red-blue-red 1:2:1, white disc 0.8x the blue band)
- flags-vn-la.png   both flags side by side
- arrival-route.png Laos -> health check -> border control -> customs -> Viet Nam
- passport.png      a passport booklet with the e-passport chip mark
- prohibited.png    no drugs, no weapons, no wildlife, no explosives
- clock.png         a clock face (opening hours)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT_DIRS = [ROOT / "playlists" / "adot" / "images", ROOT / "playlists" / "hongvan" / "images"]
SS = 4  # supersampling factor

# Colours are RGB here; _bgr() converts for OpenCV.
VN_RED = (218, 37, 29)
VN_YELLOW = (255, 255, 0)
LA_RED = (206, 17, 38)
LA_BLUE = (0, 40, 104)
WHITE = (255, 255, 255)
BACKGROUND = (244, 244, 240)
INK = (40, 44, 52)
GREY = (150, 150, 150)
HEALTH_GREEN = (30, 142, 90)
BORDER_NAVY = (31, 58, 147)
CUSTOMS_AMBER = (199, 124, 2)
PASSPORT_RED = (110, 20, 35)
GOLD = (212, 175, 55)
NO_RED = (204, 0, 0)

Color = tuple[int, int, int]
Canvas = np.ndarray


def _bgr(c: Color) -> tuple[int, int, int]:
    return (c[2], c[1], c[0])


def canvas(w: int, h: int, color: Color = BACKGROUND) -> Canvas:
    img = np.zeros((h * SS, w * SS, 3), np.uint8)
    img[:] = _bgr(color)
    return img


def finish(img: Canvas) -> Canvas:
    h, w = img.shape[:2]
    return cv2.resize(img, (w // SS, h // SS), interpolation=cv2.INTER_AREA)


def _p(x: float, y: float) -> tuple[int, int]:
    return (round(x * SS), round(y * SS))


def rect(img: Canvas, x0: float, y0: float, x1: float, y1: float, c: Color) -> None:
    cv2.rectangle(img, _p(x0, y0), _p(x1 - 1 / SS, y1 - 1 / SS), _bgr(c), -1)


def circle(img: Canvas, cx: float, cy: float, r: float, c: Color, thickness: float = -1) -> None:
    t = -1 if thickness < 0 else max(1, round(thickness * SS))
    cv2.circle(img, _p(cx, cy), round(r * SS), _bgr(c), t, cv2.LINE_8)


def ellipse(
    img: Canvas,
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    c: Color,
    thickness: float = -1,
    angle: float = 0,
    start: float = 0,
    end: float = 360,
) -> None:
    t = -1 if thickness < 0 else max(1, round(thickness * SS))
    axes = (round(ax * SS), round(ay * SS))
    cv2.ellipse(img, _p(cx, cy), axes, angle, start, end, _bgr(c), t, cv2.LINE_8)


def poly(img: Canvas, pts: list[tuple[float, float]], c: Color) -> None:
    arr = np.array([_p(x, y) for x, y in pts], np.int32)
    cv2.fillPoly(img, [arr], _bgr(c), cv2.LINE_8)


def line(img: Canvas, a: tuple[float, float], b: tuple[float, float], c: Color, w: float) -> None:
    cv2.line(img, _p(*a), _p(*b), _bgr(c), max(1, round(w * SS)), cv2.LINE_8)


def rounded_rect(
    img: Canvas, x0: float, y0: float, x1: float, y1: float, r: float, c: Color
) -> None:
    rect(img, x0 + r, y0, x1 - r, y1, c)
    rect(img, x0, y0 + r, x1, y1 - r, c)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        circle(img, cx, cy, r, c)


def star_points(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    """A regular five-pointed star, one point straight up."""
    inner = outer * math.cos(math.radians(72)) / math.cos(math.radians(36))
    pts = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        a = math.radians(-90 + 36 * i)
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


# ---------------------------------------------------------------- flags


def draw_flag_vn(img: Canvas, x: float, y: float, w: float) -> None:
    """Viet Nam: 2:3 red field; star centred, circumscribed radius 0.3 x height."""
    h = w * 2 / 3
    rect(img, x, y, x + w, y + h, VN_RED)
    poly(img, star_points(x + w / 2, y + h / 2, 0.3 * h), VN_YELLOW)


def draw_flag_la(img: Canvas, x: float, y: float, w: float) -> None:
    """Laos: 2:3; red, blue, red bands 1:2:1; white disc, diameter 0.8 x the blue band."""
    h = w * 2 / 3
    rect(img, x, y, x + w, y + h, LA_RED)
    rect(img, x, y + h / 4, x + w, y + 3 * h / 4, LA_BLUE)
    circle(img, x + w / 2, y + h / 2, 0.8 * (h / 2) / 2, WHITE)


def flag_image(draw: Callable[[Canvas, float, float, float], None]) -> Canvas:
    img = canvas(600, 400)
    draw(img, 0, 0, 600)
    return finish(img)


def flags_pair() -> Canvas:
    w, h = 1280, 720
    img = canvas(w, h)
    fw = 540
    fh = fw * 2 / 3
    y = (h - fh) / 2
    for x, draw in ((67, draw_flag_vn), (w - 67 - fw, draw_flag_la)):
        rect(img, x - 3, y - 3, x + fw + 3, y + fh + 3, GREY)  # thin frame
        draw(img, x, y, fw)
    return finish(img)


# ---------------------------------------------------------------- icons


def draw_passport(
    img: Canvas, cx: float, cy: float, h: float, cover: Color = PASSPORT_RED, emblem: Color = GOLD
) -> None:
    """A passport booklet of height h centred on (cx, cy)."""
    w = h * 0.7
    x0, y0 = cx - w / 2, cy - h / 2
    rounded_rect(img, x0, y0, x0 + w, y0 + h, h * 0.05, cover)
    rect(img, x0, y0, x0 + w * 0.06, y0 + h, tuple(int(v * 0.7) for v in cover))  # spine
    # Globe emblem.
    gx, gy, gr = cx + w * 0.03, y0 + h * 0.42, w * 0.28
    t = max(1.5, h * 0.012)
    circle(img, gx, gy, gr, emblem, t)
    ellipse(img, gx, gy, gr * 0.45, gr, emblem, t)
    line(img, (gx, gy - gr), (gx, gy + gr), emblem, t)
    line(img, (gx - gr, gy), (gx + gr, gy), emblem, t)
    for f in (-0.55, 0.55):
        half = gr * math.sqrt(1 - f * f)
        line(img, (gx - half, gy + f * gr), (gx + half, gy + f * gr), emblem, t)
    # e-passport chip mark: a small rectangle around a circle.
    mx, my, mw, mh = gx, y0 + h * 0.84, w * 0.2, h * 0.08
    rect(img, mx - mw / 2, my - mh / 2, mx + mw / 2, my + mh / 2, emblem)
    rect(img, mx - mw / 2 + t, my - mh / 2 + t, mx + mw / 2 - t, my + mh / 2 - t, cover)
    circle(img, mx, my, mh * 0.28, emblem, t)


def draw_suitcase(img: Canvas, cx: float, cy: float, s: float, c: Color) -> None:
    w, h = s, s * 0.7
    x0, y0 = cx - w / 2, cy - h / 2 + s * 0.08
    # Handle.
    hw, hh, t = w * 0.34, s * 0.16, s * 0.06
    rounded_rect(img, cx - hw / 2, y0 - hh, cx + hw / 2, y0 + t, t * 0.8, c)
    rect(img, cx - hw / 2 + t, y0 - hh + t, cx + hw / 2 - t, y0, _rgb_of(img, cx, y0 - hh - 2))
    rounded_rect(img, x0, y0, x0 + w, y0 + h, s * 0.07, c)
    # Straps.
    bg = _rgb_of(img, cx, y0 - hh - 2)
    for fx in (0.25, 0.75):
        rect(img, x0 + w * fx - t / 2, y0, x0 + w * fx + t / 2, y0 + h, bg)


def _rgb_of(img: Canvas, x: float, y: float) -> Color:
    b, g, r = img[round(y * SS), round(x * SS)]
    return (int(r), int(g), int(b))


def draw_cross(img: Canvas, cx: float, cy: float, s: float, c: Color) -> None:
    a = s * 0.2
    rect(img, cx - a, cy - s / 2, cx + a, cy + s / 2, c)
    rect(img, cx - s / 2, cy - a, cx + s / 2, cy + a, c)


def draw_walker(img: Canvas, cx: float, cy: float, s: float, c: Color) -> None:
    """A walking person, height s, centred on (cx, cy)."""
    t = s * 0.1
    top = cy - s / 2
    circle(img, cx + s * 0.04, top + s * 0.09, s * 0.09, c)
    neck, hip = (cx, top + s * 0.24), (cx - s * 0.03, top + s * 0.58)
    line(img, neck, hip, c, t * 1.3)
    line(img, (cx, top + s * 0.3), (cx + s * 0.17, top + s * 0.46), c, t)  # front arm
    line(img, (cx, top + s * 0.3), (cx - s * 0.16, top + s * 0.44), c, t)  # back arm
    line(img, hip, (cx + s * 0.16, top + s * 0.98), c, t)  # front leg
    line(img, hip, (cx - s * 0.18, top + s * 0.97), c, t)  # back leg


def arrow(img: Canvas, x0: float, x1: float, y: float, c: Color, w: float) -> None:
    head = w * 2.6
    line(img, (x0, y), (x1 - head * 0.9, y), c, w)
    poly(img, [(x1, y), (x1 - head, y - head * 0.7), (x1 - head, y + head * 0.7)], c)


def arrival_route() -> Canvas:
    """Laos -> health check -> border control -> customs -> Viet Nam."""
    w, h = 1280, 720
    img = canvas(w, h)
    y = 360
    # Start: Lao flag with a walker; end: Viet Nam flag.
    fw = 150
    draw_flag_la(img, 30, y - 170, fw)
    draw_walker(img, 105, y + 40, 150, INK)
    draw_flag_vn(img, w - 30 - fw, y - fw / 3, fw)
    # Stations.
    r = 88
    stations = [(385, HEALTH_GREEN), (640, BORDER_NAVY), (895, CUSTOMS_AMBER)]
    arrow(img, 195, stations[0][0] - r - 12, y, INK, 9)
    for (x, _), (nx, _) in itertools.pairwise(stations):
        arrow(img, x + r + 12, nx - r - 12, y, INK, 9)
    arrow(img, stations[-1][0] + r + 12, w - 30 - fw - 12, y, INK, 9)
    for x, c in stations:
        circle(img, x, y, r, c)
        circle(img, x, y, r - 8, WHITE, 4)
    draw_cross(img, stations[0][0], y, 95, WHITE)
    draw_passport(img, stations[1][0], y, 112, WHITE, BORDER_NAVY)
    draw_suitcase(img, stations[2][0], y, 104, WHITE)
    # Order marks under each station: 1, 2, 3 dots.
    for i, (x, c) in enumerate(stations):
        n = i + 1
        for k in range(n):
            circle(img, x + (k - (n - 1) / 2) * 30, y + r + 45, 10, c)
    return finish(img)


def passport_icon() -> Canvas:
    img = canvas(480, 480)
    draw_passport(img, 240, 240, 400)
    return finish(img)


# ---------------------------------------------------------------- prohibited


def draw_syringe(img: Canvas, cx: float, cy: float, s: float) -> None:
    t = s * 0.12
    ang = math.radians(-45)
    ux, uy = math.cos(ang), math.sin(ang)

    def at(d: float) -> tuple[float, float]:
        return (cx + ux * d, cy + uy * d)

    line(img, at(-0.42 * s), at(0.2 * s), INK, t * 1.6)  # barrel
    line(img, at(0.2 * s), at(0.46 * s), INK, t * 0.25)  # needle
    line(img, at(-0.55 * s), at(-0.42 * s), INK, t * 0.5)  # plunger rod
    px, py = at(-0.56 * s)
    line(img, (px - uy * t, py + ux * t), (px + uy * t, py - ux * t), INK, t * 0.5)  # thumb rest


def draw_pistol(img: Canvas, cx: float, cy: float, s: float) -> None:
    s *= 0.85
    x0, y0 = cx - s * 0.47, cy - s * 0.24
    rect(img, x0, y0, x0 + s * 0.95, y0 + s * 0.2, INK)  # slide and barrel
    poly(
        img,
        [
            (x0 + s * 0.55, y0 + s * 0.18),
            (x0 + s * 0.9, y0 + s * 0.18),
            (x0 + s * 0.98, y0 + s * 0.72),
            (x0 + s * 0.74, y0 + s * 0.72),
        ],
        INK,
    )  # grip
    ellipse(img, x0 + s * 0.53, y0 + s * 0.3, s * 0.1, s * 0.1, INK, s * 0.04, start=0, end=180)
    rect(img, x0 + s * 0.02, y0 - s * 0.05, x0 + s * 0.07, y0, INK)  # front sight


def draw_paw(img: Canvas, cx: float, cy: float, s: float) -> None:
    ellipse(img, cx, cy + s * 0.15, s * 0.24, s * 0.2, INK)
    for dx, dy, ang in ((-0.3, -0.08, -20), (-0.11, -0.28, -5), (0.11, -0.28, 5), (0.3, -0.08, 20)):
        ellipse(img, cx + dx * s, cy + dy * s, s * 0.09, s * 0.12, INK, angle=ang)


def draw_bomb(img: Canvas, cx: float, cy: float, s: float) -> None:
    circle(img, cx - s * 0.05, cy + s * 0.08, s * 0.32, INK)
    rect(img, cx + s * 0.08, cy - s * 0.3, cx + s * 0.24, cy - s * 0.16, INK)
    ellipse(img, cx + s * 0.3, cy - s * 0.3, s * 0.12, s * 0.12, INK, s * 0.04, start=180, end=300)
    # Spark.
    sx, sy = cx + s * 0.38, cy - s * 0.42
    for k in range(8):
        a = math.radians(k * 45)
        line(
            img,
            (sx + math.cos(a) * s * 0.03, sy + math.sin(a) * s * 0.03),
            (sx + math.cos(a) * s * 0.1, sy + math.sin(a) * s * 0.1),
            CUSTOMS_AMBER,
            s * 0.025,
        )


def no_sign(img: Canvas, cx: float, cy: float, r: float, icon: Callable[..., None]) -> None:
    circle(img, cx, cy, r, WHITE)
    icon(img, cx, cy, r * 1.3)
    t = r * 0.16
    circle(img, cx, cy, r - t / 2, NO_RED, t)
    d = (r - t / 2) * math.sqrt(0.5)
    line(img, (cx - d, cy - d), (cx + d, cy + d), NO_RED, t)


def prohibited() -> Canvas:
    w, h = 1280, 400
    img = canvas(w, h)
    r = 135
    for i, icon in enumerate((draw_syringe, draw_pistol, draw_paw, draw_bomb)):
        no_sign(img, 170 + i * 313, h / 2, r, icon)
    return finish(img)


# ---------------------------------------------------------------- clock


def clock_icon() -> Canvas:
    img = canvas(400, 400)
    c, r = 200, 170
    circle(img, c, c, r, WHITE)
    circle(img, c, c, r, INK, 14)
    for k in range(12):
        a = math.radians(k * 30 - 90)
        inner = r - (42 if k % 3 == 0 else 32)
        line(
            img,
            (c + math.cos(a) * inner, c + math.sin(a) * inner),
            (c + math.cos(a) * (r - 18), c + math.sin(a) * (r - 18)),
            INK,
            10 if k % 3 == 0 else 6,
        )
    # 10:10, the usual resting position of clock hands.
    for minutes_angle, length, width in ((10 * 30 + 5 - 90, 0.5, 16), (60 - 90, 0.74, 10)):
        a = math.radians(minutes_angle)
        line(img, (c, c), (c + math.cos(a) * r * length, c + math.sin(a) * r * length), INK, width)
    circle(img, c, c, 14, NO_RED)
    return finish(img)


IMAGES: dict[str, Callable[[], Canvas]] = {
    "flag-vn.png": lambda: flag_image(draw_flag_vn),
    "flag-la.png": lambda: flag_image(draw_flag_la),
    "flags-vn-la.png": flags_pair,
    "arrival-route.png": arrival_route,
    "passport.png": passport_icon,
    "prohibited.png": prohibited,
    "clock.png": clock_icon,
}


def main() -> None:
    for name, make in IMAGES.items():
        img = make()
        ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        if not ok:
            raise SystemExit(f"could not encode {name}")
        data = buf.tobytes()
        for out in OUT_DIRS:
            out.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
        h, w = img.shape[:2]
        print(f"{name}: {w}x{h}, {len(data)} bytes")


if __name__ == "__main__":
    main()
