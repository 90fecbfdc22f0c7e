import uuid
from datetime import UTC, datetime

import pytest

from kit_app.ids import is_uuid, new_id, uuid7
from kit_app.timeutil import format_local, to_local


def test_uuid7_version_variant_and_order() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert ids == sorted(ids), "ids made in sequence must sort in sequence"
    assert len(set(ids)) == len(ids)


def test_is_uuid() -> None:
    assert is_uuid(new_id())
    assert not is_uuid("南宁市")
    assert not is_uuid("91350100M000100Y43")


def test_local_time_is_shanghai() -> None:
    utc = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)
    assert format_local(utc) == "2026-11-30 00:30"
    with pytest.raises(ValueError):
        to_local(datetime(2026, 1, 1))
