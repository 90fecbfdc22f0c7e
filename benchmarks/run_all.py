"""Run every benchmark and print one JSON document with all figures (``make bench``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_search.py", "bench_import.py", "bench_startup.py", "bench_ingest.py", "bench_verify.py",
           "bench_gui_stall.py", "bench_protocols.py", "bench_serial_stream.py", "bench_camera.py",
           "bench_render.py", "bench_sync_kits.py", "bench_upload.py", "bench_full_sync.py",
           "bench_inspection_inputs.py", "bench_casefile.py", "bench_soak.py", "bench_console.py",
           "bench_logger.py")


def main() -> int:
    out, ok = {}, True
    for name in SCRIPTS:
        p = subprocess.run([sys.executable, str(HERE / name)], capture_output=True, text=True,
                           cwd=str(HERE.parent))
        if p.returncode not in (0, 1) or not p.stdout.strip():
            print(p.stderr, file=sys.stderr)
            return 2
        out[name.removesuffix(".py")] = json.loads(p.stdout)
        ok = ok and p.returncode == 0
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
