"""Benchmark: the local AWS (HTTPS, every request decided by crosstrack.iam) vs a plain moto
server (moto's ThreadedMotoServer, plain HTTP, no authorization), same boto3 workload, same run.

Each server runs in its own process (as a user runs them: ``crosstrack local up``, and moto's
threaded server), so neither shares the client's interpreter lock. Workload, per server:

* one client with keep-alive: ``PAIRS`` x (PutObject + GetObject of 1 kB);
* ``CLIENTS`` concurrent clients (threads), ``PAIRS // CLIENTS`` pairs each.

The servers are measured alternately, ``ROUNDS`` times, and the best round of each is kept
(a shared 2-core machine adds noise in one direction only). Target: the enforced server at
>= 0.8x the plain server's request rate (issue 10).

    python bench/bench_local.py               # table on stdout, bench/results/local.json
    python bench/bench_local.py --profile     # plus where the enforced server's time goes

``--profile`` runs the local AWS in this process instead, with cProfile around every request
in the server's worker threads, and prints the top functions by cumulative time.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
PAIRS = 300
CLIENTS = 4
ROUNDS = 3
BODY = b"x" * 1024
TARGET = 0.8
CROSSTRACK = Path(sys.executable).with_name("crosstrack")
MOTO_SERVER = (
    "import sys, time; from moto.server import ThreadedMotoServer;"
    "s = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False); s.start();"
    "print(s.get_host_and_port()[1], flush=True); sys.stdin.read(); s.stop()"
)


@contextmanager
def plain_moto() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", MOTO_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        port = int(proc.stdout.readline())
        yield {
            "endpoint_url": f"http://127.0.0.1:{port}",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def local_aws(workdir: str) -> Iterator[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [str(CROSSTRACK), "local", "up", "--workdir", workdir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    exports = {}
    try:
        while len(exports) < 7:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("crosstrack local up stopped before printing its export lines")
            name, _, value = line.strip().removeprefix("export ").partition("=")
            exports[name] = shlex.split(value)[0]
        yield {
            "endpoint_url": exports["AWS_ENDPOINT_URL"],
            "verify": exports["AWS_CA_BUNDLE"],
            "aws_access_key_id": exports["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": exports["AWS_SECRET_ACCESS_KEY"],
        }
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def s3_client(server: dict[str, Any]) -> Any:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=CLIENTS + 1),
        **server,
    )


def pairs(client: Any, bucket: str, prefix: str, count: int) -> None:
    for index in range(count):
        key = f"{prefix}/{index}"
        client.put_object(Bucket=bucket, Key=key, Body=BODY)
        client.get_object(Bucket=bucket, Key=key)["Body"].read()


def measure(server: dict[str, Any], bucket: str) -> dict[str, float]:
    """Requests per second: one client, then CLIENTS concurrent clients."""
    setup = s3_client(server)
    setup.create_bucket(Bucket=bucket)
    client = s3_client(server)
    pairs(client, bucket, "warm", 5)  # connection, TLS handshake, first-call caches
    started = time.perf_counter()
    pairs(client, bucket, "one", PAIRS)
    single = 2 * PAIRS / (time.perf_counter() - started)

    clients = [s3_client(server) for _ in range(CLIENTS)]
    for index, each in enumerate(clients):
        pairs(each, bucket, f"warm{index}", 1)
    threads = [
        threading.Thread(target=pairs, args=(each, bucket, f"c{index}", PAIRS // CLIENTS))
        for index, each in enumerate(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = 2 * (PAIRS // CLIENTS) * CLIENTS / (time.perf_counter() - started)
    return {"one_client": round(single, 1), "concurrent": round(concurrent, 1)}


def best(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: max(r[key] for r in rounds) for key in rounds[0]}


def run() -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    plain_rounds: list[dict[str, float]] = []
    local_rounds: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="crosstrack-bench-local-") as workdir,
        plain_moto() as plain,
        local_aws(workdir) as local,
    ):
        for number in range(ROUNDS):
            plain_rounds.append(measure(plain, f"bench-plain-{number}"))
            local_rounds.append(measure(local, f"bench-local-{number}"))
    plain_best, local_best = best(plain_rounds), best(local_rounds)
    ratio = {key: round(local_best[key] / plain_best[key], 2) for key in plain_best}
    return {
        "workload": f"{PAIRS} x (PutObject + GetObject of 1 kB), boto3; "
        f"{CLIENTS} concurrent clients for the second figure",
        "rounds": {"plain_moto_http": plain_rounds, "local_aws_https_enforced": local_rounds},
        "best_requests_per_s": {
            "plain_moto_http": plain_best,
            "local_aws_https_enforced": local_best,
        },
        "ratio": ratio,
        "target_ratio": TARGET,
        "meets_target": all(value >= TARGET for value in ratio.values()),
        "load_average": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }


def table(result: dict[str, Any]) -> str:
    plain = result["best_requests_per_s"]["plain_moto_http"]
    local = result["best_requests_per_s"]["local_aws_https_enforced"]
    ratio = result["ratio"]
    load = result["load_average"]
    rows = [
        "| requests/s, boto3 PutObject + GetObject of 1 kB (best of 3) | plain moto, HTTP "
        "| local AWS, HTTPS + IAM | ratio |",
        "|---|---:|---:|---:|",
        f"| one client, keep-alive, {2 * PAIRS} requests | {plain['one_client']:,.0f} "
        f"| {local['one_client']:,.0f} | {ratio['one_client']:.2f} |",
        f"| {CLIENTS} concurrent clients, {2 * PAIRS} requests | {plain['concurrent']:,.0f} "
        f"| {local['concurrent']:,.0f} | {ratio['concurrent']:.2f} |",
        "",
        f"written to bench/results/local.json; target >= {TARGET}x; "
        f"load average {load['before']} before, {load['after']} after",
    ]
    return "\n".join(rows)


# ---------------------------------------------------------------------------- profiling
def profiled(app: Callable[..., Any], profiles: list[cProfile.Profile]) -> Callable[..., Any]:
    """Wrap a WSGI app so each worker thread profiles the requests it serves."""
    local = threading.local()

    def wrapper(environ: dict[str, Any], start_response: Any) -> Any:
        profile = getattr(local, "profile", None)
        if profile is None:
            profile = local.profile = cProfile.Profile()
            profiles.append(profile)
        profile.enable()
        try:
            return app(environ, start_response)
        finally:
            profile.disable()

    return wrapper


def profile() -> None:
    from crosstrack.local import LocalAWS

    profiles: list[cProfile.Profile] = []
    with tempfile.TemporaryDirectory(prefix="crosstrack-bench-profile-") as workdir:
        aws = LocalAWS(Path(workdir)).start()
        try:
            for listener in aws._listeners:  # a benchmark may look inside
                listener.server.wsgi_app = profiled(listener.server.wsgi_app, profiles)
            server = {
                "endpoint_url": aws.endpoint,
                "verify": str(aws.ca_bundle),
                "aws_access_key_id": aws.operator.access_key_id,
                "aws_secret_access_key": aws.operator.secret_access_key,
            }
            started = time.perf_counter()
            measured = measure(server, "bench-profile")
            elapsed = time.perf_counter() - started
        finally:
            aws.stop()
    stats = pstats.Stats(profiles[0])
    for each in profiles[1:]:
        stats.add(each)
    print(f"in-process, profiled: {measured} ({elapsed:.1f} s)", file=sys.stderr)
    stats.sort_stats("cumulative").print_stats(45)


def main(argv: list[str]) -> None:
    if "--profile" in argv:
        profile()
        return
    result = run()
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "local.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))


if __name__ == "__main__":
    main(sys.argv[1:])
