"""The original lab's client libraries against the commlab servers: requests (REST)
and grpcio (gRPC), one client, as the benchmark measures them. Prints JSON.

Usage: python-clients.py REST_URL GRPC_ADDR REST_ID GRPC_ID STUB_DIR REQUESTS WARMUP
"""
import json
import statistics
import sys
import time

rest_url, grpc_addr, rest_id, grpc_id, stub_dir = sys.argv[1:6]
requests_n, warmup = int(sys.argv[6]), int(sys.argv[7])
sys.path.insert(0, stub_dir)

import grpc  # noqa: E402
import requests  # noqa: E402
import user_service_pb2  # noqa: E402
import user_service_pb2_grpc  # noqa: E402


def measure(call):
    """p50 in us and client CPU per request in us, as the benchmark reports them."""
    for _ in range(warmup):
        call()
    samples = []
    cpu_before = time.thread_time()
    for _ in range(requests_n):
        sent = time.perf_counter()
        call()
        samples.append((time.perf_counter() - sent) * 1e6)
    cpu = (time.thread_time() - cpu_before) * 1e6 / requests_n
    return {"p50_us": statistics.median(samples), "client_cpu_us": cpu}


session = requests.Session()
url = f"{rest_url}/api/users/{rest_id}"


def rest_get():
    reply = session.get(url, timeout=5)
    reply.raise_for_status()
    assert reply.json()["data"]["id"] == rest_id


channel = grpc.insecure_channel(grpc_addr)
stub = user_service_pb2_grpc.UserServiceStub(channel)


def grpc_get():
    reply = stub.GetUser(user_service_pb2.UserRequest(id=grpc_id), timeout=5)
    assert reply.success and reply.user.id == grpc_id


print(json.dumps({"rest": measure(rest_get), "grpc": measure(grpc_get)}))
