"""The compose test builds images and starts containers for minutes: `make test-compose` runs it, and
`make test` leaves this folder out (--ignore), so it is never reported as skipped."""

from __future__ import annotations

from tests.e2e.conftest import audio_dir, phones  # noqa: F401  (the phones and their recordings, as in e2e)
