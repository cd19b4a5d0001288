"""The server's gate: an ASGI middleware in front of Streamlit, and the process-wide list of
signed-in sessions it checks.  No streamlit import here (:mod:`blindspot.app.serve` wires it in).

Streamlit serves uploads (``/_stcore/upload_file/<session>/<id>``), generated files
(``/media/<id>``) and its metrics to any client that can reach the port; it cannot tell a
signed-in session from one an outsider opened a second ago.  The app knows: at sign-in
:mod:`blindspot.app.login` records the session id with the account's role and a digest of the browser's
secret cookie (:data:`COOKIE`, HttpOnly, set by this middleware on the first page load) in
:data:`REGISTRY`.  The middleware then lets through

- an upload only for a signed-in session of a role that may upload
  (:func:`blindspot.access.may_upload`), presented with that session's cookie, with a
  declared size under the limit (Streamlit cuts a longer body off at the same limit,
  ``server.maxUploadSize``, which ``serve`` lowers to the product setting) and while the
  session holds fewer than ``max_uploads_per_session`` files;
- a ``/media`` file only to a browser with the cookie of a signed-in session, and a
  download (``Content-Disposition: attachment``) only to the session that made it, right
  after the click and only for that click (``widgets.download_button`` announces its SHA-256;
  see :meth:`Registry.take_download`);
- ``/_stcore/metrics`` only to a signed-in admin; the agent API never;

and adds the security headers (:func:`security_headers`) to every response.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from blindspot.access import may_read_metrics, may_upload

COOKIE = "blindspot_sid"
CLIENT_HEADER = "x-blindspot-client"  # the client address as the gate saw it (set here, never trusted from outside)
XSRF_COOKIE = "_streamlit_xsrf"

# Streamlit's page fetches a download's URL twice: once to check it answers, once to save
# it.  Both must come within this window after the first; then the URL is dead.
DOWNLOAD_FETCHES = 2
DOWNLOAD_WINDOW = 30.0

_UPLOAD_RE = re.compile(r"^/_stcore/upload_file/([^/]+)/([^/]+)$")

# Streamlit's page needs inline styles (emotion), blob workers (deck.gl) and its one inline
# script (allowed by hash, :func:`inline_script_hashes`); nothing is loaded from another
# origin (the app works offline) and nobody may frame it.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """CSP source expressions ('sha256-…') of the inline scripts of a page.

    >>> inline_script_hashes("<script>a()</script><script src=x.js></script>")
    ("'sha256-qVpDBgj7bpq5hMAcGp3AOc79J3Y1Z4HvySTwKrWDoy4='",)
    """
    found = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    return tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'" for body in found if body
    )


def security_headers(script_hashes: tuple[str, ...] = ()) -> list[tuple[bytes, bytes]]:
    """Headers every response gets: no framing (clickjacking), a CSP, no MIME sniffing, no referrer.

    >>> dict(security_headers())[b"x-frame-options"]
    b'DENY'
    """
    csp = CSP.format(hashes="".join(" " + h for h in script_hashes))
    return [
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]


def digest(secret: str | None) -> str | None:
    """SHA-256 of a browser secret (what the registry keeps: never the cookie itself).

    >>> digest("abc")[:12], digest(""), digest(None)
    ('ba7816bf8f01', None, None)
    """
    return hashlib.sha256(secret.encode()).hexdigest() if secret else None


def xsrf_token(raw: str | None) -> str | None:
    """The token inside Streamlit's XSRF cookie ``2|mask|masked|time`` (the mask changes per
    response, the token does not), as hex; None for a missing or malformed cookie.

    >>> xsrf_token("2|0f0f|0a0b|123"), xsrf_token("junk"), xsrf_token(None)
    ('0504', None, None)
    """
    if not raw:
        return None
    parts = raw.split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            return bytes(a ^ b for a, b in zip(mask, masked, strict=False)).hex() if len(mask) == len(masked) else None
    except ValueError:
        return None
    return None


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies) -> str | None:
    """The client's address: the TCP peer, or — only when the peer is a configured proxy —
    the last address that proxy put into ``X-Forwarded-For`` (anything left of it is what
    the client claimed and is ignored).

    >>> client_address("203.0.113.9", "1.2.3.4", ["127.0.0.1"])
    '203.0.113.9'
    >>> client_address("127.0.0.1", "6.6.6.6, 198.51.100.7", ["127.0.0.1"])
    '198.51.100.7'
    >>> client_address("127.0.0.1", "not-an-ip", ["127.0.0.1"])
    '127.0.0.1'
    """
    if peer and forwarded_for and peer in set(trusted_proxies or ()):
        last = forwarded_for.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            return peer
    return peer


# --- signed-in sessions ----------------------------------------------------------------------


@dataclass
class SignedIn:
    user: str
    role: str
    cookie: str | None  # digest of the browser secret the sign-in was made with
    expires_at: float
    ttl: float
    downloads: dict = field(default_factory=dict)  # SHA-256 of a file handed over → [fetches left, deadline]


class Registry:
    """Signed-in Streamlit sessions of this process: session id → :class:`SignedIn`.

    >>> r = Registry()
    >>> r.sign_in("s1", "kim", "analyst", "c1", ttl=60, now=0.0)
    >>> r.get("s1", now=30.0).role, r.get("s1", now=61.0)
    ('analyst', None)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_session: dict[str, SignedIn] = {}

    def sign_in(
        self, session_id: str, user: str, role: str, cookie: str | None, *, ttl: float, now: float | None = None
    ) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._by_session[session_id] = SignedIn(user, role, cookie, now + ttl, ttl)

    def touch(self, session_id: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            entry = self._by_session.get(session_id)
            if entry is not None:
                entry.expires_at = now + entry.ttl

    def sign_out(self, session_id: str) -> None:
        with self._lock:
            self._by_session.pop(session_id, None)

    def get(self, session_id: str, now: float | None = None) -> SignedIn | None:
        now = time.time() if now is None else now
        with self._lock:
            entry = self._by_session.get(session_id)
            if entry is not None and entry.expires_at < now:
                del self._by_session[session_id]
                return None
            return entry

    def signed_in_cookie(self, cookie: str | None, now: float | None = None) -> list[SignedIn]:
        """Live sign-ins made with this browser secret (one browser may have several tabs)."""
        now = time.time() if now is None else now
        if not cookie:
            return []
        with self._lock:
            return [e for e in self._by_session.values() if e.cookie == cookie and e.expires_at >= now]

    def expect_download(self, session_id: str, sha256: str) -> None:
        with self._lock:
            entry = self._by_session.get(session_id)
            if entry is not None:
                entry.downloads[sha256] = [DOWNLOAD_FETCHES, None]

    def take_download(self, cookie: str | None, sha256: str, now: float | None = None) -> bool:
        """True for a file that a session signed in with this cookie handed over: at most
        :data:`DOWNLOAD_FETCHES` fetches within :data:`DOWNLOAD_WINDOW` seconds of the first.

        >>> r = Registry(); r.sign_in("s", "kim", "analyst", "c", ttl=600, now=0.0)
        >>> r.expect_download("s", "h")
        >>> [r.take_download("c", "h", now=t) for t in (1.0, 2.0, 3.0)], r.take_download("x", "h", now=1.0)
        ([True, True, False], False)
        """
        now = time.time() if now is None else now
        for entry in self.signed_in_cookie(cookie, now):
            with self._lock:
                grant = entry.downloads.get(sha256)
                if grant is None:
                    continue
                if grant[1] is None:
                    grant[1] = now + DOWNLOAD_WINDOW
                if now > grant[1]:
                    del entry.downloads[sha256]
                    continue
                grant[0] -= 1
                if grant[0] <= 0:
                    del entry.downloads[sha256]
                return True
        return False


REGISTRY = Registry()


# --- the middleware ----------------------------------------------------------------------------


@dataclass
class GuardSettings:
    max_upload_bytes: int = 200 * 1024 * 1024
    max_uploads_per_session: int = 4
    trusted_proxies: tuple = ()
    secure_cookie: bool = False
    script_hashes: tuple = ()  # of the page's inline scripts, for the CSP
    held_uploads: Callable[[str], int] = lambda session_id: 0  # files a session holds now
    # None when this process can serve pages, else why not (for /_stcore/health)
    not_ready: Callable[[], str | None] = lambda: None


def _cookies(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in headers:
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no cookie
                continue
    return {k: m.value for k, m in jar.items()}


def _header(headers, name: bytes) -> str | None:
    for k, v in headers:
        if k == name:
            return v.decode("latin-1")
    return None


class Guard:
    """ASGI middleware: see the module docstring.  ``settings`` are read per request."""

    def __init__(self, app, settings: GuardSettings | None = None, registry: Registry | None = None) -> None:
        self.app = app
        self.settings = settings or GuardSettings()
        self.registry = registry or REGISTRY

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = [(k, v) for k, v in scope.get("headers", []) if k != CLIENT_HEADER.encode()]
        peer = (scope.get("client") or (None,))[0]
        address = client_address(peer, _header(headers, b"x-forwarded-for"), self.settings.trusted_proxies)
        headers.append((CLIENT_HEADER.encode(), (address or "").encode()))
        scope = {**scope, "headers": headers}
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)

        path, method = scope.get("path", ""), scope.get("method", "GET")
        cookies = _cookies(headers)
        cookie = digest(cookies.get(COOKIE))
        if path == "/_stcore/health":
            # A load balancer sends users only to a process that can open its data: Streamlit's
            # own check says "ok" even when every page would fail.  Opening may block: a thread.
            reason = await asyncio.to_thread(self.settings.not_ready)
            if reason:
                return await _plain(send, 503, reason)
        if path.startswith("/_stcore/agent"):
            return await _plain(send, 404, "없는 주소입니다.")
        if path.startswith("/_stcore/metrics"):
            if not any(may_read_metrics(e.role) for e in self.registry.signed_in_cookie(cookie)):
                return await _plain(send, 403, "로그인한 관리자만 볼 수 있습니다.")
        upload = _UPLOAD_RE.match(path)
        if upload and method in ("PUT", "DELETE"):
            refusal = self._refuse_upload(upload.group(1), cookie, method, headers)
            if refusal:
                return await _plain(send, *refusal)
        new_cookie = None
        if (
            method == "GET"
            and not cookies.get(COOKIE)
            and not path.startswith(("/_stcore/", "/static/", "/media/", "/component/"))
        ):
            new_cookie = secrets.token_urlsafe(32)  # the page load: this browser's secret
        if path.startswith("/media/"):
            if not self.registry.signed_in_cookie(cookie):
                return await _plain(send, 404, "없는 파일입니다.")
            return await self._media(scope, receive, send, cookie)
        return await self.app(scope, receive, self._with_headers(send, new_cookie))

    def _refuse_upload(self, session_id: str, cookie: str | None, method: str, headers) -> tuple | None:
        entry = self.registry.get(session_id)
        if entry is None or entry.cookie is None or entry.cookie != cookie or not may_upload(entry.role):
            return 403, "로그인한 관리자·분석가만 파일을 올릴 수 있습니다."
        if method == "DELETE":
            return None
        length = _header(headers, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.settings.max_upload_bytes):
            return 413, f"파일이 너무 큽니다 (최대 {self.settings.max_upload_bytes // 2**20:,} MB)."
        if self.settings.held_uploads(session_id) >= self.settings.max_uploads_per_session:
            return 429, "올린 파일이 너무 많습니다. 검사를 마친 뒤 다시 올리세요."
        return None

    def _with_headers(self, send, new_cookie: str | None):
        async def sending(message):
            if message["type"] == "http.response.start":
                extra = security_headers(self.settings.script_hashes)
                if new_cookie:
                    flags = "; Secure" if self.settings.secure_cookie else ""
                    extra.append(
                        (b"set-cookie", f"{COOKIE}={new_cookie}; Path=/; HttpOnly; SameSite=Strict{flags}".encode())
                    )
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        return sending

    async def _media(self, scope, receive, send, cookie):
        """Serve a media file; hold back an attachment unless this session handed it over."""
        start, body = None, []

        async def capture(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            return await _plain(send, 404, "없는 파일입니다.")
        data = b"".join(body)
        disposition = _header(start.get("headers", []), b"content-disposition") or ""
        if start["status"] == 200 and disposition.startswith("attachment"):
            if not self.registry.take_download(cookie, hashlib.sha256(data).hexdigest()):
                return await _plain(send, 404, "없는 파일입니다 (내려받기는 파일을 만든 세션에서 한 번만 됩니다).")
        headers = (
            list(start.get("headers", []))
            + security_headers(self.settings.script_hashes)
            + [(b"cache-control", b"no-store")]
        )
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": data})


async def _plain(send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
            + security_headers(),
        }
    )
    await send({"type": "http.response.body", "body": body})
