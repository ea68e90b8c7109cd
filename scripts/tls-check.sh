#!/usr/bin/env bash
# Every lab over TLS checked by clients this project did not write: curl (REST over
# HTTP/2 and HTTP/1.1 by ALPN, the bearer token, mutual TLS), openssl s_client (the
# socket lab's JSON lines), Python's grpcio with root certificates (gRPC, the token)
# and Python's websockets with an SSL context (wss echo). Each server makes its own
# certificate (--tls-self-signed) and writes its CA where the script points it.
#
#   scripts/tls-check.sh                  # release binaries
#   PROFILE=debug scripts/tls-check.sh    # debug ones (CI, after the tests built them)
#
# Ports SOCKET_PORT, REST_PORT, GRPC_PORT, WS_PORT, MTLS_PORT (18443-18447 by default).
# Makes a venv in target/python-venv with grpcio and websockets (from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

SOCKET_PORT=${SOCKET_PORT:-18443}
REST_PORT=${REST_PORT:-18444}
GRPC_PORT=${GRPC_PORT:-18445}
WS_PORT=${WS_PORT:-18446}
MTLS_PORT=${MTLS_PORT:-18447}
TOKEN=tls-check-token
PROFILE=${PROFILE:-release}

for tool in curl openssl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl openssl >/dev/null
    else
      echo "tls-check needs $tool" >&2; exit 1
    fi
  fi
done

venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import grpc, websockets' 2>/dev/null \
  || "$venv/bin/pip" install -q grpcio 'websockets>=14' >&2

if [ "$PROFILE" = release ]; then
  cargo build --release --locked -q -p socket-lab -p rest-lab -p grpc-lab -p ws-lab
  bin=target/release
else
  cargo build --locked -q -p socket-lab -p rest-lab -p grpc-lab -p ws-lab
  bin=target/debug
fi
dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

"$bin/socket-server" --addr "127.0.0.1:$SOCKET_PORT" --tls-self-signed \
  --tls-ca-out "$dir/socket-ca.pem" 2>"$dir/socket.log" & pids+=($!)
REST_AUTH_TOKEN=$TOKEN "$bin/rest-server" --addr "127.0.0.1:$REST_PORT" --tls-self-signed \
  --tls-ca-out "$dir/rest-ca.pem" 2>"$dir/rest.log" & pids+=($!)
GRPC_AUTH_TOKEN=$TOKEN "$bin/grpc-server" --addr "127.0.0.1:$GRPC_PORT" --tls-self-signed \
  --tls-ca-out "$dir/grpc-ca.pem" 2>"$dir/grpc.log" & pids+=($!)
"$bin/ws-server" --addr "127.0.0.1:$WS_PORT" --tls-self-signed \
  --tls-ca-out "$dir/ws-ca.pem" 2>"$dir/ws.log" & pids+=($!)
"$bin/rest-server" --addr "127.0.0.1:$MTLS_PORT" --tls-self-signed --tls-require-client-cert \
  --tls-ca-out "$dir/mtls-ca.pem" 2>"$dir/mtls.log" & pids+=($!)
for _ in $(seq 100); do
  [ -s "$dir/socket-ca.pem" ] && [ -s "$dir/rest-ca.pem" ] && [ -s "$dir/grpc-ca.pem" ] \
    && [ -s "$dir/ws-ca.pem" ] && [ -s "$dir/mtls-client-key.pem" ] && break
  sleep 0.1
done
sleep 0.3

failed=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if out=$("$@" 2>&1); then echo "ok    $name"; else echo "FAIL  $name: $out"; failed=1; fi
}
expect() { # name, wanted text, then a command whose output must hold it
  local name=$1 wanted=$2; shift 2
  local out; out=$("$@" 2>&1 || true)
  if grep -qF -- "$wanted" <<<"$out"; then echo "ok    $name"; else
    echo "FAIL  $name: wanted '$wanted', got: $out"; failed=1; fi
}

rest=https://127.0.0.1:$REST_PORT
expect "curl: REST over HTTP/2 by ALPN" "200 2" \
  curl -s --cacert "$dir/rest-ca.pem" -o /dev/null -w '%{http_code} %{http_version}' "$rest/api/users"
expect "curl: REST over HTTP/1.1 by ALPN" "200 1.1" \
  curl -s --http1.1 --cacert "$dir/rest-ca.pem" -o /dev/null -w '%{http_code} %{http_version}' "$rest/api/users"
if curl -s -o /dev/null "$rest/health" 2>/dev/null; then
  echo "FAIL  curl trusted the self-signed certificate without --cacert"; failed=1
else echo "ok    curl: the self-signed certificate is refused without --cacert"; fi
expect "curl: a write without the token is 401, saying what to send" 'www-authenticate: Bearer realm="commlab"' \
  curl -s --cacert "$dir/rest-ca.pem" -o /dev/null -D - \
  -X POST -H 'content-type: application/json' -d '{"name":"Tls","email":"tls@example.com"}' \
  "$rest/api/users"
expect "curl: a write with the token is 201" "201" \
  curl -s --cacert "$dir/rest-ca.pem" -o /dev/null -w '%{http_code}' -H "authorization: Bearer $TOKEN" \
  -X POST -H 'content-type: application/json' -d '{"name":"Tls","email":"tls@example.com"}' \
  "$rest/api/users"
mtls=https://127.0.0.1:$MTLS_PORT
if curl -s -o /dev/null --cacert "$dir/mtls-ca.pem" "$mtls/health" 2>/dev/null; then
  echo "FAIL  curl: mutual TLS served a client without a certificate"; failed=1
else echo "ok    curl: mutual TLS refuses a client without a certificate"; fi
expect "curl: mutual TLS serves the client certificate" "200" \
  curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/mtls-ca.pem" \
  --cert "$dir/mtls-client.pem" --key "$dir/mtls-client-key.pem" "$mtls/health"
expect "openssl s_client: the socket lab's JSON lines" '"message":"HELLO TLS"' \
  bash -c "printf '{\"message\":\"hello tls\"}\n' | timeout 5 openssl s_client -quiet \
    -connect 127.0.0.1:$SOCKET_PORT -CAfile $dir/socket-ca.pem -verify_return_error 2>/dev/null"
check "grpcio and websockets (Python)" "$venv/bin/python" scripts/tls-check.py \
  "127.0.0.1:$GRPC_PORT" "$dir/grpc-ca.pem" "wss://127.0.0.1:$WS_PORT" "$dir/ws-ca.pem" "$TOKEN"
check "rest-client self-test with --ca and --token" \
  "$bin/rest-client" --url "$rest" --ca "$dir/rest-ca.pem" --token "$TOKEN"
check "grpc-client self-test with --ca and --token" \
  "$bin/grpc-client" --url "https://127.0.0.1:$GRPC_PORT" --ca "$dir/grpc-ca.pem" --token "$TOKEN"
check "socket-client self-test with --ca" \
  "$bin/socket-client" --url "tls://127.0.0.1:$SOCKET_PORT" --ca "$dir/socket-ca.pem"
check "ws-client self-test with --ca" \
  "$bin/ws-client" --url "wss://127.0.0.1:$WS_PORT" --ca "$dir/ws-ca.pem"
exit "$failed"
