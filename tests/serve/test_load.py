"""A small load test on a real uvicorn server: concurrent requests never give a 5xx."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter

REQUESTS = 200
THREADS = 8
BODIES = [
    ("/api/decode", {"z": [[0.1, -0.2, 0.3]] * 4}),
    ("/api/map/decode", {"point": [0.1, 0.2]}),
    ("/api/sample", {"n": 4, "temperature": 0.8, "seed": 1}),
    ("/api/interpolate", {"z_a": [0, 0, 0], "z_b": [1, 1, 1], "steps": 4}),
    ("/api/decode", {"z": [[0.0, 0.0]]}),  # a bad request: wrong dims, a 422
]


def worker(port: int, jobs: list[int], statuses: Counter, lock: threading.Lock) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for job in jobs:
        path, body = BODIES[job % len(BODIES)]
        connection.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        with lock:
            statuses[response.status] += 1
    connection.close()


def test_concurrent_requests_have_no_server_errors(server):
    statuses: Counter = Counter()
    lock = threading.Lock()
    jobs = [list(range(i, REQUESTS, THREADS)) for i in range(THREADS)]
    threads = [threading.Thread(target=worker, args=(server.port, j, statuses, lock)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:  # a bound for a hung server only, far above the seconds it takes
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "load test did not finish in time"
    assert sum(statuses.values()) == REQUESTS
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses[422] == REQUESTS // len(BODIES)
    assert statuses[200] == REQUESTS - statuses[422]
