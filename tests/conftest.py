from collections.abc import AsyncIterator

import pytest

from a2a_temporal.testing import DevStack


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[DevStack]:
    async with DevStack() as dev:
        print(f"\nDevStack up and answering in {dev.startup_seconds:.2f}s")
        yield dev
