"""``python -m ui.streamlit_with_http_hint run app.py ...``: ``streamlit run`` with plain http:// requests on the
HTTPS port answered by a redirect (``core.classroom.plain_http_hint``). ``make classroom`` starts the server this
way; the launcher lives here because it starts Streamlit, and core/ stays free of it."""

import sys

from streamlit.web.cli import main as streamlit_main

from core.classroom import install_plain_http_hint


def main() -> int:
    install_plain_http_hint()
    sys.argv[0] = "streamlit"
    return streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main())
