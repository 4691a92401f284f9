"""S3 unreachable from the workers (the `bench.drill_s3_outage` drill at CI size)."""

from __future__ import annotations

import re

from bench.drill_s3_outage import drill


async def test_s3_outages_lose_nothing_and_a_long_one_fails_naming_the_endpoint() -> None:
    """A 10 s outage outlasts the S3 client's own retries: attempts are retried, none lost.

    Beyond the retry budget every task fails (listing its artifacts is bounded
    too), naming the unreachable endpoint.
    """
    outage, beyond = await drill("ci")
    assert outage.clean, outage
    retried = re.search(r"(\d+) attempts retried", outage.note)
    assert retried and int(retried.group(1)) > 0, "the outage never reached the retry path"
    assert beyond.clean, beyond
    assert "cannot reach S3 at http://127.0.0.1:" in beyond.note
