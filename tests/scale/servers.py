"""Starting small local servers for a test and stopping them afterwards."""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path


@contextlib.contextmanager
def running(
    command: Sequence[str], *, ready: str, cwd: Path | None = None, timeout: float = 30.0
) -> Iterator[int]:
    """Run ``command`` (unbuffered output) until its output matches ``ready``, whose first
    group is the port it listens on; yield that port; stop it afterwards."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PYTHONUNBUFFERED": "1", **__import__("os").environ},
    )
    found: list[int] = []
    seen: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            match = re.search(ready, line)
            if match and not found:
                found.append(int(match.group(1)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while not found:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[:4]} did not start: {''.join(seen)[-2000:]}")
            time.sleep(0.02)
        yield found[0]
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
