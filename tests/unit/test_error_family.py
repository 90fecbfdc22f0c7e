"""One error family: every exception the product defines is a KitError (a complete, translated
sentence the user can act on), so the task runner shows it instead of logging it as a bug and the
command line needs no list of names. The few that never reach a user are named here, with why."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from kit_app.errors import KitError

PACKAGES = ("kit_app", "devices", "forms", "reports", "central")
NOT_FOR_USERS = {
    "central.service.common.CentralError",  # the server's HTTP answer (status + detail); the kit maps it to SyncError
    "central.console.service.Refusal",  # a CentralError of the console's, worded in each reader's language on its page
    "kit_app.db.store.StoreAccessError",  # a bug (the store used from a thread that must not), never an officer's error
}


def defined_exceptions() -> dict[str, type]:
    found: dict[str, type] = {}
    for pkg in PACKAGES:
        root = importlib.import_module(pkg)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{pkg}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            mod = importlib.import_module(info.name)
            for _name, obj in inspect.getmembers(mod, inspect.isclass):
                if issubclass(obj, BaseException) and obj.__module__ == mod.__name__:
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_error_the_product_defines_is_a_kit_error() -> None:
    found = defined_exceptions()
    assert "devices.hj212.HJ212Error" in found and "forms.model.FormError" in found  # the walk reaches them
    outside = sorted(name for name, cls in found.items() if not issubclass(cls, KitError) and name not in NOT_FOR_USERS)
    assert outside == [], f"define these as KitError subclasses (kit_app.errors): {outside}"


def test_a_protocol_error_is_still_bad_input_to_its_callers() -> None:
    from devices.hj212 import HJ212Error, parse

    try:
        parse(b"##0010QN=1;CN=2\r\n")
    except HJ212Error as exc:
        assert isinstance(exc, KitError) and isinstance(exc, ValueError) and str(exc)
    else:
        raise AssertionError("a damaged packet was accepted")


def test_devices_json_has_a_schema_version_and_a_newer_one_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import pytest

    from devices.registry import CONFIG_SCHEMA, DeviceConfig, DeviceConfigs
    from kit_app.errors import DeviceError

    configs = DeviceConfigs(tmp_path)
    configs.add(DeviceConfig(name="GPS", driver="serial", port="COM3", protocol="nmea"))
    raw = json.loads((tmp_path / "devices.json").read_text(encoding="utf-8"))
    assert raw["schema"] == CONFIG_SCHEMA and [d["name"] for d in raw["devices"]] == ["GPS"]
    # the first format had no version: still read
    (tmp_path / "devices.json").write_text(json.dumps({"devices": raw["devices"]}), encoding="utf-8")
    assert [c.name for c in configs.load()] == ["GPS"]
    (tmp_path / "devices.json").write_text(json.dumps(raw | {"schema": CONFIG_SCHEMA + 1}), encoding="utf-8")
    with pytest.raises(DeviceError, match="newer version"):
        configs.load()
    (tmp_path / "devices.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DeviceError, match="damaged"):
        configs.load()
