"""Large SIECLE files: the Responsables file is parsed in a worker process (service._offload).

The samples are small, so the threshold is lowered: the result must be the same as in-process,
and a refusal found by the worker must still refuse the whole import.
"""

from __future__ import annotations

import pytest

from cartable.directory.models import Person
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

from .conftest import ELEVES, RESPONSABLES, STS, dump, person_block

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(monkeypatch):
    monkeypatch.setattr("cartable.imports.service.PARALLEL_FROM_BYTES", 0)


def test_worker_gives_the_same_result(etab, sample_files, worker, monkeypatch):
    run = run_import(etab, sample_files)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report["errors"]
    assert "wait_worker" in run.report["timings"]
    assert run.report["created"]["responsables"] == 54
    with_worker = dump()
    monkeypatch.setattr("cartable.imports.service.PARALLEL_FROM_BYTES", 10**12)
    again = run_import(etab, sample_files)
    assert not any(again.report["created"].values()) and not any(again.report["updated"].values())
    assert dump() == with_worker


def test_refusal_in_the_worker_refuses_everything(etab, samples_dir, variant, sample_text, worker):
    block = person_block(sample_text(RESPONSABLES), "990043")
    duplicated = variant(RESPONSABLES, {block: block + block}, count=1)
    run = run_import(etab, [samples_dir / STS, samples_dir / ELEVES, duplicated])
    assert run.status == ImportRun.Status.FAILED
    assert run.report["errors"][0]["message"].startswith("PERSONNE_ID 990043 en double")
    assert not Person.objects.exists()
