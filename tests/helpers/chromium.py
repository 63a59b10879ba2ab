"""A headless chromium driven through the DevTools protocol, for the explorer's browser tests.

One browser process, one page; every console error, uncaught exception and
error logged by the browser (a blocked fetch, say) is collected in ``errors``.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser() -> str | None:
    """The chromium executable: $GRAPHBP_CHROMIUM, else the first of :data:`BROWSERS` on PATH."""
    return os.environ.get("GRAPHBP_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)


def chromium_for_tests(**options) -> "Chromium":
    """A :class:`Chromium` for a browser test: skips locally (fails under CI=true) without chromium or
    websocket-client. `options` are Chromium's (width, height, timeout)."""
    from optional import missing, require

    executable = find_browser()
    if executable is None:
        missing("chromium", "apt-get install chromium; bash .ci/run does")
    require("websocket", "pip install -e '.[test]' installs websocket-client")
    return Chromium(executable, **options)


class Chromium:
    """``with Chromium(path) as browser: browser.open(url); browser.evaluate("1 + 1")``."""

    def __init__(self, executable: str, width: int = 1200, height: int = 760, timeout: float = 30.0):
        self.executable, self.size, self.timeout = executable, (width, height), timeout
        self.errors: list[str] = []
        self._ids = itertools.count(1)

    def __enter__(self):
        import websocket

        self._profile = tempfile.TemporaryDirectory(prefix="graphbp-chromium-")
        self._process = subprocess.Popen(
            [self.executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-dev-shm-usage", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile.name}", f"--window-size={self.size[0]},{self.size[1]}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"{self.executable} did not start its DevTools endpoint")
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=self.timeout) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self._socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=self.timeout,
                                                   suppress_origin=True)
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        return self

    def __exit__(self, *exc):
        if getattr(self, "_socket", None):
            self._socket.close()
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._profile.cleanup()

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(f"exception: {details.get('exception', {}).get('description') or details['text']}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']}")
        elif method == "Page.loadEventFired":
            self._loaded = True

    def send(self, method: str, **params) -> dict:
        """Call a DevTools method and return its result; events arriving meanwhile are recorded."""
        call = next(self._ids)
        self._socket.send(json.dumps({"id": call, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == call:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._event(message)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready: str = "document.body && document.body.dataset.ready === 'true'") -> None:
        """Load `url` and wait until the JavaScript condition `ready` holds."""
        self._loaded = False
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + self.timeout
        # The old page may satisfy `ready` until the new one has loaded: wait for its load event first.
        while not (self.evaluate(f"Boolean({ready})") and self._loaded):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} never became ready ({ready}); errors: {self.errors}")
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        """A real mouse click (move, press, release) at the centre of the first element matching `selector`."""
        box = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        x, y = box
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path) -> Path:
        """Save a PNG of the page as it is now."""
        import base64

        path = Path(path)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return path
