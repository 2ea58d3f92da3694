"""The websocket route: any number of viewers, each subscribed to one prompt or to all.

Each viewer has one slot holding the newest message for it and its own sender task, so a viewer
that stops reading stalls only its own task (aiohttp's send waits for that socket to drain) and,
when it reads again, gets the latest step, never a backlog. ``publish`` is called on the event
loop (``publish_threadsafe`` from any thread) and never awaits a socket.
"""
import asyncio
import json

from aiohttp import WSMsgType, web

ALL = "*"
ROUTE = "/taesd-web/ws"


class Viewer:
    def __init__(self, ws, subscription):
        self.ws = ws
        self.subscription = subscription
        self.pending = None
        self.wake = asyncio.Event()
        self.sent = 0
        self.dropped = 0

    def wants(self, prompt_id):
        return self.subscription == ALL or self.subscription == prompt_id

    def offer(self, message):
        if self.pending is not None:
            self.dropped += 1
        self.pending = message
        self.wake.set()

    async def send_loop(self):
        while not self.ws.closed:
            await self.wake.wait()
            self.wake.clear()
            message, self.pending = self.pending, None
            if message is None:
                continue
            try:
                await self.ws.send_bytes(message)
            except (ConnectionError, RuntimeError):
                return  # the socket went away; handle() removes the viewer
            self.sent += 1


class ViewerHub:
    def __init__(self, loop=None):
        self.loop = loop
        self.viewers = set()

    def watching(self, prompt_id):
        """Whether a viewer follows this prompt (any thread: reads a snapshot of the set)."""
        return any(v.wants(prompt_id) for v in list(self.viewers))

    def publish(self, message, prompt_id):
        for v in list(self.viewers):
            if v.wants(prompt_id):
                v.offer(message)

    def publish_threadsafe(self, message, prompt_id):
        """From the publisher's thread: schedules ``publish`` on the loop and returns at once."""
        self.loop.call_soon_threadsafe(self.publish, message, prompt_id)

    def sink(self, message, step):
        """A StepPublisher sink."""
        self.publish_threadsafe(message, step.prompt_id or "")

    async def handle(self, request):
        """GET ROUTE?prompt_id=<id>|*: binary messages are step files; text `{"subscribe": id}` changes it."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        viewer = Viewer(ws, request.query.get("prompt_id") or ALL)
        self.viewers.add(viewer)
        sender = asyncio.ensure_future(viewer.send_loop())
        try:
            await ws.send_str(json.dumps({"type": "taesd_web_hello", "subscription": viewer.subscription}))
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        sub = json.loads(msg.data).get("subscribe")
                    except (ValueError, AttributeError):
                        sub = None
                    if isinstance(sub, str) and 0 < len(sub) <= 256:
                        viewer.subscription = sub
        finally:
            self.viewers.discard(viewer)
            sender.cancel()
        return ws

    def add_routes(self, routes):
        """Adds the route to an aiohttp RouteTableDef (ComfyUI: PromptServer.instance.routes)."""
        routes.get(ROUTE)(self.handle)
