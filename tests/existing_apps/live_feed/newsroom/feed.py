"""Headlines as they are published, to everyone listening."""

import asyncio
from collections.abc import AsyncIterator


class Feed:
    """The headlines published so far, and a queue per listener for the next."""

    def __init__(self) -> None:
        self.headlines: list[str] = []
        self.listeners: set[asyncio.Queue[str]] = set()
        # Listeners that have gone, their cleanup done.
        self.closed = 0

    def publish(self, headline: str) -> None:
        self.headlines.append(headline)
        for queue in self.listeners:
            queue.put_nowait(headline)

    async def follow(self, replay: int, heartbeat: float) -> AsyncIterator[str | None]:
        """The last `replay` headlines, then each new one as it is published,
        forever; None after `heartbeat` seconds without one."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.listeners.add(queue)
        try:
            for headline in self.headlines[-replay:] if replay else []:
                yield headline
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield None
        finally:
            self.listeners.discard(queue)
            self.closed += 1
