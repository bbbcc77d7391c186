"""A transparency-log witness: C2SP tlog-witness over HTTP, cosignature/v1 (Ed25519).

Anyone — a civil-affairs bureau, a partner charity, a journalist — runs one with one
command, with its own key and its own small state file::

    python -m charity.auditlog.witness --name witness.example/w1 \\
        --key-file w1.key --state w1.json \\
        --log 'charity.example/log+1a2b3c4d+AbC...' --listen 127.0.0.1:8790

(``--key-file`` is created on first use; ``--print-key`` prints the witness's public key
for the log operator and for verifiers to configure.) The log POSTs each new checkpoint
to ``/add-checkpoint`` with a consistency proof from the last checkpoint this witness
cosigned. The witness checks the log's signature, that the new tree extends the one it
saw last (RFC 6962 consistency), saves the new checkpoint, and only then answers with its
cosignature. It refuses, per the spec:

* 404 an origin it does not witness; 403 no valid signature by the log's key;
* 400 a malformed request, or an old size above the new size;
* 409 an old size that is not the size it last cosigned (the body says which size), or
  the same size with a different root: a fork;
* 422 a consistency proof that does not verify: a history that does not extend the one
  it signed — a split view shown to this witness is refused here.

Standard library + ``cryptography``; besides this file it needs ``verifier.py``,
``merkle.py``, ``canonical.py``, ``tiles.py`` and ``cosignature.py`` from this folder.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__:
    from . import cosignature, merkle
    from .verifier import NoteError, VerifierKey, open_note, parse_checkpoint, parse_verifier_key
else:  # run as a copied script
    import cosignature  # type: ignore[no-redef]
    import merkle  # type: ignore[no-redef]
    from verifier import (  # type: ignore[no-redef]
        NoteError,
        VerifierKey,
        open_note,
        parse_checkpoint,
        parse_verifier_key,
    )

MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"


class RefusedError(Exception):
    def __init__(self, status: int, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.size = size


@dataclass
class Witness:
    """The witness's key, the logs it follows, and the last checkpoint it cosigned of each."""

    signer: cosignature.WitnessSigner
    logs: dict[str, VerifierKey]
    state_path: Path
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> Witness:
        if self.state_path.exists():
            self.state = json.loads(self.state_path.read_text("utf-8")).get("logs", {})
        return self

    def _save(self) -> None:
        temporary = self.state_path.with_name(self.state_path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"witness": str(self.signer.public), "logs": self.state}, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.state_path)

    def add_checkpoint(self, body: bytes) -> str:
        """Check a request body; return the cosignature line(s) or raise :class:`RefusedError`."""
        old_size, proof, note = parse_request(body)
        try:
            text, _signatures = cosignature.split_note(note)
        except cosignature.CosignatureError:
            raise RefusedError(400, "the checkpoint is not a signed note") from None
        origin = text.split("\n", 1)[0]
        key = self.logs.get(origin)
        if key is None:
            raise RefusedError(404, f"unknown log origin {origin!r}")
        try:
            checkpoint = parse_checkpoint(open_note(note, key))
        except NoteError as error:
            raise RefusedError(403, f"no valid signature by the log's key: {error}") from None
        if old_size > checkpoint.size:
            raise RefusedError(400, "the old size is above the checkpoint's size")
        with self.lock:  # check and persist atomically (the spec's rollback race)
            latest = self.state.get(origin)
            latest_size = int(latest["size"]) if latest else 0
            if old_size != latest_size:
                raise RefusedError(
                    409, f"the last cosigned size is {latest_size}", size=latest_size
                )
            if latest is not None:
                latest_root = base64.b64decode(latest["root"])
                if old_size == checkpoint.size:
                    if proof:
                        raise RefusedError(400, "equal sizes take an empty proof")
                    if latest_root != checkpoint.root:
                        raise RefusedError(409, "a different root for the size already cosigned")
                else:
                    try:
                        merkle.verify_consistency(
                            old_size, checkpoint.size, latest_root, checkpoint.root, proof
                        )
                    except merkle.VerificationError as error:
                        raise RefusedError(
                            422, f"the consistency proof does not verify: {error}"
                        ) from None
            elif proof:
                raise RefusedError(400, "the proof must be empty from size 0")
            self.state[origin] = {
                "size": checkpoint.size,
                "root": base64.b64encode(checkpoint.root).decode(),
                "checkpoint": note,
            }
            self._save()
        return self.signer.cosign(text, int(time.time()))


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedError(400, "the body is not UTF-8") from None
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise RefusedError(400, "no blank line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    size_text = first[4:]
    if (
        not first.startswith("old ")
        or not size_text.isdigit()
        or (size_text != "0" and size_text.startswith("0"))
    ):
        raise RefusedError(400, "the first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise RefusedError(400, f"more than {MAX_PROOF_LINES} proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except (binascii.Error, ValueError):
        raise RefusedError(400, "a proof line is not base64") from None
    if any(len(node) != merkle.HASH_SIZE for node in proof):
        raise RefusedError(400, "a proof hash is not 32 bytes")
    return int(size_text), proof, note


def make_handler(witness: Witness, *, quiet: bool = False) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the spec recommends
        server_version = "charity-witness"

        def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/":
                self._send(200, f"{witness.signer.public}\n")
            else:
                self._send(404, "not found\n")

        def do_POST(self) -> None:
            if self.path != "/add-checkpoint":
                self._send(404, "not found\n")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._send(411, "Content-Length required\n")
                return
            if not 0 < length <= MAX_BODY:
                self.close_connection = True
                self._send(413 if length > 0 else 400, "bad body length\n")
                return
            body = self.rfile.read(length)
            try:
                self._send(200, witness.add_checkpoint(body))
            except RefusedError as refusal:
                if refusal.size is not None and refusal.status == 409:
                    self._send(409, f"{refusal.size}\n", SIZE_TYPE)
                else:
                    self._send(refusal.status, refusal.message + "\n")

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
                super().log_message(format, *args)

    return Handler


def load_or_create_key(name: str, path: Path) -> cosignature.WitnessSigner:
    if path.exists():
        try:
            seed = base64.b64decode(path.read_text().strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SystemExit(f"{path}: not a witness key file (base64 of a 32-byte seed)") from None
        return cosignature.signer_from_seed(name, seed)
    signer = cosignature.new_signer(name)
    path.write_text(base64.b64encode(signer.seed()).decode() + "\n")
    path.chmod(0o600)
    print(f"created a new witness key in {path}", file=sys.stderr)
    return signer


def parse_log(value: str) -> tuple[str, VerifierKey]:
    """``VKEY`` (the origin is the key's name) or ``ORIGIN VKEY``."""
    parts = value.split()
    try:
        key = parse_verifier_key(parts[-1])
    except NoteError as error:
        raise argparse.ArgumentTypeError(f"--log: {error}") from None
    if len(parts) > 2:
        raise argparse.ArgumentTypeError("--log takes 'VKEY' or 'ORIGIN VKEY'")
    return (parts[0] if len(parts) == 2 else key.name), key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Witness a transparency log (C2SP tlog-witness).")
    parser.add_argument("--name", required=True, help="the witness's key name, e.g. mca.example/w1")
    parser.add_argument("--key-file", required=True, help="its private key (created if missing)")
    parser.add_argument("--state", help="JSON file keeping the last cosigned checkpoints")
    parser.add_argument(
        "--log",
        action="append",
        type=parse_log,
        default=[],
        help="a log's key: 'VKEY' or 'ORIGIN VKEY'",
    )
    parser.add_argument("--listen", default="127.0.0.1:8790", help="host:port (%(default)s)")
    parser.add_argument("--print-key", action="store_true", help="print the witness key and exit")
    parser.add_argument("--quiet", action="store_true", help="no request log")
    args = parser.parse_args(argv)
    try:
        signer = load_or_create_key(args.name, Path(args.key_file))
    except cosignature.CosignatureError as error:
        parser.error(str(error))
    if args.print_key:
        print(signer.public)
        return 0
    if not args.state or not args.log:
        parser.error("--state and at least one --log are needed to serve")
    host, _, port = args.listen.rpartition(":")
    witness = Witness(signer, dict(args.log), Path(args.state)).load()
    server = ThreadingHTTPServer(
        (host or "127.0.0.1", int(port)), make_handler(witness, quiet=args.quiet)
    )
    server.daemon_threads = True
    bound = server.server_address
    print(f"witness {signer.public} listening on http://{bound[0]}:{bound[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
