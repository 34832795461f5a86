"""Real PostgreSQL and Redis servers on loopback, started by the tests from Debian's packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from glob import glob
from pathlib import Path

from tests.support.mjpeg_server import free_port


class ServerUnavailable(Exception):
    """The server's binaries are not installed (the tests that need it skip)."""


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; Debian's package creates the 'postgres' system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PostgresServer:
    """A throw-away cluster in a temp folder, trust auth, listening on 127.0.0.1 only."""

    def __init__(self) -> None:
        bins = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise ServerUnavailable("PostgreSQL server not installed (Debian package 'postgresql')")
        self.bin = Path(bins[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cm-pg-"))
        os.chmod(self.dir, 0o777)
        self.data = self.dir / "data"
        self._databases = 0
        self._template: str | None = None

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        subprocess.run(
            _as_postgres_user(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        subprocess.run(
            _as_postgres_user(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-l",
                    str(self.dir / "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        """A fresh database (empty, or a copy of ``template``); returns its URL."""
        import psycopg

        self._databases += 1
        name = f"test_{self._databases}"
        copy = f" TEMPLATE {template}" if template else ""
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def migrated_database(self) -> str:
        """A fresh database at the newest schema: a copy of a template migrated once per server."""
        if self._template is None:
            from monitor.store.migrate import upgrade

            url = self.new_database()
            upgrade(url)
            self._template = url.rsplit("/", 1)[1]
        return self.new_database(template=self._template)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.exe = shutil.which("redis-server")
        if not self.exe:
            raise ServerUnavailable("redis-server not installed (Debian package 'redis-server')")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise ServerUnavailable("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
