"""A nickname written in Markdown is shown as text on the Teacher page (the projector's screen), in Chromium.

The nickname ``![](//127.1:<port>/u)`` rendered as an image made the teacher's browser fetch that address; here a
small HTTP server on 127.0.0.1 counts what it is asked for (none expected), and the page must show the nickname's
characters as typed. Loopback only; the classroom server and phones are test_classroom_phones.py's.
"""

from __future__ import annotations

import http.server
import threading

import pytest
from playwright.sync_api import expect

from .helpers import LOAD_TIMEOUT, button, key, screenshot
from .test_classroom_phones import TEACHER_CODE, _heading, _join, browser, classroom, phone  # noqa: F401 - fixtures


@pytest.fixture
def image_trap():
    """An HTTP server on 127.0.0.1 that counts requests (a rendered image would ask it for /u)."""
    asked: list[str] = []

    class Counting(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            asked.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], asked
    server.shutdown()


def test_a_markdown_nickname_is_shown_as_text_on_the_teacher_page(classroom, phone, image_trap):  # noqa: F811
    port, asked = image_trap
    nickname = f"![](//127.1:{port}/u)"
    _join(phone(), classroom, nickname)
    teacher = phone()
    teacher.goto(f"{classroom}/teacher", wait_until="domcontentloaded")
    _heading(teacher, "Teacher")
    teacher.locator(f"{key('teacher_code_input')} input").fill(TEACHER_CODE)
    teacher.get_by_role("button", name="Open").click()
    expect(teacher.get_by_text("Who is here")).to_be_visible(timeout=LOAD_TIMEOUT)
    teacher.get_by_text("A student forgot their return code").click()
    button(teacher, "teacher_new_code").click()
    alert = teacher.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="New return code for")
    expect(alert).to_be_visible(timeout=LOAD_TIMEOUT)
    assert nickname in alert.inner_text()  # every character as typed
    main = teacher.locator('[data-testid="stMain"]')
    assert main.locator(f'img[src*="{port}"]').count() == 0
    screenshot(teacher, "phone-classroom", "teacher-markdown-nickname")
    assert asked == []  # the teacher's browser never fetched the nickname's "image"
