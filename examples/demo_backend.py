#!/usr/bin/python3
"""A tiny HTTP backend for the demo: answers every request with its own name.

Usage: demo_backend.py NAME PORT   (listens on 127.0.0.1)
"""
import http.server
import sys


def main():
    name, port = sys.argv[1], int(sys.argv[2])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"Hello from {name} (path {self.path})\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Backend", name)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stderr.write(f"[{name}] {self.address_string()} {fmt % args}\n")

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
