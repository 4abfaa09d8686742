"""AGENDA_LOG_FORMAT=json: every record, uvicorn's access log included, is one JSON object.

Run in a child process: the setup changes the process's logging, which pytest also uses.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging
from agenda.logs import setup_logging
setup_logging("json", service=True)
logging.getLogger("aggregator.schedule").info("harvested %s: %s", "twente", "success")
access = logging.getLogger("uvicorn.access")
access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/bronnen", "1.1", 200)
logging.getLogger("aggregator.schedule").debug("not at INFO")
try:
    raise ValueError("kapot")
except ValueError:
    logging.getLogger("aggregator.harvest").exception("unexpected error harvesting %s", "ua")
"""


def test_json_logs_are_one_object_a_record() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(r["logger"], r["level"], r["message"]) for r in records] == [
        ("aggregator.schedule", "INFO", "harvested twente: success"),
        ("uvicorn.access", "INFO", '127.0.0.1:5 - "GET /bronnen HTTP/1.1" 200'),
        ("aggregator.harvest", "ERROR", "unexpected error harvesting ua"),
    ]
    assert "ValueError: kapot" in records[2]["exc_info"]
    assert all(r["time"][:2] == "20" and r["time"][-5] in "+-" for r in records)
