"""Test support: the bridge's route on a real aiohttp server, publishing given step messages.

python3 -m tests.serve_hub <message.safetensors>... (from integrations/comfyui): prints
"PORT <n>", then publishes the messages in turn, one every 50 ms, until stdin closes.
"""
import asyncio
import sys

from aiohttp import web

from taesd_web.hub import ViewerHub
from taesd_web.protocol import decode_latent


async def main(paths):
    hub = ViewerHub(asyncio.get_running_loop())
    routes = web.RouteTableDef()
    hub.add_routes(routes)
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print("PORT", site._server.sockets[0].getsockname()[1], flush=True)
    messages = []
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        messages.append((data, decode_latent(data)[1]["prompt_id"]))
    stdin_closed = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    i = 0
    while not stdin_closed.done():
        hub.publish(*messages[i % len(messages)])
        i += 1
        await asyncio.sleep(0.05)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
