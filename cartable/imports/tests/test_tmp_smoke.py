import json

import pytest

from cartable.accounts.models import User
from cartable.imports.service import run_import


@pytest.mark.django_db
@pytest.mark.parametrize("fast", [False, True])
def test_smoke(etab, samples_dir, fast, monkeypatch):
    if fast:
        monkeypatch.setattr("cartable.imports.service.FAST_ACCOUNTS_FROM", 0)
        monkeypatch.setattr("cartable.imports.service.PARALLEL_FROM_BYTES", 0)
    files = [samples_dir / n for n in ("ElevesSansAdresses.xml", "ResponsablesAvecAdresses.xml", "sts_emp_0999999X_2026.xml")]
    run = run_import(etab, files)
    print(json.dumps({k: run.report[k] for k in ("created", "errors", "warnings", "timings")}, ensure_ascii=False))
    run2 = run_import(etab, files)
    print(json.dumps({k: run2.report[k] for k in ("created", "updated", "errors")}, ensure_ascii=False))
    assert run.status == "succeeded"
    assert User.objects.count() == 91
