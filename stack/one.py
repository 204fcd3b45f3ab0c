"""One component of the stack in the foreground, for a container (docker-compose.yml): what the
supervisor would start for it, from the same definitions (stack/components.py).

    python -m stack.one prepare        folders, secrets and Redis/Sentinel settings, then exit
    python -m stack.one NAME           NAME's before step, then exec NAME (kamailio, bridge-2, ...)
    python -m stack.one --check NAME   exit 0 if NAME answers its health check (a HEALTHCHECK)

The container's engine restarts it, so nothing here supervises.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import settings
from stack.components import Component, components, prepare_dirs


def find(name: str) -> Component:
    config_file = Path(os.environ.get("KAMCONF_CONFIG") or settings.DEFAULT_FILE).resolve()
    known = components(settings.load(config_file), config_file)
    for component in known:
        if component.name == name:
            return component
    raise SystemExit(f"kamconf: no component {name!r}; known: prepare, {', '.join(c.name for c in known)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="run the health check only")
    parser.add_argument("name")
    args = parser.parse_args(argv)
    if args.name == "prepare":
        prepare_dirs(settings.load())
        return 0
    component = find(args.name)
    if args.check:
        return 0 if component.healthy() else 1
    env = {**os.environ, **component.env}
    if component.before:
        subprocess.run(component.before, env=env, check=True)
    os.execvpe(component.argv[0], component.argv, env)


if __name__ == "__main__":
    sys.exit(main())
