"""Loopback HTTP servers implementing the documented shapes of the APIs the connectors call.

Each fake runs a real ``ThreadingHTTPServer`` on 127.0.0.1 in a thread, records every request
(method, path, query, headers, raw body) and can be scripted to fail: any status with a body and
headers (401, 404, 409, 429 with Retry-After, 500, 503, 529…), a slow answer (client timeouts),
malformed JSON, and "apply the write, then drop the connection" (the response is lost).
"""
