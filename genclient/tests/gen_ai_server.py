#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A scripted chat-completions server on loopback for genclient's AI tests.

The first path component picks the script (POST /<mode>/v1/chat/completions):
  correct   a right program for y = a * b + 1, if the prompt carries the ISA
  fix       a wrong program first; the right one once the request holds the
            verifier/checker feedback ("was rejected")
  garbage   a body that is not JSON
  nocode    a well-formed reply with prose and no code block
  unsafe    a program that jumps out of the program (rejected by the verifier)
  slow      answers after 5 s (longer than the client's timeout)
  http500   HTTP 500
Prints the port on stdout, then serves until killed.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RIGHT = "```lavm\n# y = a * b + 1\n\tMUL r0, r0, r1\n\tSETI r2, 1\n\tADD r0, r0, r2\n\tHALT\n```"
WRONG = "Here you go:\n```lavm\n\tADD r0, r0, r1\n\tHALT\n```"
UNSAFE = "```\n\tBRANCH_EQ r0, 40\n\tHALT\n```"


def reply(content):
    return {"id": "x", "object": "chat.completion", "model": "scripted",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}]}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n) or b"{}")
        text = "\n".join(m.get("content", "") for m in req.get("messages", []))
        mode = self.path.strip("/").split("/")[0]
        if mode == "correct":
            ok = "SYSCALL_READ" in text and "BRANCH_LT" in text and "Example 0" in text
            self.send(200, json.dumps(reply(RIGHT if ok else "no ISA in the prompt")))
        elif mode == "fix":
            self.send(200, json.dumps(reply(RIGHT if "was rejected" in text else WRONG)))
        elif mode == "garbage":
            self.send(200, "<html>this is not json", "text/html")
        elif mode == "nocode":
            self.send(200, json.dumps(reply("I would multiply a by b and add one.")))
        elif mode == "unsafe":
            self.send(200, json.dumps(reply(UNSAFE)))
        elif mode == "slow":
            time.sleep(5)
            self.send(200, json.dumps(reply(RIGHT)))
        else:
            self.send(500, '{"error": "scripted failure"}')


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
