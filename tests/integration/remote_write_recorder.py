#!/usr/bin/python3
"""A receiver that keeps each remote_write request as it came (test_remote_write).

usage: remote_write_recorder.py PORT DIR

Every POST is answered 204 (as Prometheus answers) after its header block is written to
DIR/N.headers and its body to DIR/N.body (N from 0); the .headers file appears last, so a test
that sees it can read both. GET answers 200 (readiness).
"""
import http.server
import os
import sys


class Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        n = Recorder.count
        Recorder.count += 1
        out = sys.argv[2]
        with open(os.path.join(out, "%d.body" % n), "wb") as f:
            f.write(body)
        tmp = os.path.join(out, "%d.headers.tmp" % n)
        with open(tmp, "w", encoding="utf-8") as f:
            for k, v in self.headers.items():
                f.write("%s: %s\n" % (k, v))
        os.rename(tmp, os.path.join(out, "%d.headers" % n))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Recorder).serve_forever()


if __name__ == "__main__":
    main()
