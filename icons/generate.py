#!/usr/bin/env python3
"""Draws Latchkey's tray and app icons as PNGs, with no dependencies beyond the standard library.

    python3 icons/generate.py      # rewrites icons/*.png

Tray icons: a padlock with a status mark, in three states and two variants.
- colour (Linux, Windows): a slate padlock; ok = green dot, attention = amber dot, broken = red dot.
- template (macOS menu bar; black + alpha, the system tints it): ok = the padlock alone,
  attention = a ring, broken = a filled disc, so the state reads without colour too.
App icon: icon.png (128 px), the padlock on a rounded tile.
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SS = 4  # supersamples per axis

SLATE = (72, 86, 107)
TILE = (38, 99, 235)
WHITE = (255, 255, 255)
STATE_COLOURS = {"ok": (34, 160, 75), "attention": (232, 160, 18), "broken": (214, 48, 49)}


def png(path, w, h, pixels):
    raw = b"".join(b"\x00" + bytes(v for px in pixels[y * w:(y + 1) * w] for v in px) for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def rounded_rect(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r and x0 <= x <= x1 and y0 <= y <= y1


def disc(x, y, cx, cy, r):
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def padlock(x, y, s):
    """The padlock in a 64-unit box scaled by s (coordinates already divided by s)."""
    x, y = x / s, y / s
    body = rounded_rect(x, y, 12, 28, 52, 58, 6)
    keyhole = disc(x, y, 32, 40, 4.2) or (30 <= x <= 34 and 40 <= y <= 50)
    # Shackle: a half ring above the body, with straight legs into it.
    cx, cy, ro, ri = 32, 22, 14, 8.5
    d = math.hypot(x - cx, y - cy)
    ring = ri <= d <= ro and y <= cy
    legs = (cx - ro <= x <= cx - ri or cx + ri <= x <= cx + ro) and cy <= y <= 30
    return (body and not keyhole) or ring or legs


def render(w, h, shade):
    """shade(x, y) -> (r, g, b, a) or None for one sample point; returns supersampled RGBA pixels."""
    out = []
    for py in range(h):
        for px in range(w):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SS):
                for sx in range(SS):
                    c = shade(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS)
                    if c:
                        a = c[3] / 255
                        acc[0] += c[0] * a
                        acc[1] += c[1] * a
                        acc[2] += c[2] * a
                        acc[3] += a
            n = SS * SS
            a = acc[3] / n
            if a == 0:
                out.append((0, 0, 0, 0))
            else:
                out.append((round(acc[0] / acc[3]), round(acc[1] / acc[3]), round(acc[2] / acc[3]), round(a * 255)))
    return out


def tray(size, state, template):
    s = size / 64
    mark_c, mark_r, gap = (50 * s, 50 * s), 11 * s, 3.5 * s

    def shade(x, y):
        in_mark = disc(x, y, *mark_c, mark_r)
        in_gap = disc(x, y, *mark_c, mark_r + gap)
        ink = (0, 0, 0) if template else SLATE
        if template:
            if state == "attention" and in_mark:
                return (0, 0, 0, 255) if not disc(x, y, *mark_c, mark_r - 4 * s) else None
            if state == "broken" and in_mark:
                return (0, 0, 0, 255)
            if state != "ok" and in_gap:
                return None
        else:
            if in_mark:
                return STATE_COLOURS[state] + (255,)
            if in_gap:
                return None
        return ink + (255,) if padlock(x, y, s) else None

    return render(size, size, shade)


def app_icon(size):
    s = size / 64

    def shade(x, y):
        if not rounded_rect(x / s, y / s, 2, 2, 62, 62, 14):
            return None
        # The padlock at 80 %, centred on the tile.
        k = 0.8
        lx, ly = (x / s - 32) / k + 32, (y / s - 34) / k + 32
        return WHITE + (255,) if padlock(lx, ly, 1) else TILE + (255,)

    return render(size, size, shade)


def main():
    for state in STATE_COLOURS:
        for template in (False, True):
            name = f"tray-{state}{'-template' if template else ''}.png"
            png(os.path.join(HERE, name), 64, 64, tray(64, state, template))
            print("wrote", name)
    for size, name in ((128, "icon.png"), (32, "32x32.png")):
        png(os.path.join(HERE, name), size, size, app_icon(size))
        print("wrote", name)


if __name__ == "__main__":
    main()
