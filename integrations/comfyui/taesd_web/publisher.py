"""From the sampler's thread to the viewers without ever blocking the sampler.

The sampler's callback hands a step (a reference to x0, still on the GPU) to ``StepPublisher.offer``,
which only swaps it into a slot under a lock. One background thread takes the newest step of each
stream, copies it to the CPU, encodes it (protocol.encode_latent) and hands the bytes to the sinks.
A step not yet taken when a newer one of the same stream arrives is dropped: at most one pending
step per stream, so memory stays bounded and a slow encoder or sink costs the sampler nothing.
"""
import logging
import threading
from collections import OrderedDict

from .protocol import encode_latent

log = logging.getLogger("taesd_web")


class LatestSlots:
    """One pending item per key, the newest; ``take`` blocks until there is one (or close)."""

    def __init__(self, max_keys=16):
        self._items = OrderedDict()
        self._cond = threading.Condition()
        self._closed = False
        self.max_keys = max_keys
        self.dropped = 0

    def put(self, key, item):
        """Never blocks beyond a short lock; returns False when it replaced a pending item."""
        with self._cond:
            replaced = key in self._items
            if replaced:
                del self._items[key]
            elif len(self._items) >= self.max_keys:
                self._items.popitem(last=False)  # the longest-waiting stream's step goes
                replaced = True
            if replaced:
                self.dropped += 1
            self._items[key] = item
            self._cond.notify()
            return not replaced

    def take(self, timeout=None):
        """(key, item), or None when closed and empty or after ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._items or self._closed, timeout):
                return None
            if not self._items:
                return None
            return self._items.popitem(last=False)

    def close(self):
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Step:
    """What the callback saw; nothing is copied or converted on the sampler's thread."""

    __slots__ = ("x0", "latent_format", "step", "total_steps", "prompt_id", "node_id", "sigma")

    def __init__(self, x0, latent_format, step, total_steps, prompt_id, node_id, sigma):
        self.x0, self.latent_format, self.step, self.total_steps = x0, latent_format, step, total_steps
        self.prompt_id, self.node_id, self.sigma = prompt_id, node_id, sigma


class StepPublisher:
    """Encodes the newest step of each (prompt, node) on a daemon thread and calls ``sink(message, step)``."""

    def __init__(self, sinks, max_streams=16):
        self.sinks = list(sinks)
        self.slots = LatestSlots(max_streams)
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="taesd_web_publisher", daemon=True)
        self._thread.start()

    def offer(self, step):
        """From the sampler's callback: O(1), never waits on the encoder or the network."""
        self.slots.put((step.prompt_id, step.node_id), step)

    def _run(self):
        while True:
            got = self.slots.take()
            if got is None:
                return
            step = got[1]
            try:
                message = encode_latent(step.x0, latent_format=step.latent_format, step=step.step, total_steps=step.total_steps,
                                        prompt_id=step.prompt_id, node_id=step.node_id, sigma=step.sigma)
            except Exception:
                log.exception("taesd-web: could not encode step %s", step.step)
                continue
            step.x0 = None  # the GPU tensor is released as soon as it is copied
            for sink in self.sinks:
                try:
                    sink(message, step)
                except Exception:
                    log.exception("taesd-web: a sink failed")
            self.sent += 1

    def close(self, timeout=5.0):
        self.slots.close()
        self._thread.join(timeout)
