"""A remote A2A call: `ctx.call(url)` on Temporal vs a bare a2a-sdk client call.

The remote agent is the a2a-sdk's own server running the trivial `upper`
agent (`bench/sdk_agents.py`) in its own process. Ours: a skill on Temporal
times its `ctx.call(url, "upper")` (a child workflow whose activity sends the
message once, records the remote task id and follows the task to its end);
also reported, the whole skill run as its caller sees it. Baseline: one
blocking `SendMessage` with the official client, reusing its connection.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench import sdk_agents
from bench.common import harness, median
from bench.sdk_client import sdk_client, send_until_completed


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as logs:
        async with harness() as h, sdk_agents.serving(Path(logs)) as url:
            in_skill, whole_run, bare = [], [], []
            async with sdk_client(url) as client:
                for i in range(runs + 10):  # the first ten warm both paths up
                    started = time.perf_counter()
                    result = await h.ours.call("remote", "timed_call", args={"url": url})
                    run_s = time.perf_counter() - started
                    assert result.ok, result.error
                    bare_s = await send_until_completed(client, "upper", {"text": "x"})
                    if i >= 10:
                        in_skill.append(float(result.output))
                        whole_run.append(run_s)
                        bare.append(bare_s)
    call_ms, bare_ms = median(in_skill) * 1000, median(bare) * 1000
    print(
        f"remote A2A call, p50 over {runs} runs: ctx.call(url) on Temporal {call_ms:.1f} ms, "
        f"bare a2a-sdk client {bare_ms:.1f} ms, overhead {call_ms - bare_ms:.1f} ms "
        f"(ratio {call_ms / bare_ms:.1f}); the whole calling skill run "
        f"{median(whole_run) * 1000:.1f} ms (reported)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
