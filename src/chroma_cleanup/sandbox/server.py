"""Run moto's server on loopback, seed it, and say where it is until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from chroma_cleanup import sandbox_state
from chroma_cleanup.aws.clients import AwsSession
from chroma_cleanup.errors import ConfigError

REGION = "us-east-1"


@dataclass
class LocalAws:
    """moto's server in this process, on 127.0.0.1 only."""

    port: int = 0
    _server: object = None

    def start(self) -> str:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise ConfigError(
                "the sandbox needs moto", "install the sandbox extra: pip install 'chroma-cleanup[sandbox]'"
            ) from None
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # verbose=False does not silence it
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        try:
            self._server.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on 127.0.0.1:{self.port}: {exc.strerror}", "pick another --port"
            ) from None
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def run_sandbox(port: int, receipts: int, corrupt: tuple[str, ...], ready: Callable[[str, object], None]) -> None:
    """Start, seed, publish the state file, then block until SIGINT or SIGTERM."""
    from chroma_cleanup.sandbox.seed import seed

    sandbox_state.refuse_second_sandbox()
    aws = LocalAws(port)
    endpoint = aws.start()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        seeded = seed(
            AwsSession(region=REGION, endpoint_url=endpoint, credentials=sandbox_state.SANDBOX_CREDENTIALS),
            receipts=receipts,
            corrupt=corrupt,
        )
        sandbox_state.write(endpoint, REGION, seeded.outputs)
        ready(endpoint, seeded)
        stop.wait()
    finally:
        sandbox_state.remove()
        aws.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
