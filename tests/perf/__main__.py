"""`make bench`: the pipeline's figures, measured in one run on one machine.

Writes var/bench/pipeline.json with:
- webhook ack latency (p50/p95/p99) at a fixed offered rate, and the receiver's
  maximum throughput, over real HTTP to gunicorn;
- end-to-end replies per second with the offline model (receiver → Redis →
  worker process → fake Chatwoot), against a bare CrewAI kickoff of the same
  crew outside the pipeline as the reference;
- end-to-end replies per second with a model that takes 2 s per call (a local
  OpenAI-compatible server).
And var/bench/retrieval.json: retrieval quality (hit rate at 3 over the
conversation tests' questions), ingest time and index size (`tests.perf.retrieval`);
var/bench/neighbours.json: one domain's reply latency alone and beside another
domain's flood, each on its own worker (`tests.perf.neighbours`);
var/bench/fairness.json: a tenant's replies beside another's flood on a shared queue,
the receiver's ack over 1,000 tenants, BRPOP's key count (`tests.perf.fairness`);
var/bench/sentiment.json: the sentiment plugin's accuracy on its labelled set
(`tests.perf.sentiment`); var/bench/paraphrases.json: the offline model's share of
right facts and of replies in the asked language on tests/answers/paraphrases.yaml
(`tests.perf.paraphrases`); var/bench/answers.json: every story and the paraphrase
set with the offline and the real local model, and what the reply gate refused
(`tests.perf.answers`); var/bench/outages.json: Chatwoot down 10 minutes, PostgreSQL
down 60 s, Redis restarted, the model down, and a worker killed under a CPU hog 5 times,
each exactly once (`tests.perf.outages`);
var/bench/console.json: the console's page load times with
generated tenants and traced turns (`tests.perf.console`);
var/bench/real_turns.json: where five real-model turns spend
their seconds and prompt tokens (`tests.perf.real_turns`); var/bench/prompt_tokens.json:
the prompt tokens those turns make llama-server process, counted with its tokenizer
without running the model (`tests.perf.prompt_tokens`);
var/bench/tenants.json: a worker beside 10 and 1,000
generated tenants, its start time and memory, and a tenant added while it runs
(`tests.perf.tenants`);
var/bench/cache.json: a replayed day of traffic with the
answer cache off and on, hit rate, model calls and tokens saved, turn times, and
cached answers that were wrong for their turn (`tests.perf.cache`).
Each end-to-end round checks that every message got exactly one reply
(`tests.perf.exactly_once`); the bench exits non-zero naming the rounds that did not.
Redis is the one at CHATWOOTAI_BENCH_REDIS_URL (default 127.0.0.1:6379/14), or
an embedded one when that does not answer, so a fresh machine can run it too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

import hub  # noqa: F401  (CrewAI environment before crewai is imported)
from hub.chatwoot.signature import sign
from hub.defaults import OFFLINE_WORKER_CONCURRENCY
from tests.conftest import ROOT, SAMPLE_DOMAINS
from tests.e2e.conftest import ACCOUNTS, SECRET, message_created
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI
from tests.perf.exactly_once import check, describe, settle

OUT = ROOT / "var" / "bench"

REDIS_URL = os.environ.get("CHATWOOTAI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

SETTLE_SECONDS = 120.0
"""How long a round waits, after its last expected reply, for tasks still queued or held
(a retry's backoff, a busy conversation's recheck) before its replies are counted."""

LOGS: dict[str, Any] = {"dir": None, "level": "WARNING", "count": 0}
"""`--logs`: where the receiver's and workers' output goes (None: discarded), at what level."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def base_env(tmp: Path, chatwoot_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWOOTAI_")}
    env.update(
        {
            "CHATWOOTAI_REDIS_URL": REDIS_URL,
            "CHATWOOTAI_CHATWOOT_URL": chatwoot_url,
            "CHATWOOTAI_WEBHOOK_SECRET": SECRET,
            "CHATWOOTAI_DOMAINS_DIR": str(SAMPLE_DOMAINS),
            "CHATWOOTAI_DATA_DIR": str(tmp),
            "CHATWOOTAI_LOG_LEVEL": str(LOGS["level"]),
            "CHATWOOTAI_LOG_FORMAT": "json",
            "CHATWOOTAI_RETAIL_TOKEN": "bench-token",
            # Every message is its own conversation's only one: a burst window would
            # only delay the first replies (and defer each fresh message once).
            "CHATWOOTAI_BURST_WINDOW_SECONDS": "0",
            **extra,
        }
    )
    return env


def start(
    argv: list[str], env: dict[str, str], ready: Callable[[], bool], timeout: float = 90
) -> subprocess.Popen[bytes]:
    if ready():  # another bench's receiver on this port, or a worker left on this Redis
        raise RuntimeError(f"{argv} would not be the one answering: something already does")
    output: Any = subprocess.DEVNULL
    if LOGS["dir"] is not None:
        LOGS["count"] += 1
        name = f"{LOGS['count']:03d}-{Path(argv[0]).name}-{argv[1]}.log"
        output = open(Path(LOGS["dir"]) / name, "wb")  # noqa: SIM115 (the child keeps it)
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=output, stderr=output)
    if output is not subprocess.DEVNULL:
        output.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return process
        if process.poll() is not None:
            raise RuntimeError(f"{argv} exited with {process.returncode}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{argv} did not become ready")


def http_ready(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    return check


def worker_ready(name: str) -> Callable[[], bool]:
    """A worker is ready when its Celery node (`name`) answers a ping on the broker."""
    from hub.queue import create_celery
    from hub.settings import Settings

    app = create_celery(Settings(redis_url=REDIS_URL))
    node = name.replace("%h", socket.gethostname())

    def check() -> bool:
        return bool(app.control.ping(destination=[node], timeout=0.5))

    return check


def signed_request(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    return body, {
        "Content-Type": "application/json",
        "X-Chatwoot-Signature": sign(SECRET, ts, body),
        "X-Chatwoot-Timestamp": ts,
        "X-Chatwoot-Delivery": str(uuid.uuid4()),
    }


class Loader:
    """Open-loop load: requests start on a fixed schedule, whatever the previous did."""

    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self.connections = connections
        self._counter = iter(range(10**9))
        self._lock = threading.Lock()

    def payload(self) -> dict[str, Any]:
        with self._lock:
            n = next(self._counter)
        return message_created("retail", 100_000 + n, 1_000_000 + n, "Qual o horário?")

    def run(self, rate: float | None, seconds: float) -> dict[str, Any]:
        # Bodies are signed before the clock starts: the loader shares the CPUs it measures.
        budget = int((rate or 2000) * seconds * 1.2) + 100
        prepared = [signed_request(self.payload()) for _ in range(budget)]
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        started = time.perf_counter()
        interval = self.connections / rate if rate else 0.0

        def loop(offset: float) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            next_at = started + offset
            while True:
                now = time.perf_counter()
                if now - started >= seconds:
                    break
                if interval and now < next_at:
                    time.sleep(next_at - now)
                with self._lock:
                    if not prepared:
                        break
                    body, headers = prepared.pop()
                t0 = time.perf_counter()
                conn.request("POST", "/webhooks/chatwoot", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - t0
                with self._lock:
                    latencies.append(elapsed)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                next_at += interval
            conn.close()

        threads = [
            threading.Thread(target=loop, args=(i * interval / self.connections,))
            for i in range(self.connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        duration = time.perf_counter() - started
        return {
            "offered_rate": rate,
            "requests": len(latencies),
            "throughput_per_s": round(len(latencies) / duration, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "statuses": statuses,
        }


def bench_ack(tmp: Path, port: int, seconds: float) -> dict[str, Any]:
    chatwoot = FakeChatwoot(tokens={"bench-token": 3})
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = base_env(tmp, chatwoot.url)
    gunicorn = [
        str(Path(sys.executable).parent / "chatwootai"),
        "serve",
        "--port",
        str(port),
        "--workers",
        "3",
    ]
    server = start(gunicorn, env, http_ready(port))
    try:
        Loader(port, 8).run(100, 2)  # warm-up
        fixed = Loader(port, 16).run(300, seconds)
        flat_out = Loader(port, 16).run(None, seconds)
    finally:
        server.terminate()
        server.wait()
        client.flushdb()
        chatwoot.close()
    return {"at_300_rps": fixed, "max_throughput": flat_out}


def bench_end_to_end(
    tmp: Path,
    port: int,
    messages: int,
    model: dict[str, str],
    worker_args: list[str],
    workers: int,
    stall: float = 0.0,
) -> dict[str, Any]:
    """`stall`: seconds the fake takes to answer one reply post halfway through (it
    stores the reply all the same), 0 for none."""
    chatwoot = FakeChatwoot(tokens={"bench-token": 3})
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = base_env(tmp, chatwoot.url, **model)
    cli = str(Path(sys.executable).parent / "chatwootai")
    server = start([cli, "serve", "--port", str(port), "--workers", "3"], env, http_ready(port))
    # As Chatwoot does, the fake sends the bot a copy of each reply it stores: the receiver
    # files them, and a worker that did not hear back from a post looks there.
    copies = chatwoot.deliver_webhooks(
        f"http://127.0.0.1:{port}/webhooks/chatwoot",
        SECRET,
        {ACCOUNTS["retail"][0]: ACCOUNTS["retail"][1]},
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(workers):
            name = f"bench{i}@%h"
            argv = [cli, "worker", "--domains", "retail", "--name", name, *worker_args]
            procs.append(start(argv, env, worker_ready(name)))
        # Message ids from the fake's sequence, as Chatwoot numbers every message it stores:
        # a reply's id is greater than the customer message's it answers.
        payloads = [
            message_created("retail", 100_000 + n, chatwoot.message_id(), "Qual o horário?")
            for n in range(messages)
        ]
        conversations = [int(payload["conversation"]["id"]) for payload in payloads]
        bodies = [signed_request(payload) for payload in payloads]
        started, sent_at = time.perf_counter(), time.time()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for body, headers in bodies:
            conn.request("POST", "/webhooks/chatwoot", body=body, headers=headers)
            conn.getresponse().read()
        deadline = time.monotonic() + 600
        stalled = not stall
        while len(chatwoot.messages()) < messages and time.monotonic() < deadline:
            if not stalled and len(chatwoot.messages()) >= messages // 2:
                chatwoot.slow_next(1, stall, path="/messages")
                stalled = True
            time.sleep(0.05)
        duration = time.perf_counter() - started
        done = len(chatwoot.messages())
        stamps = sorted(r["time"] for r in chatwoot.requests("/messages") if r["status"] < 300)
        # Not counted in the figures: whatever could still post (a retry, a recheck) has.
        from hub import defaults
        from hub.queue import queue_for, queue_keys

        shard = queue_for("retail", dedicated=False, shards=defaults.QUEUE_SHARDS)
        settled = settle(client, queue_keys(shard), chatwoot, SETTLE_SECONDS)
        once = check(chatwoot, conversations, sent_at)
        copies.wait_idle()
        once["copies_to_the_bot"] = dict(Counter(d["status"] for d in copies.deliveries()))
    finally:
        server.terminate()
        for proc in procs:
            proc.terminate()
        for proc in [server, *procs]:
            proc.wait()
        client.flushdb()
        chatwoot.close()
    # Steady state: from the first reply to the last, so neither the worker's warm-up
    # nor the time the first message takes to cross the pipeline counts as throughput.
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return {
        "messages": messages,
        "replied": done,
        "seconds": round(duration, 2),
        "replies_per_s": round(done / duration, 2),
        "steady_replies_per_s": round(steady, 2),
        "workers": workers,
        "worker_args": worker_args,
        "exactly_once": {**once, "settled": settled},
        **({"stalled_post_seconds": stall} if stall else {}),
    }


def bench_bare_kickoff(runs: int, threads: int) -> dict[str, Any]:
    """The same crew (retail support) with the offline model, straight CrewAI kickoffs."""
    from hub.crews.factory import CrewFactory
    from hub.crews.llm import build_llm
    from hub.domains.registry import DomainRegistry
    from hub.settings import Settings
    from hub.turn import Turn, TurnContext

    settings = Settings(domains_dir=SAMPLE_DOMAINS, data_dir=OUT / "tmp")
    factory = CrewFactory(DomainRegistry(SAMPLE_DOMAINS), settings)
    hub_crew = factory.hub("retail")
    kit = hub_crew.kit
    inputs = hub_crew.inputs(Turn(message="Qual o horário?"))

    def one() -> None:
        context = TurnContext("retail")
        llm = build_llm(
            kit.domain,
            settings,
            question="Qual o horário?",
            knowledge=kit.knowledge,
            context=context,
        )
        factory.builder.build(kit, "support", llm, context).kickoff(inputs=inputs)

    one()
    counter = iter(range(runs))
    lock = threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            one()

    started = time.perf_counter()
    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    duration = time.perf_counter() - started
    return {"runs": runs, "threads": threads, "kickoffs_per_s": round(runs / duration, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument(
        "--slow-messages",
        type=int,
        default=900,
        help="messages for the 2-second model: 200 turns in flight need several waves "
        "of them before the rate is a steady one",
    )
    benches = [
        "ack",
        "offline",
        "slow",
        "retrieval",
        "neighbours",
        "fairness",
        "sentiment",
        "paraphrases",
        "answers",
        "outages",
        "console",
        "real_turns",
        "prompt_tokens",
        "tenants",
        "cache",
    ]
    parser.add_argument("--only", choices=benches, action="append")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="rounds of the offline and neighbours comparisons (medians: the machine is noisy)",
    )
    parser.add_argument(
        "--phase-seconds", type=float, default=40, help="length of each neighbours phase"
    )
    parser.add_argument(
        "--flood", type=int, default=1000, help="tenant A's messages in the fairness bench"
    )
    parser.add_argument(
        "--tenants", type=int, default=1000, help="generated tenants in the fairness ack bench"
    )
    parser.add_argument(
        "--logs",
        type=Path,
        help="keep the receiver's and workers' output in this directory, one file each",
    )
    parser.add_argument("--log-level", default="WARNING", help="their level with --logs")
    parser.add_argument(
        "--stall-post",
        type=float,
        default=0.0,
        help="offline rounds: the fake Chatwoot answers one reply post halfway through only "
        "after this many seconds, storing it all the same (over the worker's 10 s timeout: "
        "a post the worker never hears back about)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8931,
        help="the receiver's port in the first bench, one more in each next one "
        "(another bench on the same machine needs other ports)",
    )
    args = parser.parse_args()
    if args.logs is not None:
        args.logs.mkdir(parents=True, exist_ok=True)
        LOGS.update(dir=args.logs, level=args.log_level)
    global REDIS_URL
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        from hub.kvstore import embedded_redis_url

        REDIS_URL = embedded_redis_url(OUT / "redis" / "bench.rdb")
    wanted = set(args.only or benches)
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = OUT / "tmp"
    path = OUT / "pipeline.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    results.update(
        {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    failures: list[str] = []
    if "ack" in wanted:
        print("webhook ack…", flush=True)
        results["ack"] = bench_ack(tmp, args.port, args.seconds)
        print(json.dumps(results["ack"]), flush=True)
    if "offline" in wanted:
        # This machine is shared and noisy: alternate the two measurements and keep
        # the median of each, so a slow minute does not decide the ratio.
        bare_runs, pipeline_runs = [], []
        for round_ in range(args.rounds):
            print(f"bare kickoff, round {round_ + 1}…", flush=True)
            # As many threads as the pipeline's worker runs (its default for the offline
            # model), so both pay the same contention between concurrent kickoffs: on 2
            # cores one thread is the fastest for both (CrewAI hands every event to its
            # thread pool), but a worker also waits on Chatwoot, which threads overlap.
            bare_runs.append(bench_bare_kickoff(args.messages, OFFLINE_WORKER_CONCURRENCY))
            print(bare_runs[-1], flush=True)
            print(f"end to end, offline model, round {round_ + 1}…", flush=True)
            pipeline_runs.append(
                bench_end_to_end(
                    tmp, args.port + 1, args.messages, {}, [], workers=1, stall=args.stall_post
                )
            )
            print(pipeline_runs[-1], flush=True)
            failures += exactly_once(f"offline round {round_ + 1}", pipeline_runs[-1])
        bare = statistics.median(run["kickoffs_per_s"] for run in bare_runs)
        steady = statistics.median(run["steady_replies_per_s"] for run in pipeline_runs)
        whole = statistics.median(run["replies_per_s"] for run in pipeline_runs)
        results["bare_kickoff"] = {"runs": bare_runs, "median_kickoffs_per_s": bare}
        results["offline_end_to_end"] = {
            "runs": pipeline_runs,
            "median_steady_replies_per_s": steady,
            "median_replies_per_s_including_warm_up": whole,
        }
        results["offline_vs_bare"] = round(steady / bare, 2)
        print(f"offline pipeline / bare kickoff = {results['offline_vs_bare']}", flush=True)
    if "slow" in wanted:
        print("end to end, 2-second model…", flush=True)
        slow = FakeOpenAI()
        slow.delay_seconds = 2.0
        try:
            results["slow_model_end_to_end"] = bench_end_to_end(
                tmp,
                args.port + 2,
                args.slow_messages,
                {
                    "CHATWOOTAI_LLM": "openai/slow-model",
                    "CHATWOOTAI_LLM_BASE_URL": slow.url,
                    "CHATWOOTAI_LLM_API_KEY": "sk-local",
                },
                # Little's law: 20 replies/s of turns that each wait ≥ 2 s on the model
                # need ≥ 40 in flight, and more while threads queue on their process's
                # GIL; 2 × 64 sustained 17-19/s on this VM, 2 × 100 21.5/s.
                ["--concurrency", "100"],
                workers=2,
            )
        finally:
            slow.close()
        print(results["slow_model_end_to_end"], flush=True)
        failures += exactly_once("2-second model", results["slow_model_end_to_end"])
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written to {path}")
    if "retrieval" in wanted:
        from tests.perf.retrieval import bench_retrieval

        print("retrieval quality…", flush=True)
        retrieval = bench_retrieval(tmp, SAMPLE_DOMAINS)
        (OUT / "retrieval.json").write_text(json.dumps(retrieval, indent=2), encoding="utf-8")
        print(json.dumps({k: v for k, v in retrieval.items() if not isinstance(v, dict)}))
        for name, figures in retrieval.items():
            if isinstance(figures, dict) and "hit_rate_at_3" in figures:
                print(
                    f"{name}: hit@3 {figures['hit_rate_at_3']} ({figures['hits']}/"
                    f"{retrieval['questions']}), {figures['query_ms_p50']} ms"
                )
        print(f"written to {OUT / 'retrieval.json'}")
    if "console" in wanted:
        from tests.perf.console import bench_console

        console = bench_console(tmp)
        console["machine"], console["at"] = results["machine"], results["at"]
        (OUT / "console.json").write_text(json.dumps(console, indent=2), encoding="utf-8")
        for user, pages in console["pages"].items():
            for path, figures in pages.items():
                print(f"console ({user}, {console['tenants']} tenants) {path}: {figures}")
        print(f"written to {OUT / 'console.json'}")
    if "sentiment" in wanted:
        from tests.perf.sentiment import bench_sentiment

        sentiment = bench_sentiment()
        sentiment["machine"], sentiment["at"] = results["machine"], results["at"]
        (OUT / "sentiment.json").write_text(json.dumps(sentiment, indent=2), encoding="utf-8")
        split = sentiment["accuracy_by"]
        print(
            f"sentiment: accuracy {sentiment['accuracy']} on {sentiment['messages']} messages "
            f"(held-out {split['split:heldout']['accuracy']}, n={split['split:heldout']['n']}), "
            f"{sentiment['microseconds_per_message_p50']} µs per message"
        )
        print(f"written to {OUT / 'sentiment.json'}")
    if "paraphrases" in wanted:
        from tests.perf.paraphrases import bench_paraphrases

        paraphrases = bench_paraphrases(tmp)
        paraphrases["machine"], paraphrases["at"] = results["machine"], results["at"]
        (OUT / "paraphrases.json").write_text(json.dumps(paraphrases, indent=2), encoding="utf-8")
        print(
            f"paraphrases ({paraphrases['model']}): right facts {paraphrases['facts_share']}, "
            f"in the asked language {paraphrases['language_share']}, "
            f"on {paraphrases['questions']} questions"
        )
        print(f"written to {OUT / 'paraphrases.json'}")
    if "answers" in wanted:
        from tests.perf.answers import bench_answers

        answers = bench_answers(OUT)
        answers["machine"], answers["at"] = results["machine"], results["at"]
        cases = os.environ.get("CHATWOOTAI_BENCH_ANSWERS_CASES")
        name = "answers-cases.json" if cases else "answers.json"
        (OUT / name).write_text(json.dumps(answers, indent=2), encoding="utf-8")
        print(f"written to {OUT / name}")

    if "real_turns" in wanted:
        from tests.perf.real_turns import bench_real_turns

        print("real model turns…", flush=True)
        bench_real_turns(OUT)
        print(f"written to {OUT / 'real_turns.json'}")

    if "prompt_tokens" in wanted:
        from tests.perf.prompt_tokens import bench_prompt_tokens

        print("prompt tokens of the real model's turns…", flush=True)
        bench_prompt_tokens(OUT)
        print(f"written to {OUT / 'prompt_tokens.json'}")

    if "cache" in wanted:
        from tests.perf.cache import bench_cache

        print("answer cache: a day replayed, cache off and on…", flush=True)
        bench_cache(REDIS_URL)
        print(f"written to {OUT / 'cache.json'}")

    if "neighbours" in wanted:
        from tests.perf.neighbours import bench_neighbours

        print("noisy neighbours…", flush=True)
        neighbours = bench_neighbours(
            tmp, args.port + 3, REDIS_URL, args.rounds, args.phase_seconds
        )
        neighbours["machine"], neighbours["at"] = results["machine"], results["at"]
        (OUT / "neighbours.json").write_text(json.dumps(neighbours, indent=2), encoding="utf-8")
        print(
            f"{neighbours['setup']['quiet_domain']} p95: alone "
            f"{neighbours['median_alone_p95_ms']} ms, beside the flood "
            f"{neighbours['median_beside_flood_p95_ms']} ms; ratio "
            f"{neighbours['median_p95_ratio']} (rounds {neighbours['p95_ratio_spread']}), "
            f"budget {neighbours['budget_ratio']}"
        )
        print(f"written to {OUT / 'neighbours.json'}")
    if "outages" in wanted:
        from tests.perf.outages import bench_outages

        print("outages (about 25 minutes)…", flush=True)
        outages = bench_outages(OUT)
        outages["machine"], outages["at"] = results["machine"], results["at"]
        (OUT / "outages.json").write_text(json.dumps(outages, indent=2), encoding="utf-8")
        print(f"outages: {outages['pytest']}; written to {OUT / 'outages.json'}")
        if not outages["passed"]:
            failures.append("outages")
    if "tenants" in wanted:
        import tests.perf.tenants as tenants

        tenants.REDIS_URL = REDIS_URL
        print("many tenants on one worker…", flush=True)
        many = tenants.bench_tenants(tmp, [10, 1000], 200, args.port + 5)
        many["machine"], many["at"] = results["machine"], results["at"]
        (OUT / "tenants.json").write_text(json.dumps(many, indent=2), encoding="utf-8")
        print(f"written to {OUT / 'tenants.json'}")
    if "fairness" in wanted:
        from tests.perf.fairness import bench_fairness

        print("fairness…", flush=True)
        fairness = bench_fairness(
            tmp,
            args.port + 5,
            REDIS_URL,
            flood=args.flood,
            tenants=args.tenants,
            seconds=args.seconds,
        )
        fairness["machine"], fairness["at"] = results["machine"], results["at"]
        (OUT / "fairness.json").write_text(json.dumps(fairness, indent=2), encoding="utf-8")
        flood = fairness["flood"]
        print(
            f"B p95 alone {flood['b_alone']['p95_ms']} ms, beside A's flood "
            f"{flood['b_beside_flood']['p95_ms']} ms: ratio {flood['p95_ratio']} "
            f"(budget {flood['budget_ratio']}); ack p99 over {fairness['ack']['tenants']} tenants "
            f"{fairness['ack']['all_tenants']['p99_ms']} ms, over 4 "
            f"{fairness['ack']['four_tenants']['p99_ms']} ms; BRPOP keys "
            f"{fairness['brpop_keys']['before_one_queue_per_domain']} → "
            f"{fairness['brpop_keys']['now_keys']}"
        )
        print(f"written to {OUT / 'fairness.json'}")
    if failures:
        sys.exit("not exactly once: " + ", ".join(failures))


def exactly_once(name: str, run: dict[str, Any]) -> list[str]:
    """Print what went wrong when a round's replies differ from its messages; its name
    in a list then (the bench fails at the end), else an empty list."""
    once = run["exactly_once"]
    if once["ok"]:
        return []
    print(
        f"{name}: {once['messages']} messages, {once['accepted_replies']} replies"
        + ("" if once["settled"] else " (tasks were still in flight)"),
        flush=True,
    )
    for line in describe(once["wrong"]):
        print(f"  {line}", flush=True)
    return [name]


if __name__ == "__main__":
    main()
