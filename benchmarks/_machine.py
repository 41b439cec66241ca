"""What a benchmark ran on, printed at the top of every benchmark's output."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(*packages: str) -> str:
    """CPU, cores, Python, the given packages' versions, OS."""
    parts = [cpu_model(), f"{os.cpu_count()} cores", f"Python {sys.version.split()[0]}"]
    for p in packages:
        try:
            parts.append(f"{p} {version(p)}")
        except PackageNotFoundError:
            parts.append(f"{p} not installed")
    parts.append(f"{platform.system()} {platform.release()}")
    return "; ".join(parts)
