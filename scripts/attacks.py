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


ATTACKS = {
    "grpc-zero-window": attack_grpc_zero_window,
    "grpc-list-zero-window": attack_grpc_list_zero_window,
    "rest-zero-window": attack_rest_zero_window,
    "rest-silent": attack_rest_silent,
    "grpc-silent": attack_grpc_silent,
    "socket-never-reads": attack_socket_never_reads,
    "chat-never-reads": attack_chat_never_reads,
    "create-flood": attack_create_flood,
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
