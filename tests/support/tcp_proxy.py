"""A TCP proxy a test controls, to take a service away and give it back mid-test.

``TcpProxy(target_port)`` listens on a free 127.0.0.1 port and forwards every
connection to the target. ``cut()`` closes every open connection and refuses new ones
(as a broker that went down would); ``restore()`` accepts again. ``delay`` holds each
chunk that long before forwarding it (a slow network).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from yarl import URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TcpProxy:
    def __init__(
        self, target_port: int, target_host: str = "127.0.0.1", *, delay: float = 0.0
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.delay = delay
        self.port = free_port()
        self.connections_made = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def url_for(self, url: str) -> str:
        """``url`` (of the target) pointed at the proxy instead."""
        return str(URL(url).with_host("127.0.0.1").with_port(self.port))

    @property
    def is_cut(self) -> bool:
        return self._server is None

    async def start(self) -> None:
        if self._server is None:
            # The same port every time, so clients reconnect to where they were.
            self._server = await asyncio.start_server(
                self._accept, "127.0.0.1", self.port, reuse_address=True
            )

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in tuple(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for pipe in tuple(self._pipes):
            pipe.cancel()
        for pipe in tuple(self._pipes):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pipe
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            client_w.transport.abort()
            return
        self.connections_made += 1
        self._writers.update((client_w, upstream_w))
        pipes = (
            asyncio.create_task(self._pipe(client_r, upstream_w)),
            asyncio.create_task(self._pipe(upstream_r, client_w)),
        )
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            for writer in (client_w, upstream_w):
                writer.transport.abort()
                self._writers.discard(writer)
            self._pipes.difference_update(pipes)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65_536):
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(chunk)
            await writer.drain()


@asynccontextmanager
async def tcp_proxy(target_port: int, *, delay: float = 0.0) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_port, delay=delay)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
