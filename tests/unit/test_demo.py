"""The demo data dir is filled once, completely, even when the first start is cut short."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kit_app.db import Store
from kit_app.db.models import Officer, Project, Source
from kit_app.services.demo import DEMO_META, DEMO_OFFICERS, DemoGenerator


class Stop(Exception):
    pass


def counts(store: Store) -> tuple[int, int, int, int]:
    with store.session() as s:
        return (s.scalar(select(func.count()).select_from(Source)) or 0,
                s.scalar(select(func.count(func.distinct(Source.credit_code)))) or 0,
                s.scalar(select(func.count()).select_from(Project)) or 0,
                s.scalar(select(func.count()).select_from(Officer)) or 0)


def test_fill_resumes_a_generation_cut_short(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DemoGenerator, "BATCH", 100)
    seen: list[int] = []

    def cut(done: int, _total: int) -> None:
        seen.append(done)
        if done >= 200:
            raise Stop  # the officer pressed Cancel, or the power went

    with pytest.raises(Stop):
        DemoGenerator(store, seed=1).fill(450, 40, progress=cut)
    assert store.meta(DEMO_META) == "200,0" and counts(store)[:3] == (200, 200, 0)

    DemoGenerator(store, seed=1).fill(450, 40, progress=lambda d, t: seen.append(d))
    sources, codes, projects, officers = counts(store)
    assert store.meta(DEMO_META) == "450,40"
    assert projects == 40 and officers == len(DEMO_OFFICERS)
    assert 450 <= sources <= 490 and codes == sources  # accepted projects may add sources; no code twice
    assert seen[-1] == 490 and seen[2] == 300  # the second run went on from 200

    DemoGenerator(store, seed=1).fill(450, 40)  # complete: nothing more
    assert counts(store) == (sources, codes, projects, officers)


def test_fill_leaves_a_data_dir_filled_before_progress_was_recorded(store: Store) -> None:
    DemoGenerator(store, seed=1).generate(120, 10, officers=False)
    before = counts(store)
    DemoGenerator(store, seed=1).fill(450, 40)
    assert counts(store)[:3] == before[:3] and counts(store)[3] == len(DEMO_OFFICERS)
    assert store.meta(DEMO_META) is None
