"""gRPC and WebSocket labs over TLS, from Python's grpcio and websockets (called by
scripts/tls-check.sh). No generated stubs: the few messages are encoded by hand.

Usage: tls-check.py GRPC_ADDR GRPC_CA WSS_URL WS_CA TOKEN
"""
import asyncio
import json
import ssl
import sys

import grpc
import websockets

grpc_addr, grpc_ca, wss_url, ws_ca, token = sys.argv[1:6]


def field(number: int, text: str) -> bytes:
    """A protobuf string field (length under 128)."""
    data = text.encode()
    return bytes([number << 3 | 2, len(data)]) + data


def call(channel, method, request, metadata=()):
    unary = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    return unary(request, metadata=metadata, timeout=5)


credentials = grpc.ssl_channel_credentials(root_certificates=open(grpc_ca, "rb").read())
with grpc.secure_channel(grpc_addr, credentials) as channel:
    health = call(channel, "/grpc.health.v1.Health/Check", field(1, "users.v1.UserService"))
    assert health == b"\x08\x01", f"health answered {health!r}, not SERVING"
    create = "/users.v1.UserService/CreateUser"
    request = field(1, "Py Tls") + field(2, "py-tls@example.com")
    try:
        call(channel, create, request)
        raise SystemExit("a CreateUser without the token was served")
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error
    reply = call(channel, create, request, metadata=(("authorization", f"Bearer {token}"),))
    assert b"py-tls@example.com" in reply, reply
print("grpcio: health SERVING over TLS, CreateUser UNAUTHENTICATED without the token, OK with it")


async def ws_echo():
    context = ssl.create_default_context(cafile=ws_ca)
    async with websockets.connect(f"{wss_url}/ws/echo", ssl=context) as socket:
        await socket.send(json.dumps({"message": "hello wss"}))
        reply = json.loads(await socket.recv())
        assert reply == {"status": "ok", "message": "HELLO WSS"} or reply.get("message") == "HELLO WSS", reply
    print("websockets: echo over wss")


asyncio.run(ws_echo())
