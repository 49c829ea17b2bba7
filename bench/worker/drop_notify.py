#!/usr/bin/env python3
"""A TCP proxy to a local PostgreSQL that drops every NotificationResponse ('A' message).

What a worker sees behind a pooler in transaction mode: LISTEN succeeds, no NOTIFY ever
arrives, so it only finds new jobs when it polls. Used by bench/worker/run.sh for the polling
fallback. Clients must not ask for SSL or GSS encryption (sslmode=disable&gssencmode=disable):
the proxy parses the server's stream as plain protocol messages.

    drop_notify.py UPSTREAM_PORT     listens on 127.0.0.1, prints its port on stdout
"""
import asyncio
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def filtered(reader, writer):
    """Server to client: whole messages (type byte, int32 length), without the 'A' ones."""
    buffer = b""
    try:
        while data := await reader.read(65536):
            buffer += data
            out = []
            while len(buffer) >= 5:
                size = 1 + int.from_bytes(buffer[1:5], "big")
                if len(buffer) < size:
                    break
                if buffer[0:1] != b"A":
                    out.append(buffer[:size])
                buffer = buffer[size:]
            if out:
                writer.write(b"".join(out))
                await writer.drain()
    finally:
        writer.close()


async def main():
    upstream = int(sys.argv[1])

    async def handle(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(pipe(client_reader, server_writer),
                             filtered(server_reader, client_writer),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
