"""Operations helpers shared by several test packages: a free port, the default Redis address."""

from __future__ import annotations

import socket

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
