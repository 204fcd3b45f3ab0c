"""A throw-away PostgreSQL cluster (Debian's postgresql) on a free 127.0.0.1 port: initdb into a
temporary folder, no fsync, trust for the one role on loopback; a fresh database per test.

PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user the package made.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

from tests.support.ports import free_port

ROLE = "kamconf"


class PostgresServer:
    def __init__(self) -> None:
        self.port = 0
        self._dir: Path | None = None

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, name)
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        self._dir = Path(tempfile.mkdtemp(prefix="kamconf-pg-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self._dir, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self._dir / "data"), "-U", ROLE, "-A", "trust", "--no-sync", "-E", "UTF8")
        self.port = free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self._dir} -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-o", options, "-l", str(self._dir / "log"), "-w", "start")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._dir is None:
            return
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._dir, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
        if not found:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql; make setup does)")
        command = [found[-1], *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60, cwd="/")
