"""Streaming first-token latency of `POST /v1/chat/completions`, measured with the official `openai` client:
the time from sending the request to the first chunk that carries answer text, and to the end of the stream,
over N questions asked one after another (median and p95 of each).

    .venv/bin/python eval/first_token.py --data-dir /tmp/shared-index --runs 40
    .venv/bin/python eval/first_token.py --url http://127.0.0.1:7860/v1 --runs 40 --api-key KEY

Without --url it starts its own `policybot serve` (the chat page too, as users run it; rate limit off, so the
figures measure answering, not refusing) on a free port and stops it at the end. Questions are taken evenly
spread over eval/questions.jsonl (with their history, sent as earlier user messages), a mix of answers and
abstentions like real traffic; the first --warmup of them are asked unmeasured.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions.jsonl"


@dataclass(frozen=True, slots=True)
class Run:
    """One streamed reply: seconds to the first text, seconds to `[DONE]`, and whether it abstained."""

    first_token: float
    total: float
    abstained: bool
    chunks: int


def load_conversations(path: Path, runs: int) -> list[list[dict[str, str]]]:
    """`runs` conversations (earlier user questions, then the question), spread evenly over the file."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not items:
        raise SystemExit(f"{path} holds no questions")
    step = max(1, len(items) // max(1, runs))
    picked = [items[(n * step) % len(items)] for n in range(runs)]
    return [
        [
            *({"role": "user", "content": h} for h in item.get("history") or ()),
            {"role": "user", "content": item["question"]},
        ]
        for item in picked
    ]


def ask_streaming(client: Any, messages: list[dict[str, str]]) -> Run:
    began = time.perf_counter()
    first: float | None = None
    chunks, extra = 0, {}
    stream = client.chat.completions.create(model="policybot", messages=messages, stream=True)
    for chunk in stream:
        chunks += 1
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - began
        extra = (chunk.model_extra or {}).get("policybot", extra)
    total = time.perf_counter() - began
    if first is None:
        raise SystemExit(f"a stream ended without any text: {messages[-1]['content'][:80]!r}")
    return Run(first_token=first, total=total, abstained=bool(extra.get("abstained")), chunks=chunks)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(runs: list[Run]) -> dict[str, Any]:
    def ms(values: list[float]) -> dict[str, float]:
        if not values:
            return {}
        return {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
        }

    answered = [r for r in runs if not r.abstained]
    return {
        "runs": len(runs),
        "answered": len(answered),
        "abstained": len(runs) - len(answered),
        "first_token": ms([r.first_token for r in runs]),
        "first_token_answered": ms([r.first_token for r in answered]),
        "total": ms([r.total for r in runs]),
        "chunks_median": statistics.median(r.chunks for r in runs) if runs else 0,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(data_dir: Path, port: int, chat: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POLICYBOT_DATA_DIR": str(data_dir),
        "POLICYBOT_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port), *([] if chat else ["--no-chat"])]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)


def wait_ready(base_url: str, server: subprocess.Popen[bytes] | None, timeout: float = 300.0) -> None:
    health = base_url.removesuffix("/v1") + "/api/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            err = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise SystemExit(f"the server exited ({server.returncode}):\n{err[-2000:]}")
        try:
            response = httpx.get(health, timeout=5)
            if response.status_code == 200:
                return
            if response.status_code == 503:
                raise SystemExit(f"the server has no index: {response.json().get('error')}")
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{health} did not answer within {timeout:.0f} s")


def measure(base_url: str, api_key: str, conversations: list[list[dict[str, str]]], warmup: int) -> list[Run]:
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=120)
    for messages in conversations[:warmup]:
        ask_streaming(client, messages)
    return [ask_streaming(client, messages) for messages in conversations[warmup:]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="A running server's /v1 base URL (default: start one on a free port).")
    parser.add_argument("--data-dir", type=Path, help="Index to serve when the script starts the server.")
    parser.add_argument("--no-chat", action="store_true", help="Start the server without the chat page.")
    parser.add_argument("--api-key", default="unused", help="Bearer key, when the server wants one.")
    parser.add_argument("--runs", type=int, default=40, help="Measured questions (default 40).")
    parser.add_argument("--warmup", type=int, default=3, help="Unmeasured questions first (default 3).")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="JSONL with question/history.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if not args.url and not args.data_dir:
        raise SystemExit("give --url of a running server, or --data-dir of an index to serve")
    server = None
    base_url = args.url
    if not base_url:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/v1"
        server = start_server(args.data_dir, port, chat=not args.no_chat)
    try:
        wait_ready(base_url, server)
        conversations = load_conversations(args.questions, args.runs + args.warmup)
        runs = measure(base_url, args.api_key, conversations, args.warmup)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
    figures = summary(runs)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    first, answered, total = figures["first_token"], figures["first_token_answered"], figures["total"]
    print(
        f"{base_url}: {figures['runs']} streamed replies ({figures['answered']} answers, {figures['abstained']} abstentions)"
    )
    print(
        f"first token   median {first['median_ms']:.0f} ms  p95 {first['p95_ms']:.0f} ms  max {first['max_ms']:.0f} ms"
    )
    if answered:
        print(f"  answers     median {answered['median_ms']:.0f} ms  p95 {answered['p95_ms']:.0f} ms")
    print(
        f"whole reply   median {total['median_ms']:.0f} ms  p95 {total['p95_ms']:.0f} ms  max {total['max_ms']:.0f} ms"
    )
    print(f"chunks per reply (role and finish included): median {figures['chunks_median']:g}")


if __name__ == "__main__":
    main()
