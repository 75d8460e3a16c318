"""Browser sessions: a signed cookie naming an API key by id, and the CSRF token bound to it.

The cookie never holds the key itself. It holds ``{"n": nonce, "k": key_id}`` signed with the
server secret (itsdangerous, timestamped), so a session is worth nothing without the secret and
dies with its key: every request resolves the key id again, and a revoked or expired key fails.

CSRF: every state-changing UI request must carry ``HMAC(secret, nonce)`` in a form field or an
``X-CSRF-Token`` header. The nonce changes on sign-in and sign-out, so a token read before
signing in is useless afterwards. SameSite=Lax on the cookie is a second line, not the only one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "cairn_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 60 * 60
SECRET_ENV = "CAIRN_SECRET_KEY"


def secret_from_env() -> str:
    """The signing secret. Without ``CAIRN_SECRET_KEY`` each process draws its own.

    ``cairn serve`` sets the variable before starting workers, so they share one; a deployment of
    several machines must set it explicitly, or a session signed by one is refused by another.
    """
    return os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Session:
    nonce: str
    key_id: str | None = None

    @classmethod
    def fresh(cls, key_id: str | None = None) -> Session:
        return cls(nonce=secrets.token_urlsafe(18), key_id=key_id)


class SessionCodec:
    def __init__(self, secret: str, *, max_age: int = SESSION_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="cairn.ui.session")
        self._csrf_key = hashlib.sha256(b"cairn.ui.csrf\x00" + secret.encode()).digest()
        self.max_age = max_age

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps({"n": session.nonce, "k": session.key_id})

    def loads(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # also covers SignatureExpired
            return None
        if not isinstance(data, dict):
            return None
        nonce, key_id = data.get("n"), data.get("k")
        if not isinstance(nonce, str) or not (key_id is None or isinstance(key_id, str)):
            return None
        return Session(nonce=nonce, key_id=key_id)

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)
