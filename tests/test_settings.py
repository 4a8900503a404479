"""Settings: typed, JSON under the config folder, schema-versioned, never pickled."""

from __future__ import annotations

import json

import pytest

from core.session.settings import SCHEMA_VERSION, Settings, config_dir, settings_path
from core.utils import SpindleScopeError


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINDLESCOPE_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def test_env_overrides_folder(cfg):
    assert config_dir() == cfg and cfg.is_dir()
    assert settings_path() == cfg / "settings.json"


def test_round_trip_as_json(cfg):
    s = Settings(page_duration=20, n_channels=12, highpass=0.5, lowpass=30.0,
                 notch=50.0, sigma_overlay=True, scorer="ab", default_visibility="meg")
    s.scalings["eeg"] = 50e-6
    s.add_recent(cfg / "a.fif")
    s.add_recent(cfg / "b.fif")
    s.add_recent(cfg / "a.fif")
    path = s.save()
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["recent_files"][0].endswith("a.fif") and len(data["recent_files"]) == 2
    back = Settings.load()
    assert back == s
    assert back.sigma_band == (11.0, 16.0)
    assert back.scalings["eeg"] == 50e-6 and back.scalings["mag"] == 1e-12


def test_missing_and_corrupt_files_give_defaults(cfg):
    assert Settings.load() == Settings()
    settings_path().write_text("{not json")
    assert Settings.load() == Settings()
    assert (cfg / "settings.json.bad").exists()  # kept for inspection
    # unknown keys (from a later minor version) are ignored
    settings_path().write_text(json.dumps({"schema_version": 1, "page_duration": 10,
                                           "shiny_new_option": 3}))
    assert Settings.load().page_duration == 10


def test_newer_schema_and_bad_values_are_refused(cfg):
    with pytest.raises(SpindleScopeError, match="newer SpindleScope"):
        Settings.from_dict({"schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(SpindleScopeError, match="page_duration"):
        Settings.from_dict({"page_duration": 3})
    with pytest.raises(SpindleScopeError, match="high-pass"):
        Settings(highpass=20.0, lowpass=10.0).validate()
    with pytest.raises(SpindleScopeError, match="default_visibility"):
        Settings(default_visibility="ecg").validate()
    # a file with a bad value falls back to defaults instead of crashing start-up
    settings_path().write_text(json.dumps({"schema_version": 1, "n_channels": -4}))
    assert Settings.load() == Settings()


def test_wrong_types_fall_back_to_defaults_and_keep_the_file(tmp_path):
    # issue 14: "autosave": "false" is truthy text; such a file must not
    # silently turn autosave on or off, nor crash start-up
    import json

    from core.session.settings import Settings

    for bad in ({"autosave": "false"}, {"scalings": [1, 2]}, {"sigma_band": 5},
                {"highpass": "1", "lowpass": 0.5}, {"recent_files": 3},
                {"scorer": 7}, {"page_duration": float("nan")}):
        path = tmp_path / "settings.json"
        path.write_text(json.dumps(bad))
        s = Settings.load(path)
        assert s == Settings()
        assert json.loads((tmp_path / "settings.json.bad").read_text()) == \
            json.loads(json.dumps(bad))
    deep = "[" * 100000 + "]" * 100000
    path.write_text(deep)
    assert Settings.load(path) == Settings()


def test_settings_are_written_through_the_atomic_writer(tmp_path, monkeypatch):
    import core.session.settings
    from core.session.settings import Settings

    calls = []
    real = core.session.settings.atomic_write_text
    monkeypatch.setattr(core.session.settings, "atomic_write_text",
                        lambda p, t: calls.append(p) or real(p, t))
    path = Settings(scorer="ana").save(tmp_path / "settings.json")
    assert calls == [path] and Settings.load(path).scorer == "ana"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]
