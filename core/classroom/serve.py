"""Start the app for a class: HTTPS on the school network (``make classroom``, ``python -m core.classroom``).

Makes (once) or reuses the certificate, prints the join address(es) with a QR code, then runs
``streamlit run app.py`` on all network interfaces with ``TLL_CLASSROOM=1`` (students pick nicknames).
``make run`` stays a one-person app on http://localhost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from core.classroom import certificate, join
from core.classroom.disk_space import start_up_check
from core.classroom.store import data_dir
from core.classroom.teacher_gate import suggest_code, weak_code_reason
from core.utils.paths import PROJECT_ROOT


def streamlit_command(port: int, address: str, cert, key) -> list[str]:
    # streamlit run, with plain http:// requests on this HTTPS port answered by a redirect (see the module)
    return [sys.executable, "-m", "ui.streamlit_with_http_hint", "run", str(PROJECT_ROOT / "app.py"),
            "--server.address", address, "--server.port", str(port),
            "--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def prepare_quick_model(env: dict) -> None:
    """The Predict page's ready-made model, made (or found on disk) in its own process before the server
    starts: the server then only loads it, and 30 students never wait for it to train."""
    print("  Preparing the quick flower model (the first time takes about a minute)...", flush=True)
    subprocess.run([sys.executable, "-m", "core.training.quick_model"], cwd=PROJECT_ROOT, env=env, check=False)


def prepare_features(env: dict, sizes: list[int]) -> None:
    """The frozen features of the class's flowers at the lesson's default cut, made (or found on disk) before
    the server starts: the first trainings then start from the cache (core.classroom.warm_start)."""
    print(f"  Preparing the flower features at {', '.join(map(str, sizes))} px for the first trainings (the first "
          "time takes a minute or two)...", flush=True)
    subprocess.run([sys.executable, "-m", "core.classroom.warm_start", "--sizes", *map(str, sizes)],
                   cwd=PROJECT_ROOT, env=env, check=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.classroom", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8501)))
    parser.add_argument("--address", default="0.0.0.0", help="listen on (default: every network interface)")
    parser.add_argument("--no-qr", action="store_true", help="print the addresses without QR codes")
    parser.add_argument("--no-quick-model", action="store_true",
                        help="start at once, preparing nothing: the first student to ask trains the quick model in "
                             "the server, and the first trainings read the flower features themselves")
    parser.add_argument("--warm-sizes", type=int, nargs="*", default=[224],
                        help="image sizes whose flower features are prepared before students arrive (default: "
                             "224, the lesson's; none: skip)")
    args = parser.parse_args(argv)

    code = os.environ.get("TLL_TEACHER_CODE", "")
    weak = weak_code_reason(code) if code else None
    if weak:
        print(f"\nThe teacher code (TLL_TEACHER_CODE) is too easy to guess: {weak}. Students could guess it and "
              f"give anyone a new return code.\nPick a longer one, for example:\n\n"
              f"  TLL_TEACHER_CODE='{suggest_code()}' make classroom\n", file=sys.stderr, flush=True)
        return 2
    folder = data_dir()
    can_start, disk_line = start_up_check(folder)
    print(f"\n  {disk_line}", file=sys.stderr if not can_start else sys.stdout, flush=True)
    if not can_start:
        return 3
    addresses = join.network_addresses()
    own = certificate.own_certificate()
    cert, key = own or certificate.self_signed(folder / "tls", addresses)
    urls = join.join_urls(args.port, https=True)
    print("\nTransfer Learning Lab for a class (HTTPS)\n", flush=True)
    if not urls:
        print("  No network address found: students cannot reach this computer. Connect it to the network.")
    for url in urls:
        print(f"  Students open:  {url}")
        if not args.no_qr:
            print(join.qr_text(url))
    print(f"  On this computer: https://localhost:{args.port}")
    print("  An address typed with http:// (or without https://) is sent on to https://; the QR code has it right.")
    base = urls[0] if urls else f"https://localhost:{args.port}"
    print(f"  Projector view (no code needed, nothing secret): {base}/projector")
    if own is None:
        print(f"  Certificate: self-made ({cert}); each phone asks once to accept it (README).\n"
              f"  Its fingerprint: {certificate.fingerprint(cert)}")
    print("  Teacher page: " + ("on (the code is TLL_TEACHER_CODE)" if os.environ.get("TLL_TEACHER_CODE")
                                else "off: set TLL_TEACHER_CODE to use it"))
    print(f"  Students' work is kept in {folder}\n", flush=True)
    env = {**os.environ, "TLL_CLASSROOM": "1"}
    # Training workers wait ready (TensorFlow imported), one per training the server runs at once.
    env.setdefault("TLL_WARM_WORKERS", env.get("TLL_MAX_TRAININGS", "2"))
    if args.warm_sizes and not args.no_quick_model:  # "start at once": nothing is prepared beforehand
        prepare_features(env, args.warm_sizes)
    if not args.no_quick_model:
        prepare_quick_model(env)
    os.chdir(PROJECT_ROOT)
    command = streamlit_command(args.port, args.address, cert, key)
    os.execve(command[0], command, env)  # the server replaces this process (Ctrl+C stops it)
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
