"""Parsing one export in a separate process (see service.parse_files for when and why).

Started as `python -m cartable.imports.worker` rather than through multiprocessing: the spawn
start method re-imports the parent's main module (a web server, a script without a main guard),
and forking a threaded web worker is unsafe. The request and the answer travel pickled over the
pipes; the worker sets Django up from the inherited environment, parses, and answers with the
rows and its part of the report. It never touches the database.
"""

from __future__ import annotations

import gc
import os
import pickle  # noqa: S403 - only between this process and its parent, over a private pipe
import subprocess
import sys
import time
from types import SimpleNamespace
from typing import IO, Any


def start(kind: str, path: str, etablissement: dict[str, Any], max_bytes: int) -> subprocess.Popen:
    """Launch a worker parsing `path`; collect its answer with `result()`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-m", "cartable.imports.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert process.stdin is not None
    pickle.dump((kind, path, etablissement, max_bytes), process.stdin)
    process.stdin.close()
    return process


def result(process: subprocess.Popen) -> tuple[str, Any, Any]:
    """('ok', data, report) or ('refused', ImportRefused, report); raises if the worker died."""
    assert process.stdout is not None
    try:
        answer = pickle.load(process.stdout)  # noqa: S301 - written by our own worker process
    except EOFError:
        process.wait()
        raise RuntimeError(f"import worker exited with status {process.returncode}") from None
    process.wait()
    return answer


def _parse(kind: str, path: str, etablissement: dict[str, Any], max_bytes: int) -> tuple[str, Any, Any]:
    import django

    django.setup()
    from django.conf import settings

    # The parent may run with overridden settings (tests): use its limit rather than our own.
    settings.IMPORT_MAX_UPLOAD_BYTES = max_bytes

    from .errors import ImportRefused, Report
    from .safexml import XmlDocument, open_input
    from .service import PARSERS, check_header

    report = Report()
    etab = SimpleNamespace(**etablissement)
    data: Any
    started, cpu = time.monotonic(), time.process_time()
    try:
        inp = open_input(path)
        with XmlDocument(inp) as doc:
            data = PARSERS[kind](doc, report, lambda header: check_header(etab, header, inp.label, report))
    except ImportRefused as exc:
        return "refused", exc, report
    report.timings[f"parse_{kind}_worker"] = round(time.monotonic() - started, 2)
    report.cpu[f"parse_{kind}_worker"] = round(time.process_time() - cpu, 2)
    if kind == "responsables":
        # Plain tuples pickle several times faster than named tuples (service reads them by position).
        data.persons = {key: tuple(row) for key, row in data.persons.items()}
        data.links = [tuple(link) for link in data.links]
    return "ok", data, report


def main(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    request = pickle.load(stdin)  # noqa: S301 - written by our parent process
    gc.disable()  # a short-lived process building millions of acyclic rows (see service.gc_paused)
    answer = _parse(*request)
    pickle.dump(answer, stdout, protocol=pickle.HIGHEST_PROTOCOL)
    stdout.flush()


if __name__ == "__main__":
    main(sys.stdin.buffer, sys.stdout.buffer)
