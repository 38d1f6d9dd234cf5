"""An HTTP proxy on 127.0.0.1 between boto3 and moto that answers some requests with AWS errors.

moto never throttles, never fails part of a DeleteObjects and never drops a connection; this proxy does,
by rule, so those paths run for real through botocore's retries and parsers.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        """The JSON protocols' operation, e.g. DynamoDB_20120810.UpdateItem."""
        return self.headers.get("x-amz-target", "")


@dataclass
class Rule:
    """When `matches` says yes (at most `times` times; None = always), answer with `respond` instead."""

    matches: Callable[[Request], bool]
    respond: Callable[[Request, Callable[[Request], tuple[int, dict, bytes]]], tuple[int, dict, bytes] | None]
    times: int | None = None
    hits: int = 0


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def start(self) -> str:
        proxy = self
        target = urlparse(self.upstream)
        lock = threading.Lock()

        def forward(req: Request) -> tuple[int, dict, bytes]:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in req.headers.items() if k not in ("host", "content-length")}
            headers["content-length"] = str(len(req.body))
            conn.request(req.method, req.path, body=req.body, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            conn.close()
            return answer.status, dict(answer.getheaders()), body

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                req = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                with lock:
                    proxy.seen.append(req.target or f"{req.method} {req.path}")
                    rule = next(
                        (r for r in proxy.rules if (r.times is None or r.hits < r.times) and r.matches(req)), None
                    )
                    if rule:
                        rule.hits += 1
                answer = rule.respond(req, forward) if rule else forward(req)
                if answer is None:  # drop the connection without a word
                    self.close_connection = True
                    self.connection.close()
                    return
                status, headers, body = answer
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # Headers and body go out in two writes: without TCP_NODELAY (inherited by accepted sockets on Linux),
        # Nagle and delayed ACKs add ~40 ms to every request.
        self._server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def json_error(status: int, code: str, message: str = "injected") -> Callable:
    """An error in the JSON protocols' shape (DynamoDB, Step Functions)."""
    body = json.dumps({"__type": f"com.amazonaws.service#{code}", "message": message}).encode()

    def respond(req: Request, forward) -> tuple[int, dict, bytes]:
        return status, {"content-type": "application/x-amz-json-1.0", "x-amzn-errortype": code}, body

    return respond


def s3_error(status: int, code: str, message: str = "injected") -> Callable:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"

    def respond(req: Request, forward) -> tuple[int, dict, bytes]:
        return status, {"content-type": "application/xml"}, body.encode()

    return respond


def drop_connection(req: Request, forward) -> None:
    return None


def is_target(operation: str) -> Callable[[Request], bool]:
    return lambda req: req.target.endswith("." + operation)


def is_delete_objects(req: Request) -> bool:
    return req.method == "POST" and "delete" in urlparse(req.path).query.split("&")


def partial_delete(fail_when: Callable[[str], bool], code: str = "AccessDenied") -> Callable:
    """Forward a DeleteObjects without the keys `fail_when` picks, and report those keys as Errors in the 200
    answer, as S3 does when some keys of a batch fail."""

    def respond(req: Request, forward) -> tuple[int, dict, bytes]:
        text = req.body.decode()
        objects = re.findall(r"<Object>.*?</Object>", text, flags=re.S)
        failing = [o for o in objects if fail_when(re.search(r"<Key>(.*?)</Key>", o, re.S).group(1))]
        kept = text
        for obj in failing:
            kept = kept.replace(obj, "", 1)
        headers = {k: v for k, v in req.headers.items() if not k.startswith(("content-md5", "x-amz-checksum"))}
        headers.pop("x-amz-sdk-checksum-algorithm", None)
        status, answer_headers, body = forward(Request(req.method, req.path, headers, kept.encode()))
        errors = "".join(
            f"<Error><Key>{re.search(r'<Key>(.*?)</Key>', o, re.S).group(1)}</Key><Code>{code}</Code>"
            f"<Message>injected partial failure</Message></Error>"
            for o in failing
        )
        body = body.replace(b"</DeleteResult>", errors.encode() + b"</DeleteResult>")
        return status, answer_headers, body

    return respond
