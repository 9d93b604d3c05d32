"""The pipeline rides out a broker restart: it keeps running, reconnects and lands what comes next."""

from __future__ import annotations

import os
import time

import pytest

from ingest.broker import ensure_topics, free_port, start_broker
from tests.conftest import Env, stop_process, wait_until
from tests.integration.test_ingest_kafka import _landed_so_far, good_messages, produce


@pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")), reason="restarts its own embedded broker")
def test_pipeline_survives_a_broker_restart(tmp_path, bootstrap_servers) -> None:
    port = free_port()
    broker = start_broker("127.0.0.1", port)
    env = Env(tmp_path, broker.bootstrap_servers, "restart", free_port())
    proc = None
    try:
        env.create_topics()
        produce(env, good_messages(25))
        proc = env.start_pipeline()
        wait_until(lambda: _landed_so_far(env) == 100, message="first wave landed")
        broker.stop()
        time.sleep(3)  # the broker stays down for a while: the pipeline must neither exit nor spin
        assert proc.poll() is None, env.pipeline_log()
        broker = start_broker("127.0.0.1", port)  # memory storage: topics and offsets are gone
        ensure_topics(env.settings().kafka)
        wait_until(lambda: env.pipeline_log().count("assigned ") >= 2, timeout=90, message="rejoined the group")
        produce(env, good_messages(25, prefix="after-restart"))
        wait_until(lambda: _landed_so_far(env) == 200, timeout=90, message="events after the restart landed")
        assert stop_process(proc) == 0, env.pipeline_log()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        broker.stop()
