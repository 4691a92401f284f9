"""The A2A gateway: SendMessage latency and a 10,000-delta stream, with the official SDK client.

Latency (target: gateway within 1.5x of direct): a blocking `SendMessage` to
`trivial.noop` through `a2a-temporal serve` until the task is completed, vs
`TemporalA2AClient.call` of the same skill, vs the a2a-sdk's own server (in-memory
task store, `DefaultRequestHandler`) running the same trivial agent
(`bench/sdk_agents.py`). The gateway and the SDK server each run in their own
process; our worker runs in this one.

Streaming (target p95 <= 500 ms): `SendStreamingMessage` of a skill that
emits 10,000 text deltas, each stamped with its emit time; for every artifact
chunk the client receives, the latency of the oldest delta in it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from a2a_temporal._process import free_port
from a2a_temporal.settings import GatewayIdentity
from a2a_temporal.testing import DevStack
from bench import sdk_agents
from bench.common import harness, median, pct
from bench.sdk_client import COMPLETED, TOKEN, request, sdk_client, send_until_completed


@contextlib.asynccontextmanager
async def gateway(stack: DevStack, log_dir: Path) -> AsyncIterator[str]:
    """`a2a-temporal serve` for `stack` in its own process; yield its base URL."""
    port = free_port()
    tokens = {TOKEN: GatewayIdentity(subject="bench")}
    process = stack.gateway_process(port, log_dir / "gateway.log", gateway_tokens=tokens)
    process.start()
    try:
        await process.wait_until_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        await process.stop()


async def latency(runs: int, gateway_url: str, sdk_url: str, direct: Any) -> None:
    timings: dict[str, list[float]] = {"gateway": [], "direct": [], "sdk": []}
    async with (
        sdk_client(f"{gateway_url}/agents/trivial") as via_gateway,
        sdk_client(sdk_url) as via_sdk,
    ):
        for i in range(runs + 10):  # the first ten warm every path up
            gateway_s = await send_until_completed(via_gateway, "noop", {"text": "x"})
            started = time.perf_counter()
            result = await direct.call("trivial", "noop", args={"text": "x"})
            direct_s = time.perf_counter() - started
            assert result.ok, result.error
            sdk_s = await send_until_completed(via_sdk, "upper", {"text": "x"})
            if i >= 10:
                timings["gateway"].append(gateway_s)
                timings["direct"].append(direct_s)
                timings["sdk"].append(sdk_s)
    p50 = {path: median(values) * 1000 for path, values in timings.items()}
    print(
        f"SendMessage -> completed, trivial skill, p50 over {runs} runs: "
        f"gateway {p50['gateway']:.1f} ms, TemporalA2AClient.call {p50['direct']:.1f} ms, "
        f"a2a-sdk in-memory server {p50['sdk']:.1f} ms; "
        f"gateway/direct {p50['gateway'] / p50['direct']:.2f} (target <= 1.5), "
        f"gateway/sdk {p50['gateway'] / p50['sdk']:.2f} (reported)"
    )


async def streaming(deltas: int, gateway_url: str) -> None:
    received: list[str] = []
    latencies: list[float] = []
    events = 0
    async with sdk_client(f"{gateway_url}/agents/streamer", streaming=True) as client:
        started = time.perf_counter()
        async for response in client.send_message(request("stamped", {"n": deltas})):
            events += 1
            update = response.artifact_update
            if response.HasField("artifact_update") and update.artifact.name == "text":
                now = time.time()
                tokens = update.artifact.parts[0].text.split()
                latencies.append(now - float(tokens[0].split("@")[1]))
                received += [token.split("@")[0] for token in tokens]
            final = response
        elapsed = time.perf_counter() - started
    assert final.status_update.status.state == COMPLETED, final
    in_order = received == [str(i) for i in range(deltas)]
    print(
        f"{deltas} text deltas through the gateway (SendStreamingMessage): all received in "
        f"order: {in_order}; {events} A2A stream events in {elapsed:.1f} s "
        f"({deltas / elapsed:.0f} deltas/s, {events / elapsed:.1f} events/s)"
    )
    print(
        f"emit-to-client latency of the oldest delta in each chunk: "
        f"p50 {pct(latencies, 0.5) * 1000:.0f} ms, p95 {pct(latencies, 0.95) * 1000:.0f} ms "
        "(target p95 <= 500 ms)"
    )


async def main(runs: int, deltas: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as logs:
        async with (
            harness() as h,
            gateway(h.stack, Path(logs)) as gateway_url,
            sdk_agents.serving(Path(logs)) as sdk_url,
        ):
            await h.stack.wait_for_agents(["trivial", "streamer"], "bench-agents")
            await latency(runs, gateway_url, sdk_url, h.ours)
            await streaming(deltas, gateway_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--deltas", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.deltas))
