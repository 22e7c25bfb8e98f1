"""The no-op gRPC server: same grpc.aio server options and process layout as registryd (one process,
uvloop), doing no work beyond answering. Every benchmark ratio divides by this server's numbers.

    python -m bench.noop.server --listen 127.0.0.1:0 --ready-file FILE
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import uvloop

from bench.noop import echo_pb2 as pb
from bench.noop import echo_pb2_grpc as pb_grpc
from registryd.api.servicer import HALF_CLOSE_SETTLE
from registryd.config import Config
from registryd.server import SERVER_OPTIONS


class EchoServicer(pb_grpc.EchoServiceServicer):
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[pb.FanoutEvent]] = set()
        self._replies: dict[int, pb.EchoResponse] = {}

    def _reply(self, size: int) -> pb.EchoResponse:
        reply = self._replies.get(size)
        if reply is None:
            reply = self._replies[size] = pb.EchoResponse(payload=b"x" * size)
        return reply

    async def Echo(self, request: pb.EchoRequest, context: grpc.aio.ServicerContext) -> pb.EchoResponse:
        return self._reply(request.reply_size)

    async def EchoStream(
        self, request_iterator: AsyncIterator[pb.EchoRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.EchoResponse]:
        try:
            async for request in request_iterator:
                yield self._reply(request.reply_size)
            # As in registryd: a client's cancel first ends the request stream, and the cancellation
            # reaches this task during this wait.
            await asyncio.sleep(HALF_CLOSE_SETTLE)
        except asyncio.CancelledError:
            self._publish(pb.FanoutEvent(payload=b"dropped"))
            raise

    async def Fanout(
        self, request: pb.FanoutRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.FanoutEvent]:
        queue: asyncio.Queue[pb.FanoutEvent] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield pb.FanoutEvent()
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    async def Publish(
        self, request: pb.PublishRequest, context: grpc.aio.ServicerContext
    ) -> pb.PublishResponse:
        self._publish(pb.FanoutEvent(payload=b"x" * request.size))
        return pb.PublishResponse(subscribers=len(self._subscribers))

    def _publish(self, event: pb.FanoutEvent) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)


async def serve(listen: str, ready_file: str) -> None:
    # The daemon's options exactly: SERVER_OPTIONS plus its default receive limit.
    options = [*SERVER_OPTIONS, ("grpc.max_receive_message_length", Config().max_message_bytes)]
    server = grpc.aio.server(options=options)
    pb_grpc.add_EchoServiceServicer_to_server(EchoServicer(), server)
    port = server.add_insecure_port(listen)
    await server.start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await asyncio.to_thread(Path(ready_file).write_text, f"{listen.rpartition(':')[0]}:{port}")
    await stop.wait()
    await server.stop(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.listen, args.ready_file))


if __name__ == "__main__":
    main()
