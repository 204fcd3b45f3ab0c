"""The application image installs what `make setup` installs to run kamconf (its build and test tools
aside): an image that lacked the recorded prompts' packages failed to build, and only the slow compose
test showed it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Needed to build the virtualenv and pjsua2 (the image's first stage) or only by the tests.
NOT_AT_RUN_TIME = {"python3-venv", "python3-dev", "build-essential", "swig", "sip-tester", "chromium",
                   "chromium-driver"}


def setup_packages() -> set[str]:
    listed = re.search(r"^packages=\(\n(.*?)^\)", (ROOT / "stack/setup.sh").read_text(), re.S | re.M)
    assert listed, "stack/setup.sh has no packages=( ... ) list"
    return set(listed.group(1).split())


def image_packages() -> set[str]:
    running_stage = (ROOT / "docker/Dockerfile").read_text().rsplit("\nFROM ", 1)[1]
    install = re.search(r"apt-get install -y -qq --no-install-recommends(.*?)>/dev/null", running_stage, re.S)
    assert install, "the Dockerfile's last stage installs no packages"
    return set(install.group(1).replace("\\", " ").split())


def test_the_image_runs_with_the_packages_setup_installs() -> None:
    assert setup_packages() - NOT_AT_RUN_TIME <= image_packages()
    assert not NOT_AT_RUN_TIME - setup_packages(), "a tool named here is no longer in stack/setup.sh"
