"""The console's map, laid out on the server (the page needs no script): points placed on tiles
from a configured tile server (Web Mercator, ``{z}/{x}/{y}`` URLs), or — with none configured, and
in tests — on a plain coordinate canvas over Guangxi with a one-degree graticule and the division
seats' names."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Guangxi, with a margin (degrees): west, south, east, north
GUANGXI = (104.2, 20.8, 112.2, 26.5)

# the seats of Guangxi's 14 cities (approximate, degrees): orientation on the canvas
SEATS = {
    "4501": ("南宁", "Nanning", 108.37, 22.82), "4502": ("柳州", "Liuzhou", 109.41, 24.33),
    "4503": ("桂林", "Guilin", 110.29, 25.27), "4504": ("梧州", "Wuzhou", 111.28, 23.48),
    "4505": ("北海", "Beihai", 109.12, 21.48), "4506": ("防城港", "Fangchenggang", 108.35, 21.69),
    "4507": ("钦州", "Qinzhou", 108.65, 21.98), "4508": ("贵港", "Guigang", 109.60, 23.11),
    "4509": ("玉林", "Yulin", 110.16, 22.64), "4510": ("百色", "Baise", 106.62, 23.90),
    "4511": ("贺州", "Hezhou", 111.57, 24.40), "4512": ("河池", "Hechi", 108.09, 24.69),
    "4513": ("来宾", "Laibin", 109.23, 23.75), "4514": ("崇左", "Chongzuo", 107.36, 22.38),
}


@dataclass
class MapView:
    width: int
    height: int
    points: list[dict[str, Any]]  # marks: one point, or a cluster with its count
    tiles: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    attribution: str = ""


def _bounds(points: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    w, s, e, n = GUANGXI
    for p in points:  # a point outside Guangxi (a case across the border) still shows
        w, s, e, n = min(w, p["lon"] - 0.2), min(s, p["lat"] - 0.2), max(e, p["lon"] + 0.2), max(n, p["lat"] + 0.2)
    return w, s, e, n


def layout(points: list[dict[str, Any]], tile_url: str | None = None, attribution: str = "",
           width: int = 960, height: int = 640, lang: str = "zh_CN") -> MapView:
    """Place ``points`` (dicts with lat, lon and whatever the page shows) in a width × height box."""
    points = [p for p in points if p.get("lat") is not None and p.get("lon") is not None
              and -90 <= p["lat"] <= 90 and -180 <= p["lon"] <= 180]
    w, s, e, n = _bounds(points)
    if tile_url:
        return _on_tiles(points, tile_url, attribution, (w, s, e, n), width, height)
    sx = width / (e - w)
    sy = height / (n - s)
    k = min(sx, sy / 1.0)  # degrees kept square enough at these latitudes
    ox = (width - (e - w) * k) / 2
    oy = (height - (n - s) * k) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return ox + (lon - w) * k, oy + (n - lat) * k

    view = MapView(width, height, [])
    for meridian in range(math.ceil(w), math.floor(e) + 1):
        x, _y = xy(s, meridian)
        view.lines.append({"x1": round(x, 1), "y1": 0, "x2": round(x, 1), "y2": height, "label": f"{meridian}°E"})
    for parallel in range(math.ceil(s), math.floor(n) + 1):
        _x, y = xy(parallel, w)
        view.lines.append({"x1": 0, "y1": round(y, 1), "x2": width, "y2": round(y, 1), "label": f"{parallel}°N"})
    for zh, en, seat_lon, seat_lat in SEATS.values():
        x, y = xy(seat_lat, seat_lon)
        view.labels.append({"x": round(x, 1), "y": round(y, 1), "text": zh if lang == "zh_CN" else en})
    for p in points:
        x, y = xy(p["lat"], p["lon"])
        view.points.append(p | {"x": round(x, 1), "y": round(y, 1)})
    view.points = _clustered(view.points)
    return view


CELL = 10  # points closer than this (pixels) are drawn as one, with their count


def _clustered(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One mark per CELL × CELL pixels and kind (the page stays small at a province's scale): a
    single point keeps its link to its case; several become a mark with their number."""
    cells: dict[tuple[int, int, str], list[dict[str, Any]]] = {}
    for p in points:
        cells.setdefault((int(p["x"] // CELL), int(p["y"] // CELL), str(p.get("kind"))), []).append(p)
    out = []
    for group in cells.values():
        if len(group) == 1:
            out.append(group[0] | {"count": 1})
        else:
            out.append({"kind": group[0].get("kind"), "count": len(group), "id": None,
                        "x": round(sum(p["x"] for p in group) / len(group), 1),
                        "y": round(sum(p["y"] for p in group) / len(group), 1),
                        "title": "", "party": ""})
    return sorted(out, key=lambda p: p["kind"] == "overdue")  # the overdue ones drawn last, on top


def _merc(lat: float, lon: float, z: int) -> tuple[float, float]:
    """World pixel coordinates at zoom ``z`` (256-pixel tiles)."""
    size = 256 * 2**z
    x = (lon + 180) / 360 * size
    lat = max(min(lat, 85.0511), -85.0511)
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * size
    return x, y


def _on_tiles(points: list[dict[str, Any]], url: str, attribution: str, box: tuple[float, float, float, float],
              width: int, height: int) -> MapView:
    w, s, e, n = box
    z = 1
    for zoom in range(1, 19):  # the largest zoom at which the box fits
        x0, y0 = _merc(n, w, zoom)
        x1, y1 = _merc(s, e, zoom)
        if x1 - x0 > width or y1 - y0 > height:
            break
        z = zoom
    x0, y0 = _merc(n, w, z)
    x1, y1 = _merc(s, e, z)
    left = (x0 + x1) / 2 - width / 2
    top = (y0 + y1) / 2 - height / 2
    view = MapView(width, height, [], attribution=attribution)
    for tx in range(int(left // 256), int((left + width) // 256) + 1):
        for ty in range(int(top // 256), int((top + height) // 256) + 1):
            if 0 <= ty < 2**z:
                view.tiles.append({"src": url.replace("{z}", str(z)).replace("{x}", str(tx % 2**z))
                                   .replace("{y}", str(ty)),
                                   "x": round(tx * 256 - left), "y": round(ty * 256 - top)})
    for p in points:
        px, py = _merc(p["lat"], p["lon"], z)
        view.points.append(p | {"x": round(px - left, 1), "y": round(py - top, 1)})
    view.points = _clustered(view.points)
    return view
