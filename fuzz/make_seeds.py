#!/usr/bin/env python3
"""Writes the hand-made seeds of every fuzz target into fuzz/corpus/<target>/.

The committed corpora also hold what fuzzing runs found (files named by
their SHA-1); this script only (re)writes the `seed-*` files. Run it from
anywhere: python3 fuzz/make_seeds.py
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, items):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for i, data in enumerate(items):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)


PATTERNS = [
    "*", "https://app.example.com", "https://*.example.com", "http://localhost:*",
    "https://*.example.com:*", "https://*.example.com:8443", "http://127.0.0.1:8080",
    "http://[::1]:3000", "http://[::1]:*", "chrome-extension://abcdefghijklmnop",
    "moz-extension://1234", "http://*.localhost:*", "https://example.com/", "https://example.com:443",
    "http://example.com:80", "https://example.com:0", "https://example.com:65536", "https://example.com:08080",
    "https://example.com:", "https://user@example.com", "https://foo*.example.com", "https://a.*.example.com",
    "https://*.*.example.com", "https://*", "https://*.com", "https://*.co.uk", "https://*.github.io",
    "https://*.127.0.0.1", "https://127.1", "https://0x7f.0.0.1", "https://[0:0:0:0:0:0:0:1]",
    "https://[::ffff:1.2.3.4]", "https://b\u00fccher.de", "https://example.com.", "ftp://example.com",
    "example.com", "//example.com", "null", "NULL", "file:///etc", "HTTPS://example.com",
    "https://xn--bcher-kva.de", "https://a_b.example.com", "https://[::1", "https://[::1]x",
    "https://*.[::1]", "https://1.2.3.4:*", "https://*.localhost", "https://a..b.com", " https://a.com",
]

ORIGINS = [
    "https://app.example.com", "https://a.example.org", "https://a.b.example.org", "https://example.org",
    "http://localhost", "http://localhost:3000", "http://localhost:80", "http://localhost:03000",
    "https://x.admin.example.net:9000", "https://x.admin.example.net:443", "https://admin.example.net",
    "http://127.0.0.1:8080", "http://127.0.0.1:08080", "https://a.example.co.uk:8443",
    "http://[::1]", "http://[::1]:5173", "http://[0::1]:5173", "chrome-extension://abcdefghijklmnop",
    "https://x.a.example.com", "https://y.b.a.example.com:9443", "https://a.example.com:1",
    "http://a.b.localhost:7", "https://x--y.example.com:1", "http://example.com:65535",
    "https://app.example.com.evil.net", "https://evilapp.example.com", "https://APP.example.com",
    "https://app.example.com/", "https://.example.org", "https://a..example.org", "null", "", "*",
    "https://a.example.org:", "https://a.example.org:0", "https://a.example.org:65536",
    "https://a.example.org\t", "https://a.example.org\xff", "http://localhost:3000:3000",
]

HEADER_LINES = [
    b"content-type", b"content-type,x-api-key", b"Content-Type, X-Api-Key", b"authorization",
    b"x-request-id,authorization,content-type", b",,,content-type,,", b"a b", b"a;b",
    b"content-type,    x", b"\tcontent-type\t", b"x-a\x00x-b", b"content-type\x00\x00authorization",
    b"," * 20, b"x" * 130, b"X-" + b"a" * 126, b"", b"*", b"x-a,*", b"caf\xe9",
]


def differential():
    out = []
    for i, o in enumerate(ORIGINS):
        for sel in range(4):
            if (i + sel) % 2 == 0:
                out.append(bytes([sel]) + o.encode("utf-8", "surrogateescape"))
    return out


def acrh():
    return [bytes([i % 6]) + line for i, line in enumerate(HEADER_LINES * 2)]


ACAO, ACAC, ACAM, ACAH, ACEH, MAXAGE, LOC, SETCOOKIE, XRID, CTYPE = range(10)


def agent():
    def seed(sel, status, lines):
        b = bytes([sel]) + struct.pack("<H", status)
        return b + b"\x00".join(bytes([n]) + v for n, v in lines)

    o = b"https://app.example"
    return [
        seed(0, 200, [(ACAO, b"*")]),
        seed(0, 200, [(ACAO, o)]),
        seed(0, 200, [(ACAO, o + b"/")]),
        seed(0, 200, [(ACAO, b"*"), (ACAO, b"*")]),
        seed(1, 204, [(ACAO, o), (ACAC, b"true"), (ACAM, b"PUT"), (ACAH, b"x-token, content-type")]),
        seed(1, 204, [(ACAO, b"*"), (ACAC, b"true"), (ACAM, b"*"), (ACAH, b"*")]),
        seed(1, 204, [(ACAO, o), (ACAC, b"TRUE"), (ACAM, b"put"), (ACAH, b"X-Token")]),
        seed(1, 200, [(ACAO, o), (ACAC, b"true"), (ACEH, b"x-request-id, *"), (XRID, b"1"), (SETCOOKIE, b"a=b")]),
        seed(2, 204, [(ACAO, b"*"), (ACAM, b"DELETE"), (ACAH, b"*")]),
        seed(2, 204, [(ACAO, b"*"), (ACAM, b"DELETE"), (ACAH, b"authorization, *")]),
        seed(3, 204, [(ACAO, b"null"), (ACAM, b"patch"), (ACAH, b"x-a")]),
        seed(4, 200, [(SETCOOKIE, b"a=b"), (XRID, b"2")]),
        seed(5, 204, [(ACAO, o), (ACAC, b"true"), (MAXAGE, b"600")]),
        seed(5, 302, [(ACAO, o), (LOC, b"https://x/")]),
        seed(6, 204, [(ACAO, b"http://localhost:3000"), (ACAM, b"PATCH,,"), (ACAH, b"x-b,authorization")]),
        seed(6, 204, [(ACAO, b" http://localhost:3000\t"), (ACAM, b"\"PATCH\""), (MAXAGE, b"-1")]),
        seed(0, 200, [(ACEH, b"*"), (XRID, b"1"), (CTYPE, b"text/plain")]),
        seed(1, 200, [(ACAO, o), (ACAC, b"true"), (ACAC, b"true")]),
    ]


def config_seeds():
    with open(os.path.join(HERE, "..", "crates", "corsair-gateway", "src", "config", "default.toml"), encoding="utf-8") as f:
        default = f.read()
    return [
        default,
        'upstream = "http://127.0.0.1:3000"\n[[policy]]\nallow_origins = ["*"]\n',
        'listen = "[::1]:8443"\nupstream = "builtin:echo"\n[admin]\nlisten = "127.0.0.1:9090"\n'
        '[limits]\nheader_read_timeout = 5\nupstream_timeout = 10\nmax_header_bytes = 8192\n'
        'max_connections = 100\nshutdown_grace = 3\n'
        '[[policy]]\nname = "api"\nhosts = ["api.example.com", "[::1]"]\npath_prefix = "/api"\n'
        'allow_origins = ["https://app.example.com", "https://*.example.org:*"]\n'
        'allow_methods = ["PUT", "patch"]\nallow_headers = ["content-type", "authorization"]\n'
        'expose_headers = ["x-request-id"]\nallow_credentials = true\nmax_age = 600\n'
        'allow_private_network = true\ndebug = true\n'
        '[[policy]]\nname = "public"\npath_prefix = "/public/"\nallow_origins = ["*"]\n'
        'allow_methods = ["*"]\nallow_headers = ["*"]\nexpose_headers = ["*"]\n',
        'listen = "nowhere"\nupstream = "ftp://x"\n[admin]\nlisten = "also"\n[limits]\nupstream_timeout = 0\n'
        '[[policy]]\nname = "a"\nhosts = ["https://api.example.com"]\npath_prefix = "api"\n'
        'allow_origins = ["*", "https://x.com/"]\nallow_credentials = true\n'
        '[[policy]]\nname = "a"\nallow_origins = ["https://*.github.io"]\nmax_age = 100000\n',
        'upstream = "http://127.0.0.1:1"\nlisten_on = 1\n',
        'upstream = "https://example.com/path?q"\n[tls]\ncert = "c.pem"\nkey = "k.pem"\n[[policy]]\nallow_origins=[]\n',
        'upstream = "builtin:echo"\n[[policy]]\nname = " "\nallow_origins = ["http://example.com"]\n'
        'allow_insecure_origins = true\nmax_age = -1\n',
        '[[policy]]\n[[policy]]\n[[policy]]\n',
        'upstream = "http://x"\n[limits]\nmax_header_bytes = 18446744073709551615\nmax_connections = 0\n',
    ]


def evaluate_seeds():
    rng = random.Random(7)
    out = []
    for n in (8, 16, 32, 64, 128, 256, 512):
        for _ in range(4):
            out.append(bytes(rng.randrange(256) for _ in range(n)))
    return out


def upstream_response_seeds():
    # (step: u8, head_request: bool, bytes): one byte each, then the input.
    bodies = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=v\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nbody until close",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nConnection: close\r\n\r\nabcHTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        b"a\r\n0123456789\r\nA \r\n0123456789\r\n0\r\n\r\n",
        b"ffffffffffffffff\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ]
    out = []
    for i, b in enumerate(bodies):
        for step in (1, 3, 7, 255):
            out.append(bytes([step, i % 2]) + b)
    return out


def h1_differential_seeds():
    # A flags byte ('0'-'3': bit 0 = the first request is HEAD, bit 1 = the
    # second is), then the upstream's bytes; what follows |LATE| arrives
    # only once the client waits (see fuzz_targets/h1_differential.rs).
    ok = b"HTTP/1.1 200 OK\r\n"
    return [
        b"0" + ok + b"content-length: 5\r\n\r\nhello",
        b"0" + ok + b"transfer-encoding: chunked\r\n\r\n5;e=v\r\nhello\r\n0\r\nx-t: 1\r\nx-u: 2\r\n\r\n",
        b"0" + ok + b"transfer-encoding: chunked\r\n\r\n5\r\nhel|LATE|lo\r\n0\r\n\r\n",
        b"0" + ok + b"transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\n\n",
        b"0" + ok + b"transfer-encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"0" + ok + b"transfer-encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"1" + ok + b"content-length: 5\r\n\r\n|LATE|hello",
        b"1" + ok + b"content-length: 5\r\n\r\nhello",
        b"1" + ok + b"content-length: 0\r\n\r\n",
        b"0HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n|LATE|hello",
        b"0HTTP/1.1 204 No Content\r\n\r\n",
        b"0HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n|LATE|5\r\nhello\r\n0\r\n\r\n",
        b"0" + ok + b"\r\nuntil the end|LATE|and more",
        b"0HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok",
        b"0" + ok + b"connection: close\r\ncontent-length: 2\r\n\r\nok",
        b"0HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n"
        + ok + b"content-length: 2\r\n\r\nok",
        b"0" + ok + b"content-length: 2\r\n\r\nok" + ok + b"content-length: 3\r\n\r\ntwo",
        b"2" + ok + b"content-length: 2\r\n\r\nok|LATE|" + ok + b"content-length: 9\r\n\r\n",
        b"0" + ok + b"content-length: 10\r\n\r\nhello|LATE|world",
        b"0" + ok + b"content-length: 3, 3\r\ncontent-length: 3\r\n\r\nabc",
        b"0" + ok + b"content-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"0HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"0HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n",
        b"0" + ok + b"transfer-encoding: chunked\r\n\r\n\r\n",
        b"3" + ok + b"transfer-encoding: chunked\r\n\r\n|LATE|" + ok + b"content-length: 4\r\n\r\n",
        # A late "answer" after a HEAD whose head advertises a body: hyper
        # reuses the connection and hands it to the second request.
        b"1" + ok + b"content-length: 6\r\n\r\n|LATE|" + ok + b"content-length: 6\r\n\r\nmixed!",
        # Where corsair's reader used to disagree with hyper's on the end of
        # the body (both refused now): obs-text in Transfer-Encoding, and a
        # trailer line ended by a bare LF.
        b"0" + ok + b"transfer-encoding: \x80, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"0" + ok + b"transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\n\r\n\r\n",
        # Strictness hyper does not share: long lengths and chunk sizes.
        b"0" + ok + b"content-length: 00000000000000000002\r\n\r\nok",
        b"0" + ok + b"transfer-encoding: chunked\r\n\r\n00000000000000002\r\nok\r\n0\r\n\r\n",
        b"0" + ok + b"transfer-encoding: chunked\r\n\r\n2;x=\"\xe9\"\r\nok\r\n0\r\n\r\n",
    ]


write("upstream_response", upstream_response_seeds())
write("h1_differential", h1_differential_seeds())

write("origin_pattern", PATTERNS)
write("origin_differential", differential())
write("acrh", acrh())
write("agent_headers", agent())
write("config", config_seeds())
write("evaluate", evaluate_seeds())
