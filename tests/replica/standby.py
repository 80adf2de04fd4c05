"""A hot standby of the local PostgreSQL on loopback, for as long as a ``with`` block lasts.

``Standby()`` takes a base backup of the primary (the PostgreSQL the project's tests use: PGHOST/PGPORT or
the default socket) with a temporary replication slot, starts it as a streaming hot standby on a free port
with its own socket directory, waits until it accepts read-only connections, and on exit stops it, drops the
slot and removes its files. Run as root (the Debian and Docker layouts), the standby's server runs as the
``postgres`` system user (PostgreSQL refuses root) and streams as the ``postgres`` role over the primary's
socket; otherwise it runs as the current user, who needs the REPLICATION attribute.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def _pg_bin(name: str) -> str:
    """A PostgreSQL server binary of the primary's major version (pg_config's bindir, else PATH)."""
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run(
            [found, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if bindir and (Path(bindir) / name).exists():
            return str(Path(bindir) / name)
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the PostgreSQL server binaries")
    return found


def _psql(sql: str, db: str = "postgres", **env: str) -> str:
    proc = subprocess.run(
        ["psql", "-d", db, "-Atc", sql],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )
    if proc.returncode:
        raise RuntimeError(f"psql failed: {sql}\n{proc.stderr}")
    return proc.stdout.strip()


class Standby:
    """A streaming hot standby of the primary; ``host`` (its socket directory) and ``port`` to connect."""

    def __init__(self, port: int):
        self.port = port
        self.root = os.geteuid() == 0
        self.slot = f"pd_replica_{os.getpid()}"
        self.folder = Path(tempfile.mkdtemp(prefix="pd-replica-"))
        self.data = self.folder / "data"
        self.host = str(self.folder)  # the socket directory
        self.started = False

    def _as_server_user(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if self.root else command

    def __enter__(self) -> Standby:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        if _psql("SHOW wal_level") not in ("replica", "logical"):
            raise RuntimeError("the primary's wal_level must be replica or logical for a standby")
        # the base backup is taken by the server's system user, so its files are the standby server's own
        if self.root:
            os.chown(self.folder, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
        primary = os.environ.get("PGHOST") or "/var/run/postgresql"
        primary_port = os.environ.get("PGPORT") or "5432"
        role = "postgres" if self.root else pwd.getpwuid(os.geteuid()).pw_name
        backup = [
            _pg_bin("pg_basebackup"),
            f"--dbname=host={primary} port={primary_port} user={role}",
            f"--pgdata={self.data}",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--create-slot",
            f"--slot={self.slot}",
            "--checkpoint=fast",
        ]
        proc = subprocess.run(self._as_server_user(backup), capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(f"pg_basebackup failed:\n{proc.stderr}")
        # the backup holds the primary's data, not its configuration (Debian keeps that in /etc): the
        # standby's own, on loopback and its own socket, read-only
        (self.data / "postgresql.conf").write_text(
            f"port = {self.port}\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{self.folder}'\n"
            "hot_standby = on\n"
            "max_connections = 100\n"
            "shared_buffers = 128MB\n"
            f"hba_file = '{self.data / 'pg_hba.conf'}'\n"
            f"ident_file = '{self.data / 'pg_ident.conf'}'\n"
        )
        (self.data / "pg_hba.conf").write_text("local all all peer\n")
        (self.data / "pg_ident.conf").write_text("")
        if self.root:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.folder)], check=True)
        start = [
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        ]
        proc = subprocess.run(self._as_server_user(start), capture_output=True, text=True, check=False)
        self.started = True
        if proc.returncode:
            log = (self.folder / "server.log").read_text() if (self.folder / "server.log").exists() else ""
            raise RuntimeError(f"the standby did not start:\n{proc.stderr}\n{log[-3000:]}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.query("postgres", "SELECT pg_is_in_recovery()") == "t":
                    return
            except RuntimeError:
                pass
            time.sleep(0.5)
        raise RuntimeError("the standby did not accept connections within 60 s")

    def query(self, db: str, sql: str) -> str:
        """One value (psql -At) read on the standby."""
        return _psql(sql, db, PGHOST=self.host, PGPORT=str(self.port))

    def wait_caught_up(self, timeout: float = 60.0) -> None:
        """Until the standby has replayed everything the primary had written when this was called."""
        target = _psql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.query("postgres", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
                return
            time.sleep(0.2)
        raise RuntimeError(
            f"the standby did not replay the primary's WAL up to {target} within {timeout:.0f} s"
        )

    def __exit__(self, *exc) -> None:
        if self.started:
            stop = [_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            subprocess.run(self._as_server_user(stop), capture_output=True, check=False)
        if _psql(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{self.slot}'") != "0":
            _psql(f"SELECT pg_drop_replication_slot('{self.slot}')")
        shutil.rmtree(self.folder, ignore_errors=True)
