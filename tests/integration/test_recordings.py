"""Recordings: completing a file a dead node left, filing sidecars in SQL, the API."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
from flask.testing import FlaskClient

import settings
from bridge.recorder import DAMAGED, RAW, RUNNING, recover, write_sidecar
from store.migrations import migrated_engine
from store.recordings import RecordingRepository
from store.sql import make_sessions
from tests.support.audio import levels, write_tone

RECORDING_ID = "4100-1795350000000-bridge-1"


def folder(config: settings.Config) -> Path:
    path = config.var_path / "recordings"
    path.mkdir(parents=True, exist_ok=True)
    return path


def repository(config: settings.Config) -> RecordingRepository:
    return RecordingRepository(make_sessions(migrated_engine(config)), folder(config))


def finished(config: settings.Config, tmp_path: Path, recording_id: str = RECORDING_ID) -> Path:
    audio = write_tone(folder(config) / f"{recording_id}.wav", 440.0, 2.0)
    write_sidecar(folder(config), {"id": recording_id, "room": "4100", "node": "bridge-1",
                                   "started_at": 1795350000.0, "ended_at": 1795350002.0,
                                   "participants": ["sip:a@x", "sip:b@x"], "file": audio.name})
    return audio


def test_a_recording_left_running_is_completed_with_all_its_audio(config: settings.Config,
                                                                   tmp_path: Path) -> None:
    whole = write_tone(tmp_path / "whole.wav", 440.0, 3.0)
    running = folder(config) / f"{RECORDING_ID}{RUNNING}"
    raw = bytearray(whole.read_bytes())
    raw[4:8] = raw[40:44] = b"\0\0\0\0"  # what PJSIP's header says until the recorder is closed
    running.write_bytes(bytes(raw))
    assert recover(folder(config), "bridge-1") == [RECORDING_ID]
    with wave.open(str(folder(config) / f"{RECORDING_ID}.wav")) as wav:
        assert wav.getnframes() == 3 * 8000
    meta = json.loads((folder(config) / f"{RECORDING_ID}.json").read_text())
    assert (meta["room"], meta["node"], meta["started_at"]) == ("4100", "bridge-1", 1795350000.0)
    assert not running.exists()


def test_import_is_idempotent_and_import_all_files_what_the_queue_missed(config: settings.Config,
                                                                          tmp_path: Path) -> None:
    finished(config, tmp_path)
    repo = repository(config)
    assert repo.import_all() == 1
    assert repo.import_one(RECORDING_ID) is True
    assert repo.import_all() == 0
    (only,) = repo.list()
    assert only["room"] == "4100" and only["duration_seconds"] == 2.0
    assert only["participants"] == ["sip:a@x", "sip:b@x"]
    assert only["start"].startswith("2026-11-22")


def test_tracks_are_padded_to_line_up_with_the_mix_once_and_served(config: settings.Config, api: FlaskClient,
                                                                    auth: dict[str, str], tmp_path: Path) -> None:
    audio = write_tone(folder(config) / f"{RECORDING_ID}.wav", 440.0, 3.0)
    write_tone(folder(config) / f"{RECORDING_ID}.t1-0{RAW}", 600.0, 3.0)
    write_tone(folder(config) / f"{RECORDING_ID}.t2-1500{RAW}", 900.0, 1.0)  # entered 1.5 s in, left after 1 s
    write_sidecar(folder(config), {"id": RECORDING_ID, "room": "4100", "node": "bridge-1", "started_at": 1795350000.0,
                                   "ended_at": 1795350003.0, "participants": ["sip:a@x", "sip:b@x"],
                                   "file": audio.name, "tracks": [
                                       {"track": 1, "participant": "sip:a@x", "offset_ms": 0},
                                       {"track": 2, "participant": "sip:b@x", "offset_ms": 1500},
                                       {"track": 3, "participant": "sip:c@x", "offset_ms": 10}]})  # its file is lost
    repo = repository(config)
    assert repo.import_one(RECORDING_ID) and repo.import_one(RECORDING_ID)  # the second finds the padding done
    (filed,) = repo.list()
    assert filed["tracks"] == [
        {"track": 1, "participant": "sip:a@x", "starts_at_seconds": 0.0, "duration_seconds": 3.0},
        {"track": 2, "participant": "sip:b@x", "starts_at_seconds": 1.5, "duration_seconds": 2.5}]
    assert not list(folder(config).glob(f"*{RAW}"))
    second = api.get(f"/api/v1/recordings/{RECORDING_ID}/tracks/2/audio", headers=auth)
    assert second.status_code == 200 and second.mimetype == "audio/wav"
    downloaded = tmp_path / "track2.wav"
    downloaded.write_bytes(second.data)
    assert levels(downloaded, [900.0], 0.0, 1.4)[900.0] < -60.0  # silence until it entered
    assert levels(downloaded, [900.0], 1.6, 2.4)[900.0] > -20.0
    for missing in ("3", "0", "x", "99999999"):
        assert api.get(f"/api/v1/recordings/{RECORDING_ID}/tracks/{missing}/audio", headers=auth).status_code == 404


def test_the_tracks_a_dead_node_left_are_completed_and_filed_with_its_mix(config: settings.Config,
                                                                         tmp_path: Path) -> None:
    whole = write_tone(tmp_path / "whole.wav", 440.0, 1.0).read_bytes()
    raw = bytearray(whole)
    raw[4:8] = raw[40:44] = b"\0\0\0\0"  # what PJSIP's header says until the recorder is closed
    (folder(config) / f"{RECORDING_ID}{RUNNING}").write_bytes(bytes(raw))
    (folder(config) / f"{RECORDING_ID}.t2-250{RUNNING}").write_bytes(bytes(raw))  # in when the node died
    write_tone(folder(config) / f"{RECORDING_ID}.t1-0{RAW}", 600.0, 0.5)  # left before
    other = folder(config) / f"4100-1795350000005-bridge-2.t1-0{RUNNING}"
    other.write_bytes(bytes(raw))  # the host's other node is recording it now
    assert recover(folder(config), "bridge-1") == [RECORDING_ID]
    assert other.exists()
    assert repository(config).import_one(RECORDING_ID)
    (filed,) = repository(config).list()
    assert [(t["track"], t["starts_at_seconds"], t["duration_seconds"]) for t in filed["tracks"]] == [
        (1, 0.0, 0.5), (2, 0.25, 1.25)]


def test_a_sidecar_without_audio_is_not_filed(config: settings.Config) -> None:
    write_sidecar(folder(config), {"id": RECORDING_ID, "room": "4100", "node": "n", "started_at": 0,
                                   "ended_at": 1, "participants": [], "file": "x.wav"})
    assert repository(config).import_one(RECORDING_ID) is False


def test_api_lists_and_serves_recordings(config: settings.Config, api: FlaskClient, auth: dict[str, str],
                                         tmp_path: Path) -> None:
    finished(config, tmp_path)
    repository(config).import_all()
    listed = api.get("/api/v1/recordings?room=4100", headers=auth).get_json()
    assert [r["id"] for r in listed] == [RECORDING_ID]
    assert api.get("/api/v1/recordings?room=9", headers=auth).get_json() == []
    assert api.get(f"/api/v1/recordings/{RECORDING_ID}", headers=auth).get_json()["room"] == "4100"
    audio = api.get(f"/api/v1/recordings/{RECORDING_ID}/audio", headers=auth)
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    downloaded = tmp_path / "down.wav"
    downloaded.write_bytes(audio.data)
    assert levels(downloaded, [440.0], 0.2, 1.8)[440.0] > -20.0


@pytest.mark.parametrize("bad", ["nope", "..%2F..%2Fetc%2Fpasswd", "4100-1-x"])
def test_unknown_or_malformed_ids_are_404(api: FlaskClient, auth: dict[str, str], bad: str) -> None:
    assert api.get(f"/api/v1/recordings/{bad}", headers=auth).status_code == 404
    assert api.get(f"/api/v1/recordings/{bad}/audio", headers=auth).status_code == 404


def test_recordings_need_a_token(api: FlaskClient) -> None:
    assert api.get("/api/v1/recordings").status_code == 401


def test_bad_room_filter(api: FlaskClient, auth: dict[str, str]) -> None:
    response = api.get("/api/v1/recordings?room=abc", headers=auth)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "room"




def test_poisoned_files_left_running_are_set_aside_or_cut_and_never_stop_a_start(
        config: settings.Config, tmp_path: Path) -> None:
    whole = write_tone(tmp_path / "whole.wav", 440.0, 1.0).read_bytes()
    bad = {"4100-1795350000001-bridge-1": b"",  # killed before PJSIP wrote a byte
           "4100-1795350000002-bridge-1": whole[:30],  # cut inside the header
           "4100-1795350000003-bridge-1": b"garbage" * 20,  # not a WAV file
           "4100-1795350000004-bridge-1": whole[:44],  # a header and no audio
           "no-dashes": whole}  # a name not of ours
    for name, content in bad.items():
        (folder(config) / f"{name}{RUNNING}").write_bytes(content)
    odd = folder(config) / f"{RECORDING_ID}{RUNNING}"
    odd.write_bytes(whole + b"\x01")  # cut inside a sample
    running_elsewhere = folder(config) / f"4100-1795350000005-bridge-2{RUNNING}"
    running_elsewhere.write_bytes(whole)  # the host's other node is recording it now
    assert recover(folder(config), "bridge-1") == [RECORDING_ID]
    assert running_elsewhere.exists()
    with wave.open(str(folder(config) / f"{RECORDING_ID}.wav")) as wav:
        assert wav.getnframes() == 8000
    damaged = folder(config) / DAMAGED
    assert sorted(p.name for p in damaged.iterdir()) == sorted(f"{name}{RUNNING}" for name in bad)
    assert list(folder(config).glob(f"*{RUNNING}")) == [running_elsewhere]
    assert repository(config).import_all() == 1  # only the completed one is filed
