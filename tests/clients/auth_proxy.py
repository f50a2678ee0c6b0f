"""An HTTP reverse proxy that demands a bearer token, for the test of headers a
RemoteMCPServer sends upstream (headersFrom).

usage: auth_proxy.py LISTEN_PORT TARGET_PORT TOKEN
Requests without `Authorization: Bearer TOKEN` get 401; others are relayed to
127.0.0.1:TARGET_PORT and the answer streamed back (event streams included).
"""

import http.client
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

listen_port, target_port, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def relay(self):
        if self.headers.get("authorization") != f"Bearer {token}":
            self.send_response(401)
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("content-length", "0") or 0))
        upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=300)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        self.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.end_headers()
        try:
            while chunk := response.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()
        except (ConnectionError, OSError):
            pass

    do_GET = do_POST = do_DELETE = relay

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", listen_port), Relay).serve_forever()
