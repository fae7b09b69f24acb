"""The embedded redis-server stops with the process that started it, and only with it.

Every owner here is a real Python process on the test's data dir; its servers are
found in /proc (`tests.processes`), never asked of the code under test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from hub.embedded_redis import SOCKET_PATH_LIMIT, EmbeddedRedis, socket_path
from hub.exceptions import ServiceUnavailableError
from hub.kvstore import connect
from tests.conftest import ROOT
from tests.processes import needs_proc, redis_servers, wait_until_none

pytestmark = [pytest.mark.integration, needs_proc]

GONE_WITHIN_SECONDS = 10.0
"""A server whose owner died saves its RDB and exits: well under a second here."""

OWNER = """
import sys
from hub.kvstore import connect, redis_url
from hub.settings import get_settings

url = redis_url(get_settings())
connect(url).set("greeting", "olá")
print(url, flush=True)
sys.stdin.readline()  # the test says when to end, and how
"""

ENDINGS = {  # how the owner ends: the code after its wait, and its exit status
    "returns": ("", 0),
    "raises": ("raise RuntimeError('the owner fails')", 1),
    "is interrupted by Ctrl-C": ("", -signal.SIGINT),
    "gets SIGTERM": ("", -signal.SIGTERM),
    "is killed with SIGKILL": ("", -signal.SIGKILL),
}
SIGNALS = {
    "is interrupted by Ctrl-C": signal.SIGINT,
    "gets SIGTERM": signal.SIGTERM,
    "is killed with SIGKILL": signal.SIGKILL,
}


PRELUDE = """
from hub.logs import configure_logging
from hub.settings import get_settings

configure_logging(get_settings())  # to stderr, as the commands do: stdout is the test's
"""


class Owner:
    """A Python process on the embedded defaults, held until the test ends it."""

    def __init__(self, code: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            _, errors = self.process.communicate(timeout=30)
            raise AssertionError(f"the process ended early:\n{errors}")
        return line

    def end(self, ending: str = "returns", timeout: float = 30) -> int:
        """End it as `ending` says, reap it and return its exit status."""
        if ending in SIGNALS:
            self.process.send_signal(SIGNALS[ending])
            self.process.wait(timeout=timeout)  # before its stdin closes: no other way out
        self.process.communicate(input="\n", timeout=timeout)
        return self.process.returncode


@pytest.fixture
def owners(data_dir: Path) -> Iterator[Callable[[str], Owner]]:
    started: list[Owner] = []

    def start(code: str) -> Owner:
        owner = Owner(code)
        started.append(owner)
        return owner

    yield start
    for owner in started:
        if owner.process.poll() is None:
            owner.process.kill()
        owner.process.communicate()


def read_back(owners: Callable[[str], Owner], key: str) -> str:
    """What a new process on the same data dir reads under `key`."""
    reader = owners(
        "from hub.kvstore import connect, redis_url\n"
        "from hub.settings import get_settings\n"
        f"print(connect(redis_url(get_settings())).get({key!r}))\n"
    )
    value = reader.line()
    reader.end()
    return value


def test_a_process_that_builds_the_app_on_embedded_defaults_leaves_no_redis_server(
    owners: Callable[[str], Owner], data_dir: Path
) -> None:
    app = owners(
        """
        import sys
        from hub.web import create_app

        receiver = create_app().config["RECEIVER"]
        receiver.redis.set("greeting", "olá")
        print(receiver.redis.connection_pool.connection_kwargs["path"], flush=True)
        sys.stdin.readline()
        """
    )
    assert Path(app.line()).is_relative_to(data_dir)  # the receiver's Redis is the embedded one
    assert len(redis_servers(data_dir)) == 1
    app.end()
    assert redis_servers(data_dir) == []
    assert read_back(owners, "greeting") == "olá"
    assert redis_servers(data_dir) == []


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_the_server_stops_with_its_owner_however_it_ends_and_keeps_its_data(
    ending: str, owners: Callable[[str], Owner], data_dir: Path
) -> None:
    code, status = ENDINGS[ending]
    owner = owners(OWNER + code)
    assert owner.line() == f"unix://{data_dir.resolve() / 'redis' / 'chatwootai.sock'}"
    assert len(redis_servers(data_dir)) == 1
    assert owner.end(ending) == status
    if ending in ("returns", "raises", "is interrupted by Ctrl-C"):
        assert redis_servers(data_dir) == []  # stopped before the owner's exit
    else:  # no exit handler runs: the supervisor sees the owner gone
        assert wait_until_none(lambda: redis_servers(data_dir), GONE_WITHIN_SECONDS) == []
    assert read_back(owners, "greeting") == "olá"  # saved on the way out


def test_a_process_that_only_connects_never_stops_the_server_it_found(
    owners: Callable[[str], Owner], data_dir: Path
) -> None:
    owner = owners(OWNER)
    url = owner.line()
    servers = redis_servers(data_dir)
    assert read_back(owners, "greeting") == "olá"  # a second process, found the same server
    assert redis_servers(data_dir) == servers
    assert connect(url).get("greeting") == "olá"
    owner.end()
    assert redis_servers(data_dir) == []


def test_a_forked_child_neither_stops_the_server_nor_keeps_it_alive(
    owners: Callable[[str], Owner], data_dir: Path
) -> None:
    owner = owners(
        """
        import os, sys, time
        from hub.kvstore import connect, redis_url
        from hub.settings import get_settings

        url = redis_url(get_settings())
        child = os.fork()
        if child == 0:
            connect(url).set("child", "was here")
            sys.exit(0)  # a normal exit: the exit handlers run in the child too
        os.waitpid(child, 0)
        print(connect(url).get("child"), flush=True)
        sleeper = os.fork()
        if sleeper == 0:
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)  # the test reads the owner's output to its end
            os.dup2(quiet, 2)
            time.sleep(120)
            os._exit(0)
        print(sleeper, flush=True)
        sys.stdin.readline()
        """
    )
    assert owner.line() == "was here"
    sleeper = int(owner.line())
    assert owner.end(timeout=10) == 0  # the sleeper holds nothing that keeps the server up
    assert redis_servers(data_dir) == []
    os.kill(sleeper, 0)  # still running, and no longer the server's
    os.kill(sleeper, signal.SIGKILL)


def test_a_server_whose_supervisor_is_killed_outright_stops_too(data_dir: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    server = EmbeddedRedis(data_dir / "redis" / "chatwootai.rdb")
    server.start()
    try:
        (pid,) = redis_servers(data_dir)
        supervisor = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        os.kill(supervisor, signal.SIGKILL)
        assert wait_until_none(lambda: redis_servers(data_dir), GONE_WITHIN_SECONDS) == []
    finally:
        server.stop()


def test_a_data_dir_too_deep_for_a_unix_socket_gets_its_socket_in_a_private_temp_folder(
    data_dir: Path,
) -> None:
    deep = data_dir.joinpath(*["folder-of-a-deep-tree"] * 5) / "redis" / "chatwootai.rdb"
    path = socket_path(deep)
    assert len(os.fsencode(deep.with_suffix(".sock"))) > SOCKET_PATH_LIMIT
    assert len(os.fsencode(path)) <= SOCKET_PATH_LIMIT
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path == socket_path(deep)  # every process finds the same one
    server = EmbeddedRedis(deep)
    server.start()
    try:
        assert connect(server.url).ping()
    finally:
        server.stop()
    assert redis_servers(data_dir) == []


def test_a_server_that_cannot_start_is_a_clear_error_with_its_log(data_dir: Path) -> None:
    rdb = data_dir / "redis" / "chatwootai.rdb"
    rdb.parent.mkdir(parents=True)
    rdb.write_bytes(b"not an RDB file at all")
    with pytest.raises(ServiceUnavailableError, match=r"did not start: .*load(ing)? DB"):
        EmbeddedRedis(rdb).start()
    assert redis_servers(data_dir) == []


def _restarted(data_dir: Path, old: int, timeout: float = GONE_WITHIN_SECONDS) -> int:
    """The pid of the server that replaced `old` (killed) under `data_dir`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = [pid for pid in redis_servers(data_dir) if pid != old]
        if servers:
            return servers[0]
        time.sleep(0.05)
    raise AssertionError("the supervisor did not start the server again")


def _answer(url: str, timeout: float = GONE_WITHIN_SECONDS) -> redis.Redis:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect(url)
        except ServiceUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_killed_server_is_started_again_with_every_acknowledged_write(data_dir: Path) -> None:
    rdb = data_dir / "redis" / "chatwootai.rdb"
    server = EmbeddedRedis(rdb)
    server.start()
    try:
        client = connect(server.url)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        for n in range(500):  # no RDB save point reached: only the AOF has them
            client.rpush("mailbox", n)
        (pid,) = redis_servers(data_dir)
        os.kill(pid, signal.SIGKILL)
        _restarted(data_dir, pid)
        again = _answer(server.url)  # the same socket
        assert again.llen("mailbox") == 500
        assert rdb.with_suffix(".aof").stat().st_size > 0
    finally:
        server.stop()
    assert redis_servers(data_dir) == []


def test_a_data_dir_with_only_an_old_rdb_keeps_its_data_and_gains_an_aof(data_dir: Path) -> None:
    rdb = data_dir / "redis" / "chatwootai.rdb"
    server = EmbeddedRedis(rdb)
    server.start()
    connect(server.url).set("greeting", "olá")
    server.stop()  # saves the RDB
    rdb.with_suffix(".aof").unlink()  # as a data dir from before the AOF was on
    assert rdb.exists()

    server = EmbeddedRedis(rdb)
    server.start()
    try:
        client = connect(server.url)
        assert client.get("greeting") == "olá"
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert "appendonly yes" in rdb.with_suffix(".conf").read_text()
        client.set("after", "aof")
        (pid,) = redis_servers(data_dir)
        os.kill(pid, signal.SIGKILL)
        _restarted(data_dir, pid)
        again = _answer(server.url)
        assert (again.get("greeting"), again.get("after")) == ("olá", "aof")
    finally:
        server.stop()


def test_a_server_stopped_by_its_owner_is_not_started_again(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir / "redis" / "chatwootai.rdb")
    server.start()
    server.stop()
    time.sleep(0.5)  # longer than the supervisor's first restart delay
    assert redis_servers(data_dir) == []
