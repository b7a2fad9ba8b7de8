"""Fixtures of the SSO tests: registered services of the personas' établissement."""

from __future__ import annotations

import pytest

from cartable.directory.models import Profile
from cartable.sso.models import Service

SERVICE_URL = "https://pronote.exemple.fr/pronote/eleve.html"


def make_service(etab, **extra) -> Service:
    extra.setdefault("name", "Pronote")
    extra.setdefault("access_url", SERVICE_URL)
    extra.setdefault("service_patterns", "https://pronote.exemple.fr/pronote/*")
    extra.setdefault("allowed_profiles", [Profile.ELEVE, Profile.RESPONSABLE, Profile.ENSEIGNANT])
    return Service.objects.create(etablissement=etab, **extra)


@pytest.fixture
def service(etab) -> Service:
    return make_service(etab, released_attributes=["uid", "nom", "prenom"])


class Receiver:
    """A small local HTTP service: records what it gets (pgtUrl callbacks, single logout POSTs).

    GET /pgt…  stores pgtIou → pgtId (a CAS proxy's callback) and answers 200.
    /fail…     answers 500 (a callback that fails).
    GET other  calls `on_get(path_with_query)` if set (a test service page), else answers "ok".
    POST       records the form body and answers 200.
    """

    def __init__(self) -> None:
        import http.server
        import threading
        from urllib.parse import parse_qs, urlsplit

        receiver = self
        self.gets: list[str] = []
        self.posts: list[tuple[str, dict[str, list[str]]]] = []
        self.pgts: dict[str, str] = {}
        self.on_get = None

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                receiver.gets.append(self.path)
                parts = urlsplit(self.path)
                if parts.path.startswith("/fail"):
                    return self._answer(500, "panne")
                if parts.path.startswith("/pgt"):
                    query = parse_qs(parts.query)
                    if "pgtIou" in query:
                        receiver.pgts[query["pgtIou"][0]] = query["pgtId"][0]
                    return self._answer(200, "ok")
                if receiver.on_get is not None:
                    return self._answer(200, receiver.on_get(self.path))
                return self._answer(200, "ok")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                receiver.posts.append((self.path, parse_qs(body)))
                self._answer(200, "ok")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def local_service(etab, receiver) -> Service:
    """A CAS service on the local receiver, allowed to proxy and told of logouts."""
    return make_service(
        etab,
        name="Service local",
        access_url=f"{receiver.url}/app/",
        service_patterns=f"{receiver.url}/*",
        released_attributes=["uid", "nom", "prenom"],
        proxy_allowed=True,
        single_logout=True,
    )
