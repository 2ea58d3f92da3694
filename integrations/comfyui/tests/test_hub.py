"""The route on a real aiohttp server on 127.0.0.1, with real websocket clients."""
import asyncio
import base64
import json
import os
import socket
import time
import unittest

import numpy as np

try:
    import aiohttp
    from aiohttp import web

    from taesd_web.hub import ROUTE, ViewerHub
except ImportError:
    aiohttp = None

from taesd_web.protocol import decode_latent, encode_latent


def message(step, prompt="p1", size=(1, 4, 8, 8)):
    return encode_latent(np.full(size, step, np.float32), latent_format="SD15", step=step, total_steps=1000, prompt_id=prompt, node_id="3")


async def serve(add_routes):
    """A real aiohttp server on 127.0.0.1 with the routes ``add_routes`` adds: (runner, port)."""
    app = web.Application()
    routes = web.RouteTableDef()
    add_routes(routes)
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, port


async def until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


def stalled_client(port, path):
    """A raw websocket client that completes the handshake and then never reads again."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    return s


@unittest.skipIf(aiohttp is None, "aiohttp is not installed for this python")
class HubTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.hub = ViewerHub(asyncio.get_running_loop())
        self.runner, self.port = await serve(self.hub.add_routes)
        self.session = aiohttp.ClientSession()
        self.sockets = []

    async def asyncTearDown(self):
        for ws in self.sockets:
            await ws.close()
        await self.session.close()
        await self.runner.cleanup()

    async def connect(self, query=""):
        ws = await self.session.ws_connect(f"http://127.0.0.1:{self.port}{ROUTE}{query}")
        self.sockets.append(ws)
        hello = json.loads((await ws.receive()).data)
        self.assertEqual(hello["type"], "taesd_web_hello")
        return ws

    async def test_subscriptions_to_a_prompt_and_to_all(self):
        self.assertFalse(self.hub.watching("p1"))
        p1 = await self.connect("?prompt_id=p1")
        await until(lambda: len(self.hub.viewers) == 1)
        self.assertTrue(self.hub.watching("p1"))
        self.assertFalse(self.hub.watching("p2"))
        p2, every = await self.connect("?prompt_id=p2"), await self.connect()
        await until(lambda: len(self.hub.viewers) == 3)
        self.assertTrue(self.hub.watching("p9"))
        self.hub.publish(message(5, "p1"), "p1")
        self.assertEqual(decode_latent((await p1.receive()).data)[1]["step"], "5")
        self.assertEqual(decode_latent((await every.receive()).data)[1]["prompt_id"], "p1")
        with self.assertRaises(asyncio.TimeoutError):
            await p2.receive(timeout=0.3)
        await p2.send_str(json.dumps({"subscribe": "p1"}))
        await asyncio.sleep(0.1)
        self.hub.publish(message(6, "p1"), "p1")
        self.assertEqual(decode_latent((await p2.receive()).data)[1]["step"], "6")

    async def test_publish_threadsafe_from_another_thread(self):
        ws = await self.connect()
        await until(lambda: len(self.hub.viewers) == 1)
        await asyncio.get_running_loop().run_in_executor(None, self.hub.publish_threadsafe, message(9), "p1")
        self.assertEqual(decode_latent((await ws.receive(timeout=5)).data)[1]["step"], "9")

    async def test_a_viewer_that_stops_reading_stalls_nothing_and_gets_no_backlog(self):
        stalled = stalled_client(self.port, ROUTE)
        reader = await self.connect()
        await until(lambda: len(self.hub.viewers) == 2)
        big = [message(i, size=(1, 16, 128, 128)) for i in range(40)]  # 512 KiB each: 20 MiB in all
        worst = 0.0
        received = []
        for i, m in enumerate(big):
            t = time.perf_counter()
            self.hub.publish(m, "p1")
            worst = max(worst, time.perf_counter() - t)
            received.append(decode_latent((await reader.receive(timeout=10)).data)[1]["step"])
        self.assertLess(worst, 0.5, "publish waited on a socket")  # loose: a loaded machine
        self.assertEqual(received, [str(i) for i in range(40)], "the reading viewer got every step, in order")
        slow = next(v for v in self.hub.viewers if v.ws is not None and v.sent < 40)
        self.assertLess(slow.sent, 40)
        self.assertGreater(slow.dropped, 0)
        self.assertIsNotNone(slow.pending)  # one message waits for it, never more
        stalled.close()
        await until(lambda: len(self.hub.viewers) == 1)

    async def test_steps_offered_on_a_sampler_thread_reach_a_viewer_through_the_publisher(self):
        import threading

        from taesd_web.publisher import Step, StepPublisher

        ws = await self.connect("?prompt_id=p1")
        await until(lambda: len(self.hub.viewers) == 1)
        pub = StepPublisher([self.hub.sink])

        def sampler():
            for i in range(50):
                pub.offer(Step(np.full((1, 4, 8, 8), i, np.float32), "SD15", i, 50, "p1", "3", 1.0 - i / 50))

        thread = threading.Thread(target=sampler)
        thread.start()
        steps = []
        try:
            while not steps or steps[-1] != 49:
                latent, meta = decode_latent((await ws.receive(timeout=10)).data)
                steps.append(int(meta["step"]))
                self.assertEqual(latent[0, 0, 0, 0], steps[-1])
        finally:
            thread.join()
            pub.close()
        self.assertEqual(steps, sorted(set(steps)))

    async def test_a_slow_viewer_gets_the_latest_step_when_it_reads_again(self):
        ws = await self.connect()
        await until(lambda: len(self.hub.viewers) == 1)
        viewer = next(iter(self.hub.viewers))
        for i in range(200):
            viewer.offer(message(i)) if i % 2 else self.hub.publish(message(i), "p1")
        steps = []
        while True:
            try:
                steps.append(int(decode_latent((await ws.receive(timeout=0.5)).data)[1]["step"]))
            except asyncio.TimeoutError:
                break
        self.assertEqual(steps[-1], 199)
        self.assertLess(len(steps), 200)


if __name__ == "__main__":
    unittest.main()


@unittest.skipIf(aiohttp is None, "aiohttp is not installed for this python")
class WeightsRouteTest(unittest.IsolatedAsyncioTestCase):
    async def test_local_file_redirect_and_refusals(self):
        import tempfile

        from taesd_web import weights

        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "taef2_decoder.safetensors"), "wb") as f:
                f.write(b"weights")
            self.assertEqual(weights.find_local("taef2", ["x.pth", "taef2_decoder.safetensors"], lambda n: os.path.join(d, n)), os.path.join(d, "taef2_decoder.safetensors"))
            self.assertIsNone(weights.find_local("taef1", ["taef2_decoder.safetensors", "taef1_decoder.txt"], lambda n: n))
        runner, port = await serve(weights.add_routes)
        try:
            async with aiohttp.ClientSession() as s:
                r = await s.get(f"http://127.0.0.1:{port}/taesd-web/weights/taesdxl", allow_redirects=False)
                self.assertEqual(r.status, 302)
                self.assertTrue(r.headers["Location"].endswith("/taesdxl_decoder.pth"))
                self.assertEqual((await s.get(f"http://127.0.0.1:{port}/taesd-web/weights/nope", allow_redirects=False)).status, 404)
                self.assertEqual((await s.get(f"http://127.0.0.1:{port}/taesd-web/weights/..%2Fx", allow_redirects=False)).status, 400)
        finally:
            await runner.cleanup()
