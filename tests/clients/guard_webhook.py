"""A guardrail webhook for the end-to-end tests (agentgateway's webhook contract).

usage: guard_webhook.py PORT
/request:  a message containing "forbidden" -> reject 422 "blocked by webhook";
           "secret-<digits>" -> masked as "<WEBHOOK>"; otherwise pass.
/response: "mock" -> "MOCK" in every choice; otherwise pass.
Every body received is appended to requests.jsonl in the working directory.
"""

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        with open("requests.jsonl", "a") as log:
            log.write(json.dumps({"path": self.path, "body": body}) + "\n")
        if self.path == "/request":
            messages = body["body"]["messages"]
            if any("forbidden" in m["content"] for m in messages):
                action = {"body": "blocked by webhook", "status_code": 422, "reason": "topic"}
            elif any(re.search(r"secret-\d+", m["content"]) for m in messages):
                masked = [dict(m, content=re.sub(r"secret-\d+", "<WEBHOOK>", m["content"])) for m in messages]
                action = {"body": {"messages": masked}, "reason": "secret"}
            else:
                action = {"reason": "clean"}
        else:
            choices = body["body"]["choices"]
            if any("mock" in c["message"]["content"] for c in choices):
                masked = [{"message": dict(c["message"], content=c["message"]["content"].replace("mock", "MOCK"))} for c in choices]
                action = {"body": {"choices": masked}}
            else:
                action = {}
        out = json.dumps({"action": action}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
