"""Requests the server refuses, answered with a short text saying why instead of an empty reply.

Tornado closes the connection without a word on a request whose head is over its `max_header_size` (64 KiB: a
100 kB query), and answers a bare `400` with no text on a query of more than 1,000 parameters. The server reads
heads up to `MAX_READ_BYTES` instead (`HTTP_SERVER_OPTIONS`), and `guard_requests` refuses, before anything else
sees them, a request whose address is over `MAX_URI_BYTES` (414), whose head is over `MAX_HEAD_BYTES` (431), or
whose query has over `MAX_QUERY_FIELDS` parameters (400), each with one line of text/plain. What was served
before is served as before: the limits are Tornado's own.
"""

from __future__ import annotations

from tornado import httputil

MAX_URI_BYTES = 65_536
MAX_HEAD_BYTES = 65_536
MAX_QUERY_FIELDS = 1_000  # tornado's (ParseBodyConfig.urlencoded.max_arguments)
MAX_READ_BYTES = 1_048_576  # what is read of a request's head before the connection is dropped unanswered
HTTP_SERVER_OPTIONS = {"max_header_size": MAX_READ_BYTES}


def problem(start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders) -> tuple[int, str, str] | None:
    """(status, reason, text) for a request refused, else None."""
    uri = start_line.path
    if len(uri) > MAX_URI_BYTES:
        return 414, "URI Too Long", (f"The address is {len(uri):,} characters long; this server accepts up to "
                                     f"{MAX_URI_BYTES:,}. Open the app without the long query.")
    head = sum(len(name) + len(value) + 4 for name, value in headers.get_all())
    if head > MAX_HEAD_BYTES:
        return 431, "Request Header Fields Too Large", (f"The request's headers are {head:,} bytes; this server "
                                                        f"accepts up to {MAX_HEAD_BYTES:,}.")
    query = uri.partition("?")[2]
    fields = 1 + query.count("&") if query else 0  # as urllib's parse_qs counts them
    if fields > MAX_QUERY_FIELDS:
        return 400, "Bad Request", (f"The address has {fields:,} query parameters; this server accepts up to "
                                    f"{MAX_QUERY_FIELDS:,}. Open the app without them.")
    return None


def guard_requests(application) -> None:
    """Answer the requests `problem` refuses with their status and text, for a Tornado application (the
    `HTTPServerConnectionDelegate` a Bokeh server's HTTP server passes requests to)."""
    start_request = application.start_request

    def guarded(server_connection, request_connection):
        return _Guard(start_request(server_connection, request_connection), request_connection)

    application.start_request = guarded


class _Guard(httputil.HTTPMessageDelegate):
    def __init__(self, delegate: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection) -> None:
        self.delegate, self.connection, self.refused = delegate, connection, False

    def headers_received(self, start_line, headers):
        refused = problem(start_line, headers) if isinstance(start_line, httputil.RequestStartLine) else None
        if refused is None:
            return self.delegate.headers_received(start_line, headers)
        self.refused = True
        status, reason, text = refused
        body = f"{status} {reason}: {text}\n".encode()
        self.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", status, reason),
            httputil.HTTPHeaders({"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)),
                                  "Connection": "close"}), body)
        self.connection.finish()
        return None

    def data_received(self, chunk):
        return None if self.refused else self.delegate.data_received(chunk)

    def finish(self) -> None:
        if not self.refused:
            self.delegate.finish()

    def on_connection_close(self) -> None:
        if not self.refused:
            self.delegate.on_connection_close()
