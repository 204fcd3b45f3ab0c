"""What mixing silent legs costs a bridge node, and what automatic gain control costs: is skipping
silent legs in the mix worth building?

The load of bench.quality_cost (rooms of 5 through Kamailio and rtpengine, the load generator on
CPU 1, the node pinned to CPU 0), in four kinds of run, alternated round by round so all meet the
same machine-day:
- `tone, agc off` / `tone, agc on`: every caller sends a tone ([bridge] agc false / true);
- `silent, mixed`: every caller sends digital silence and every leg is mixed, as the node does;
- `silent, unmixed`: the same rooms made listen-only, so no leg is mixed at all: the most that
  skipping silent legs could save (every leg silent, every one skipped). RTP still reaches every
  leg (the load generator counts the packets), as it would with a real skip.
Usage: .venv/bin/python -m bench.silent_legs [--participants 300] [--rounds 2] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.bridge_capacity import loaded_stack, one_step, put_rooms
from tests.support.audio import write_samples, write_tone

KINDS = {  # name: (caller sends a tone, [bridge] agc, rooms listen-only)
    "tone, agc off": (True, False, False),
    "tone, agc on": (True, True, False),
    "silent, mixed": (False, True, False),
    "silent, unmixed": (False, True, True),
}


def run(kind: str, participants: int, seconds: float, tmp: Path) -> dict[str, float]:
    tone, agc, unmixed = KINDS[kind]
    with loaded_stack(tmp / f"var-{time.monotonic_ns()}", participants, agc=agc) as (config, supervisor):
        pid = supervisor.procs["bridge"].pid
        subprocess.run(["taskset", "-apc", "0", str(pid)], check=True, capture_output=True)
        put_rooms(config, participants, listen_only=unmixed)
        sound = (write_tone(tmp / "tone.wav", 440.0, 60) if tone
                 else write_samples(tmp / "silence.wav", np.zeros(60 * 8000)))
        return one_step(f"{config.sip.address}:{config.sip.port}", participants, seconds, sound, pid)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            kinds = list(KINDS) if round_no % 2 == 0 else list(reversed(KINDS))  # whatever order favours
            for kind in kinds:
                result = run(kind, args.participants, args.seconds, Path(tmp))
                print(json.dumps({"participants": args.participants, "round": round_no + 1, "kind": kind,
                                  **result}), flush=True)


if __name__ == "__main__":
    main()
