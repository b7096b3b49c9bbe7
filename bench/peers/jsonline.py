"""The protocol every peer speaks with bench/lib/peer.ts: one JSON command per line on stdin
({"cmd": name, ...}), one JSON answer per line on stdout. An exception is reported as
{"error": ...} and the peer keeps serving; "quit" (or the end of stdin) ends it."""
import json
import sys


def serve(commands):
    """commands: name -> function(msg) -> answer (a JSON-serializable dict)."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        cmd = msg.get("cmd")
        if cmd == "quit":
            break
        try:
            handler = commands.get(cmd)
            ans = handler(msg) if handler else {"error": f"unknown command {cmd!r}"}
        except Exception as e:  # report, keep serving
            ans = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()
