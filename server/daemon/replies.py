"""Where the daemon's parts send replies: the transport's outbox, which exists between
start and stop (so the parts are built before it and reach it through this)."""

from __future__ import annotations

from typing import Any

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.transport import Route, Transport


class Replies:
    def __init__(self) -> None:
        self.transport: Transport | None = None

    def packet(self, route: Route, packet: bytes, droppable: bool = False) -> None:
        assert self.transport is not None
        self.transport.reply(route, packet, droppable)

    def send(self, route: Route, address: str, args: list[Any], droppable: bool = False) -> None:
        self.packet(route, p.encode(address, args), droppable)

    def error(self, route: Route, job: str, code: str, message: str) -> None:
        self.packet(route, p.error_message(job, code, message))
