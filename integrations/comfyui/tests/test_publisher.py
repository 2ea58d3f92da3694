import threading
import time
import unittest

import numpy as np

from taesd_web.protocol import decode_latent
from taesd_web.publisher import LatestSlots, Step, StepPublisher


def step(i, prompt="p", node="3"):
    return Step(np.full((1, 4, 2, 2), i, np.float32), "SD15", i, 1000, prompt, node, None)


class LatestSlotsTest(unittest.TestCase):
    def test_keeps_only_the_newest_per_key_and_bounds_keys(self):
        s = LatestSlots(max_keys=2)
        self.assertTrue(s.put("a", 1))
        self.assertFalse(s.put("a", 2))
        s.put("b", 1)
        s.put("c", 1)  # evicts "a", the longest waiting
        self.assertEqual(s.take(0), ("b", 1))
        self.assertEqual(s.take(0), ("c", 1))
        self.assertIsNone(s.take(0.01))
        self.assertEqual(s.dropped, 2)


class StepPublisherTest(unittest.TestCase):
    def test_a_blocked_sink_never_blocks_the_sampler_and_stale_steps_are_dropped(self):
        gate = threading.Event()
        got = []

        def slow_sink(message, st):
            gate.wait(10)
            got.append(decode_latent(message))

        pub = StepPublisher([slow_sink])
        try:
            # The sink is blocked for the whole loop: offer() returning at all shows it never waits on it
            # (the bound is loose for a loaded machine).
            t = time.perf_counter()
            for i in range(2000):
                pub.offer(step(i))
            self.assertLess(time.perf_counter() - t, 5.0, "offer() waited on the sink")
            gate.set()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and (not got or got[-1][1]["step"] != "1999"):
                time.sleep(0.01)
        finally:
            pub.close()
        steps = [int(meta["step"]) for _, meta in got]
        self.assertEqual(steps[-1], 1999, "the newest step arrives")
        self.assertLessEqual(len(steps), 3, f"stale steps were sent: {steps}")
        self.assertEqual(steps, sorted(steps))
        self.assertEqual(got[-1][0][0, 0, 0, 0], 1999)

    def test_streams_do_not_drop_each_other(self):
        got = []
        pub = StepPublisher([lambda m, st: got.append((st.prompt_id, st.step))])
        try:
            for prompt in ("a", "b", "c"):
                pub.offer(step(7, prompt=prompt))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(got) < 3:
                time.sleep(0.01)
        finally:
            pub.close()
        self.assertEqual(sorted(got), [("a", 7), ("b", 7), ("c", 7)])

    def test_a_failing_sink_does_not_stop_the_others(self):
        got = []

        def bad(message, st):
            raise RuntimeError("boom")

        pub = StepPublisher([bad, lambda m, st: got.append(st.step)])
        try:
            with self.assertLogs("taesd_web", "ERROR"):
                pub.offer(step(1))
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not got:
                    time.sleep(0.01)
        finally:
            pub.close()
        self.assertEqual(got, [1])


if __name__ == "__main__":
    unittest.main()
