"""The peer side of bench/lib/harness.ts: one JSON command per line on stdin, one JSON answer per
line on stdout. Anything a peer prints goes to stderr, so stdout carries only answers."""
import json
import os
import sys
import traceback


def serve(handlers):
    answers = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        cmd = msg.pop("cmd")
        if cmd == "exit":
            break
        try:
            if cmd not in handlers:
                raise KeyError(f"unknown command {cmd!r}")
            result = handlers[cmd](**msg)
        except Exception:  # noqa: BLE001 - reported to the Node side, which fails the bench
            result = {"error": traceback.format_exc()}
        answers.write(json.dumps(result) + "\n")
        answers.flush()


def setup_threads(threads):
    """Sets PyTorch's intra-op pool to `threads` and says what it got."""
    import torch

    torch.set_num_threads(int(threads))
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
    }
