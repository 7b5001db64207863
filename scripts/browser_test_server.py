#!/usr/bin/env python3
"""Serves a directory on 127.0.0.1 for scripts/browser-test and appends every JSON body POSTed
to /event as one line of the events file.

    browser_test_server.py DIRECTORY PORT EVENTS_FILE
"""
import functools
import http.server
import sys

directory, port, events_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        if self.path == "/event":
            with open(events_file, "a", encoding="utf-8") as f:
                f.write(body.replace("\n", " ") + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


handler = functools.partial(Handler, directory=directory)
http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
