"""A simulated camera for demonstrations, training and tests: a moving synthetic scene (a works
with a smoking stack, a lorry on the road, an outfall into a river) with the time burned in, or a
video file played at its own speed in a loop. It answers like ``cv2.VideoCapture``.

Ports: ``sim`` or ``sim:1280x720@25`` (size and frame rate), ``sim:...`` also takes ``?seed=N``.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

LOCAL = timezone(timedelta(hours=8))
_SPEC = re.compile(r"^sim(?::(?P<w>\d+)x(?P<h>\d+))?(?:@(?P<fps>\d+(?:\.\d+)?))?(?:\?seed=(?P<seed>\d+))?$")


def is_sim(port: str) -> bool:
    return _SPEC.match(port) is not None


class SyntheticCamera:
    """Frames paced to ``fps``; ``read()`` returns ``(True, frame)`` like OpenCV (BGR, uint8)."""

    def __init__(self, width: int = 1280, height: int = 720, fps: float = 25.0, seed: int = 1,
                 label: str = "KIT-CAM SIM") -> None:
        import cv2

        self.cv2 = cv2
        self.width, self.height, self.fps, self.label = width, height, fps, label
        self.rng = np.random.default_rng(seed)
        self.n = 0
        self._next = time.monotonic()
        self._open = True
        self.background = self._background()
        self.puffs: list[list[float]] = []

    @classmethod
    def from_port(cls, port: str) -> SyntheticCamera:
        m = _SPEC.match(port)
        if m is None:
            raise ValueError(port)
        return cls(int(m["w"] or 1280), int(m["h"] or 720), float(m["fps"] or 25), int(m["seed"] or 1))

    def _background(self) -> np.ndarray:
        cv2, w, h = self.cv2, self.width, self.height
        img = np.zeros((h, w, 3), np.uint8)
        horizon = int(h * 0.55)
        sky = np.linspace(235, 170, horizon, dtype=np.float32)
        img[:horizon, :, 0] = sky[:, None]  # B
        img[:horizon, :, 1] = (sky * 0.85)[:, None]
        img[:horizon, :, 2] = (sky * 0.7)[:, None]
        hills = np.array([[0, horizon], *[(x, int(horizon - 40 * h / 720 * (1 + math.sin(x / w * 7))))
                                          for x in range(0, w + 1, max(1, w // 32))], [w, horizon]], np.int32)
        cv2.fillPoly(img, [hills], (90, 130, 95))
        img[horizon:, :] = (80, 115, 90)
        road_y = int(h * 0.78)
        cv2.rectangle(img, (0, road_y), (w, road_y + int(h * 0.07)), (95, 95, 100), -1)
        for x in range(0, w, int(w / 16)):
            cv2.line(img, (x, road_y + int(h * 0.035)), (x + int(w / 40), road_y + int(h * 0.035)), (220, 220, 220), 2)
        river = np.array([[0, int(h * 0.92)], [w, int(h * 0.88)], [w, h], [0, h]], np.int32)
        cv2.fillPoly(img, [river], (140, 110, 60))
        # the works: halls, a stack and an outfall pipe
        s = h / 720
        x0 = int(w * 0.18)
        cv2.rectangle(img, (x0, int(horizon - 120 * s)), (x0 + int(260 * s), horizon + int(60 * s)),
                      (150, 150, 160), -1)
        cv2.rectangle(img, (x0 + int(270 * s), int(horizon - 70 * s)), (x0 + int(430 * s), horizon + int(60 * s)),
                      (130, 140, 150), -1)
        for i in range(6):
            cv2.rectangle(img, (x0 + int((20 + 40 * i) * s), int(horizon - 90 * s)),
                          (x0 + int((45 + 40 * i) * s), int(horizon - 60 * s)), (90, 80, 60), -1)
        self.stack_top = (x0 + int(200 * s), int(horizon - 300 * s))
        cv2.rectangle(img, (self.stack_top[0] - int(14 * s), self.stack_top[1]),
                      (self.stack_top[0] + int(14 * s), int(horizon - 110 * s)), (170, 170, 175), -1)
        for k in range(3):
            y = self.stack_top[1] + int((20 + 25 * k) * s)
            cv2.rectangle(img, (self.stack_top[0] - int(14 * s), y), (self.stack_top[0] + int(14 * s), y + int(8 * s)),
                          (40, 40, 200), -1)
        self.outfall = (int(w * 0.62), int(h * 0.9))
        cv2.rectangle(img, (self.outfall[0] - int(6 * s), int(h * 0.83)), (self.outfall[0] + int(6 * s),
                      self.outfall[1]), (60, 60, 60), -1)
        return img

    # ------------------------------------------------------------ cv2.VideoCapture look-alike
    def isOpened(self) -> bool:  # noqa: N802
        return self._open

    def release(self) -> None:
        self._open = False

    def get(self, prop: int) -> float:
        cv2 = self.cv2
        return {cv2.CAP_PROP_FRAME_WIDTH: self.width, cv2.CAP_PROP_FRAME_HEIGHT: self.height,
                cv2.CAP_PROP_FPS: self.fps}.get(prop, 0.0)

    def set(self, prop: int, value: float) -> bool:
        return False

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self._open:
            return False, None
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + 1 / self.fps, time.monotonic() - 1 / self.fps)
        self.n += 1
        return True, self.frame(self.n, datetime.now(LOCAL))

    def frame(self, n: int, when: datetime) -> np.ndarray:
        cv2, w, h = self.cv2, self.width, self.height
        s = h / 720
        img = self.background.copy()
        t = n / self.fps
        # smoke: puffs rise from the stack and drift with the wind
        if n % 3 == 0:
            self.puffs.append([float(self.stack_top[0]), float(self.stack_top[1]), 10 * s, 0.0])
        kept = []
        for p in self.puffs:
            p[0] += (2.2 + self.rng.normal(0, 0.4)) * s
            p[1] -= (0.7 + self.rng.normal(0, 0.2)) * s
            p[2] += 0.45 * s
            p[3] += 1
            if p[3] < 120 and p[1] > 0:
                kept.append(p)
                grey = int(110 + p[3] * 0.9)
                cv2.circle(img, (int(p[0]), int(p[1])), int(p[2]), (grey, grey, grey), -1, cv2.LINE_AA)
        self.puffs = kept
        # a lorry on the road
        road_y = int(h * 0.78)
        x = int((t * 140 * s) % (w + 300 * s)) - int(200 * s)
        cv2.rectangle(img, (x, road_y - int(40 * s)), (x + int(120 * s), road_y + int(30 * s)), (30, 90, 200), -1)
        cv2.rectangle(img, (x + int(120 * s), road_y - int(10 * s)), (x + int(160 * s), road_y + int(30 * s)),
                      (40, 40, 160), -1)
        for wx in (x + int(25 * s), x + int(135 * s)):
            cv2.circle(img, (wx, road_y + int(32 * s)), int(12 * s), (20, 20, 20), -1)
        # the outfall: a dark plume spreading in the river
        for k in range(8):
            phase = (t * 1.5 + k / 8) % 1.0
            r = int((8 + 60 * phase) * s)
            cv2.ellipse(img, self.outfall, (r * 2, r // 2 + 2), 0, 0, 360, (70, 80, 60), 2, cv2.LINE_AA)
        # the burned-in clock and frame number
        stamp = when.strftime("%Y-%m-%d %H:%M:%S") + f".{when.microsecond // 1000:03d} +08:00"
        scale = 0.9 * s
        cv2.rectangle(img, (0, 0), (int(720 * s), int(78 * s)), (0, 0, 0), -1)
        cv2.putText(img, stamp, (int(12 * s), int(32 * s)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2,
                    cv2.LINE_AA)
        cv2.putText(img, f"{self.label}  #{n:06d}", (int(12 * s), int(66 * s)), cv2.FONT_HERSHEY_SIMPLEX,
                    scale * 0.75, (0, 220, 255), 2, cv2.LINE_AA)
        return img


class LoopingVideo:
    """A video file played at its own frame rate, from the start again at its end."""

    def __init__(self, path: str) -> None:
        import cv2

        self.cv2 = cv2
        self.path = path
        self.cap = cv2.VideoCapture(path)
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 25.0
        self._next = time.monotonic()

    def isOpened(self) -> bool:  # noqa: N802
        return bool(self.cap.isOpened())

    def release(self) -> None:
        self.cap.release()

    def get(self, prop: int) -> float:
        return float(self.cap.get(prop))

    def set(self, prop: int, value: float) -> bool:
        return False

    def read(self) -> tuple[bool, Any]:
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + 1 / self.fps, time.monotonic() - 1 / self.fps)
        ok, frame = self.cap.read()
        if not ok:
            self.cap.set(self.cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.cap.read()
        return ok, frame


def is_video_file(port: str) -> bool:
    return Path(port).suffix.lower() in (".mp4", ".avi", ".mov", ".mkv", ".webm") and Path(port).is_file()
