"""Who may use the console, and which domains each user sees.

Users come from CHATWOOTAI_CONSOLE_USERS and/or the file CHATWOOTAI_CONSOLE_USERS_FILE,
one entry per line (or `;`-separated): `user password-hash domains`, the hash made
by `chatwootai console --hash-password` (werkzeug's scrypt), the domains a
comma-separated list or `*` for every domain (the agency). With users configured,
every page but the login asks for one, from any address. With none, the console
answers loopback only, as the agency (one person on their own machine), and
refuses every other address.

A user never sees another tenant's domain: every page and API URL naming a domain
checks it here on the server (`permit`: 403), and every list is filtered
(`visible`). Every POST carries the session's CSRF token (a form field or the
X-CSRF-Token header).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from hub.exceptions import ConfigurationError

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
PROXY_HEADERS = frozenset({"x-forwarded-for", "forwarded", "x-real-ip"})
"""A request carrying one of these came through a proxy: its loopback address is the
proxy's, not the visitor's, so it never counts as the local agency."""
ALL = "*"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
PUBLIC_ENDPOINTS = frozenset({"access.login", "static", "healthz"})

blueprint = Blueprint("access", __name__)


@dataclass(frozen=True)
class User:
    """A console user: name, password hash, and the domains they may see."""

    name: str
    password_hash: str
    domains: frozenset[str]

    @property
    def agency(self) -> bool:
        """Sees every domain."""
        return ALL in self.domains

    def may_see(self, domain_id: str) -> bool:
        return self.agency or domain_id in self.domains

    def check(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


LOCAL_AGENCY = User("local", "", frozenset({ALL}))
"""Who a loopback visitor is when no users are configured."""


def parse_users(text: str, *, source: str = "CHATWOOTAI_CONSOLE_USERS") -> dict[str, User]:
    """The users of `text`: `user hash domains` entries, one a line or `;`-separated;
    blank lines and `#` comments skipped. Raises ConfigurationError for a bad entry."""
    users: dict[str, User] = {}
    for number, line in enumerate(text.replace(";", "\n").splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        fields = entry.split()
        if len(fields) != 3:
            raise ConfigurationError(
                f"a console user needs three fields, got {len(fields)}",
                file=source,
                line=number,
                expected="`user password-hash domains` (domains: a,b or *)",
            )
        name, hashed, domains = fields
        if "$" not in hashed:
            raise ConfigurationError(
                f"user {name!r}: the password must be a hash, not the password itself",
                file=source,
                line=number,
                expected="the output of `chatwootai console --hash-password`",
            )
        allowed = frozenset(d.strip() for d in domains.split(",") if d.strip())
        users[name] = User(name, hashed, allowed)
    return users


def load_users(text: str | None, file: Path | None) -> dict[str, User]:
    """The users of the setting and of the file (the file's win on a shared name)."""
    users = parse_users(text) if text else {}
    if file is not None:
        try:
            content = file.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigurationError(f"cannot read the console users: {error}", file=file) from None
        users.update(parse_users(content, source=str(file)))
    return users


def hash_password(password: str) -> str:
    """The hash to put in a user's entry."""
    return generate_password_hash(password, method="scrypt")


def users() -> dict[str, User]:
    return current_app.config["CONSOLE_USERS"]  # type: ignore[no-any-return]


def current_user() -> User | None:
    """Who is asking: the logged-in user, the local agency on loopback without users,
    or None."""
    configured = users()
    if not configured:
        return LOCAL_AGENCY if _local(request.remote_addr, request.headers.keys()) else None
    name = session.get("user")
    return configured.get(name) if isinstance(name, str) else None


def _local(address: str | None, headers: Iterable[str]) -> bool:
    """A visitor on this machine itself: a loopback address, not relayed by a proxy."""
    return address in LOOPBACK and not PROXY_HEADERS & {name.lower() for name in headers}


def visible(domain_ids: Iterable[str]) -> list[str]:
    """The ids the current user may see, sorted; never another tenant's."""
    user = current_user()
    return sorted(d for d in domain_ids if user is not None and user.may_see(d))


def permit(domain_id: str) -> None:
    """Abort with 403 unless the current user may see `domain_id` (unknown ids too:
    whether another tenant's domain exists is not told)."""
    user = current_user()
    if user is None or not user.may_see(domain_id):
        abort(403)


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def guard() -> Response | None:
    """Before every request: a user (else the login page, or 403 where no login is
    possible), and on POST the session's CSRF token (else 400)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        _check_csrf()
        return None
    if current_user() is None:
        if not users():
            abort(403, "the console answers loopback only until CHATWOOTAI_CONSOLE_USERS is set")
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("access.login", next=request.full_path.rstrip("?")))
    _check_csrf()
    return None


def _check_csrf() -> None:
    """Abort with 400 when a POST lacks the session's CSRF token."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        abort(400, "missing or wrong CSRF token: reload the page")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """The login form; on success, back to the page asked for (on this site only)."""
    error = ""
    if request.method == "POST":
        user = users().get(request.form.get("user", ""))
        if user is not None and user.check(request.form.get("password", "")):
            session.clear()
            session["user"] = user.name
            wanted = request.args.get("next", "")
            safe = wanted.startswith("/") and not wanted.startswith("//")
            return redirect(wanted if safe else url_for("glance.page"))
        error = "Wrong user or password."
    return render_template("login.html", error=error)


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect(url_for("access.login"))
