"""/metrics under gunicorn: one answer for all receiver processes, whichever is asked."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from hub.chatwoot.signature import sign
from tests.conftest import SAMPLE_DOMAINS, TEST_REDIS_URL, child_env
from tests.e2e.conftest import SECRET, message_created
from tests.e2e.test_lifecycle import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def served(tmp_path: Path, redis_client: redis.Redis) -> Iterator[ServeProcess]:
    """`chatwootai serve` with three processes, in prometheus_client's multiprocess mode."""
    env = child_env()
    env.update(
        {
            "CHATWOOTAI_REDIS_URL": TEST_REDIS_URL,
            "CHATWOOTAI_WEBHOOK_SECRET": SECRET,
            "CHATWOOTAI_DOMAINS_DIR": str(SAMPLE_DOMAINS),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "var"),
            "CHATWOOTAI_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        }
    )
    (tmp_path / "prometheus").mkdir()
    server = ServeProcess(env, workers=3)
    server.wait_ready()
    yield server
    server.stop()


def request(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    """One request on its own connection, so the kernel may hand it to any process."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        method, path, body=body or None, headers={"Content-Type": "application/json", **headers}
    )
    answer = conn.getresponse().read()
    conn.close()
    return answer


def test_every_receiver_process_answers_a_scrape_with_the_webhooks_all_of_them_took(
    served: ServeProcess,
) -> None:
    for n in range(12):
        body = json.dumps(message_created("retail", 800 + n, 8800 + n, "oi")).encode()
        ts = str(int(time.time()))
        signature = {"X-Chatwoot-Signature": sign(SECRET, ts, body), "X-Chatwoot-Timestamp": ts}
        request(served.port, "POST", "/webhooks/chatwoot", body, **signature)
    for _ in range(6):
        text = request(served.port, "GET", "/metrics").decode()
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        assert samples[("chatwootai_messages_queued_total", (("domain", "retail"),))] == 12
        events = (("event", "message_created"), ("outcome", "queued"))
        assert samples[("chatwootai_webhook_events_total", events)] == 12
        assert samples[("chatwootai_webhook_ack_seconds_count", ())] >= 12
