#!/usr/bin/env python3
"""Swagger UI screenshots of LiftBit's main operations, taken from a running stack with headless
Chromium, for the README: img/swagger-<operation>.png; then the web app's screens at desktop and
phone width, img/web-<screen>-<size>.png (scripts/web_screenshots.py).

Each picture shows one operation in Swagger UI (served by the stack at /docs) after "Try it out" and
"Execute", with the server's answer (status code and body). The walk-through registers a user,
logs in, authorises Swagger UI with that user, uploads a file, lists files, gives and removes a
second user's permission, deletes the file and deletes the account.

Without --url the script starts a throw-away stack (scripts.stack's throwaway_stack, on free ports in a
temporary folder) and stops it afterwards. Chromium is driven over the Chrome DevTools Protocol
(websockets, already a dependency): Playwright's browser download is not needed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from websockets.sync.client import ClientConnection, connect

from scripts.chromium import CHROMIUM, CHROMIUM_FLAGS
from scripts.stack.throwaway import throwaway_stack
from scripts.web_screenshots import take_web_screenshots

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "img"
VIEWPORT_WIDTH = 1280
VIEWPORT_HEIGHT = 900
# Swagger UI debounces its form fields: a value typed just before "Execute" is not sent yet.
INPUT_SETTLE_SECONDS = 0.5
SCREENSHOT_FLAGS = (
    "--headless",
    *CHROMIUM_FLAGS,
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",  # Chromium picks a free port and writes it to DevToolsActivePort
    f"--window-size={VIEWPORT_WIDTH},{VIEWPORT_HEIGHT}",
)
# Only the live answer matters in a picture: the documented responses below it are hidden.
SCREENSHOT_CSS = """
.swagger-ui .responses-inner > table.responses-table,
.swagger-ui .responses-inner > div > h4 { display: none !important; }
"""

app = typer.Typer(help=__doc__, add_completion=False)


def say(message: str) -> None:
    print(message, flush=True)


class ScreenshotError(RuntimeError):
    pass


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``condition()`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise ScreenshotError(f"timed out after {timeout:g} s waiting for {what}")


# --------------------------------------------------------------------------- Chromium over CDP


class DevToolsPage:
    """One page target, driven over its DevTools websocket (commands answered in order by id)."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next_id = 0

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        self._next_id += 1
        request_id = self._next_id
        self._socket.send(json.dumps({"id": request_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") != request_id:
                continue  # an event, not needed: the walk-through polls the page instead
            if "error" in message:
                raise ScreenshotError(f"{method} failed: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    def evaluate(self, expression: str) -> Any:
        """Run JavaScript in the page and return its (JSON-serialisable) value; promises are awaited."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise ScreenshotError(f"JavaScript failed: {details.get('exception', {}).get('description', details)}")
        return result["result"].get("value")


@contextlib.contextmanager
def chromium(executable: str) -> Iterator[DevToolsPage]:
    """Headless Chromium with a fresh profile; stopped by its PID (and process group) afterwards."""
    with tempfile.TemporaryDirectory(prefix="liftbit-chromium-") as profile:
        process = subprocess.Popen(
            [executable, *SCREENSHOT_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            active_port = Path(profile) / "DevToolsActivePort"
            wait_until(lambda: process.poll() is None and active_port.exists(), 30, "Chromium's DevTools port")
            port = int(wait_until(lambda: active_port.read_text().split("\n")[0].strip(), 5, "the port number"))
            targets = wait_until(lambda: page_targets(port), 10, "a page target")
            # Screenshots arrive base64-encoded in one message: no size limit; loopback needs no proxy.
            with connect(targets[0]["webSocketDebuggerUrl"], max_size=None, proxy=None, open_timeout=10) as socket:
                yield DevToolsPage(socket)
        finally:
            stop_process_group(process)


def page_targets(port: int) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
        targets: list[dict[str, Any]] = json.load(response)
    return [target for target in targets if target.get("type") == "page"]


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


# --------------------------------------------------------------------------- Swagger UI


@dataclass(frozen=True)
class Operation:
    method: str
    path: str

    @property
    def selector(self) -> str:
        """JavaScript expression for the operation's block in Swagger UI."""
        return (
            "[...document.querySelectorAll('.opblock')].find(block => "
            f"block.querySelector('.opblock-summary-method')?.textContent.trim() === {json.dumps(self.method)} && "
            f"block.querySelector('.opblock-summary-path')?.dataset.path === {json.dumps(self.path)})"
        )


class SwaggerUI:
    def __init__(self, page: DevToolsPage, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")

    def open(self) -> None:
        self.page.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )
        self.page.call("Page.enable")
        self.page.call("Page.navigate", {"url": f"{self.base_url}/docs"})
        wait_until(
            lambda: self.page.evaluate("document.querySelectorAll('.opblock').length > 0"), 30, "Swagger UI to render"
        )
        self.page.evaluate(
            "(() => { const style = document.createElement('style');"
            f" style.textContent = {json.dumps(SCREENSHOT_CSS)}; document.head.appendChild(style); }})()"
        )

    def _in_block(self, operation: Operation, body: str) -> Any:
        """Evaluate ``body`` (statements using ``block``) for the operation's block."""
        return self.page.evaluate(
            f"(() => {{ const block = {operation.selector};"
            f" if (!block) throw new Error('no operation {operation.method} {operation.path}'); {body} }})()"
        )

    def prepare(self, operation: Operation) -> None:
        """Expand the operation and press "Try it out"."""
        self._in_block(
            operation,
            "if (!block.classList.contains('is-open')) block.querySelector('.opblock-summary-control').click();",
        )
        wait_until(
            lambda: self._in_block(operation, "return !!block.querySelector('.try-out__btn');"), 10, "Try it out"
        )
        self._in_block(
            operation,
            "const button = block.querySelector('.try-out__btn');"
            " if (button.textContent.trim() === 'Try it out') button.click();",
        )
        wait_until(lambda: self._in_block(operation, "return !!block.querySelector('button.execute');"), 10, "Execute")

    def _type_into(self, operation: Operation, element_selector: str, text: str) -> None:
        """Focus a field and type into it as a user would (React sees real input events)."""
        self._in_block(
            operation,
            f"const field = block.querySelector({json.dumps(element_selector)});"
            f" if (!field) throw new Error({json.dumps('no field ' + element_selector)});"
            " field.scrollIntoView({block: 'center'}); field.focus(); field.select();",
        )
        self.page.call("Input.insertText", {"text": text})
        time.sleep(INPUT_SETTLE_SECONDS)

    def fill_parameter(self, operation: Operation, name: str, value: str) -> None:
        self._type_into(operation, f"tr[data-param-name='{name}'] input", value)

    def fill_form_field(self, operation: Operation, name: str, value: str) -> None:
        self._type_into(operation, f"tr[data-property-name='{name}'] input", value)

    def clear_form_field(self, operation: Operation, name: str) -> None:
        self._in_block(
            operation,
            f"const field = block.querySelector(\"tr[data-property-name='{name}'] input\");"
            " field.focus(); field.select();",
        )
        backspace = {"key": "Backspace", "code": "Backspace", "windowsVirtualKeyCode": 8}
        self.page.call("Input.dispatchKeyEvent", {"type": "keyDown", **backspace})
        self.page.call("Input.dispatchKeyEvent", {"type": "keyUp", **backspace})
        time.sleep(INPUT_SETTLE_SECONDS)

    def fill_json_body(self, operation: Operation, body: dict[str, Any]) -> None:
        self._type_into(operation, "textarea.body-param__text", json.dumps(body, indent=2))

    def choose_file(self, operation: Operation, path: Path) -> None:
        found = self.page.call(
            "Runtime.evaluate", {"expression": f"{operation.selector}.querySelector('input[type=file]')"}
        )
        object_id = found["result"].get("objectId")
        if object_id is None:
            raise ScreenshotError(f"no file field in {operation.method} {operation.path}")
        self.page.call("DOM.setFileInputFiles", {"files": [str(path)], "objectId": object_id})

    def execute(self, operation: Operation, expected_status: int) -> None:
        self._in_block(operation, "block.querySelector('button.execute').click();")
        status = wait_until(
            lambda: self._in_block(
                operation,
                "const cell = block.querySelector('.live-responses-table tr.response .response-col_status');"
                " return cell ? cell.textContent.trim() : null;",
            ),
            30,
            f"the answer to {operation.method} {operation.path}",
        )
        if not str(status).startswith(str(expected_status)):
            body = self._in_block(operation, "return block.querySelector('.live-responses-table')?.innerText;")
            raise ScreenshotError(
                f"{operation.method} {operation.path} answered {status}, not {expected_status}:\n{body}"
            )

    def authorize(self, username: str, password: str) -> None:
        """Swagger UI's Authorize dialog with the OAuth2 password flow."""
        self.page.evaluate("document.querySelector('.auth-wrapper .authorize').click()")
        wait_until(
            lambda: self.page.evaluate("!!document.querySelector('.modal-ux #oauth_username')"), 10, "the dialog"
        )
        for field_id, value in (("oauth_username", username), ("oauth_password", password)):
            self.page.evaluate(
                f"(() => {{ const field = document.querySelector('.modal-ux #{field_id}');"
                " field.focus(); field.select(); })()"
            )
            self.page.call("Input.insertText", {"text": value})
            time.sleep(INPUT_SETTLE_SECONDS)
        self.page.evaluate("document.querySelector('.modal-ux .auth-btn-wrapper .authorize').click()")
        # Authorised, the dialog's Authorize button turns into Logout; a refused login shows errors.
        outcome = wait_until(
            lambda: self.page.evaluate(
                "(() => { const errors = document.querySelector('.modal-ux .errors')?.innerText.trim();"
                " if (errors) return 'error: ' + errors;"
                " const button = document.querySelector('.modal-ux .auth-btn-wrapper .authorize');"
                " return button && button.textContent.trim() === 'Logout' ? 'ok' : null; })()"
            ),
            15,
            "the token",
        )
        if outcome != "ok":
            raise ScreenshotError(f"Swagger UI could not authorise: {outcome}")

    def close_dialog(self) -> None:
        self.page.evaluate("document.querySelector('.modal-ux .btn-done, .modal-ux .close-modal')?.click()")
        wait_until(lambda: self.page.evaluate("!document.querySelector('.modal-ux')"), 10, "the dialog to close")

    def screenshot(self, element: str, output: Path) -> None:
        """A picture of one element (a JavaScript expression), with a margin, the page scrolled to it."""
        # No caret or focus ring from the last field typed into.
        self.page.evaluate(
            f"(() => {{ document.activeElement?.blur();"
            f" const el = {element}; el.scrollIntoView({{block: 'start'}}); }})()"
        )
        time.sleep(0.3)  # Swagger UI's expand animation and syntax highlighting
        box = self.page.evaluate(
            f"(() => {{ const r = ({element}).getBoundingClientRect();"
            " return {x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height}; })()"
        )
        margin = 12
        clip = {
            "x": max(0.0, box["x"] - margin),
            "y": max(0.0, box["y"] - margin),
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
            "scale": 1,
        }
        shot = self.page.call(
            "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}, timeout=60
        )
        output.write_bytes(base64.b64decode(shot["data"]))
        say(f"  {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")

    def screenshot_operation(self, operation: Operation, output: Path) -> None:
        self.screenshot(operation.selector, output)


# --------------------------------------------------------------------------- the walk-through


@dataclass(frozen=True)
class Demo:
    username: str
    password: str
    grantee: str
    filename: str


def take_screenshots(page: DevToolsPage, base_url: str, demo: Demo, output: Path, sample: Path) -> None:
    ui = SwaggerUI(page, base_url)
    ui.open()

    register = Operation("POST", "/users")
    ui.prepare(register)
    ui.fill_json_body(register, {"username": demo.username, "password": demo.password})
    ui.execute(register, 201)
    ui.screenshot_operation(register, output / "swagger-register.png")

    # The grantee of the permission pictures, registered directly through the API.
    grantee = httpx.post(f"{base_url}/users", json={"username": demo.grantee, "password": demo.password}, timeout=30)
    if grantee.status_code != 201:
        raise ScreenshotError(f"could not register {demo.grantee}: {grantee.status_code} {grantee.text}")

    login = Operation("POST", "/auth/token")
    ui.prepare(login)
    ui.fill_form_field(login, "username", demo.username)
    ui.fill_form_field(login, "password", demo.password)
    for example_value in ("client_id", "client_secret"):  # Swagger UI's placeholders, not ours to send
        ui.clear_form_field(login, example_value)
    ui.execute(login, 200)
    ui.screenshot_operation(login, output / "swagger-login.png")

    ui.authorize(demo.username, demo.password)
    ui.screenshot("document.querySelector('.modal-ux')", output / "swagger-authorize.png")
    ui.close_dialog()

    upload = Operation("POST", "/users/{username}/files")
    ui.prepare(upload)
    ui.fill_parameter(upload, "username", demo.username)
    ui.choose_file(upload, sample)
    ui.execute(upload, 201)
    ui.screenshot_operation(upload, output / "swagger-upload.png")

    list_files = Operation("GET", "/users/{username}/files")
    ui.prepare(list_files)
    ui.fill_parameter(list_files, "username", demo.username)
    ui.execute(list_files, 200)
    ui.screenshot_operation(list_files, output / "swagger-list-files.png")

    for method, name in (("PUT", "give-permission"), ("DELETE", "remove-permission")):
        permission = Operation(method, "/users/{owner}/files/{filename}/permissions/{grantee}")
        ui.prepare(permission)
        ui.fill_parameter(permission, "owner", demo.username)
        ui.fill_parameter(permission, "filename", demo.filename)
        ui.fill_parameter(permission, "grantee", demo.grantee)
        ui.execute(permission, 204)
        ui.screenshot_operation(permission, output / f"swagger-{name}.png")

    delete_file = Operation("DELETE", "/users/{username}/files/{filename}")
    ui.prepare(delete_file)
    ui.fill_parameter(delete_file, "username", demo.username)
    ui.fill_parameter(delete_file, "filename", demo.filename)
    ui.execute(delete_file, 204)
    ui.screenshot_operation(delete_file, output / "swagger-delete-file.png")

    delete_account = Operation("DELETE", "/users/{username}")
    ui.prepare(delete_account)
    ui.fill_parameter(delete_account, "username", demo.username)
    ui.execute(delete_account, 204)
    ui.screenshot_operation(delete_account, output / "swagger-delete-account.png")


@app.command()
def main(
    url: Annotated[
        str | None, typer.Option(help="A running stack (e.g. http://127.0.0.1:3000); default: start one")
    ] = None,
    output: Annotated[Path, typer.Option(help="Folder for swagger-<operation>.png")] = DEFAULT_OUTPUT,
    browser: Annotated[str, typer.Option(envvar="CHROMIUM", help="Chromium executable")] = CHROMIUM,
    username: Annotated[str, typer.Option(help="The demo user (must not exist yet)")] = "alice",
    grantee: Annotated[str, typer.Option(help="The user given permission (must not exist yet)")] = "bob",
) -> None:
    """Take the screenshots (about a minute with a throw-away stack)."""
    if shutil.which(browser) is None:
        print(f"error: {browser} not found; install Debian's chromium (scripts/docs.sh does)", file=sys.stderr)
        raise typer.Exit(1)
    output.mkdir(parents=True, exist_ok=True)
    demo = Demo(username=username, password="correct horse battery staple", grantee=grantee, filename="report.txt")
    with contextlib.ExitStack() as cleanup:
        base_url = url or cleanup.enter_context(throwaway_stack(log=say)).url
        sample_folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="liftbit-sample-")))
        sample = sample_folder / demo.filename
        sample.write_text("Quarterly figures: all up and to the right.\n")
        # The web app's screens first (img/web-*.png), then Swagger UI's, from the same stack.
        take_web_screenshots(base_url, output.resolve(), browser)
        page = cleanup.enter_context(chromium(browser))
        say(f"Screenshots of {base_url}/docs:")
        try:
            take_screenshots(page, base_url, demo, output.resolve(), sample)
        except ScreenshotError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(1) from exc


if __name__ == "__main__":
    app()
