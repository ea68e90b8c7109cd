# Sourced by the measuring scripts: builds the release binaries and starts the REST and
# gRPC lab servers on SERVER_CPU (ports REST_PORT and GRPC_PORT), waits until both
# answer, and sets bin, rest_url, grpc_url, rest_pid, grpc_pid and one user id each
# server holds (rest_id, grpc_id). The caller kills the servers (see stop_lab_servers).

echo "building release binaries..." >&2
cargo build --release --locked -q -p rest-lab -p grpc-lab -p benchmark >&2
bin=target/release
rest_url="http://127.0.0.1:$REST_PORT"
grpc_url="http://127.0.0.1:$GRPC_PORT"
taskset -c "$SERVER_CPU" "$bin/rest-server" --addr "127.0.0.1:$REST_PORT" 2>/dev/null &
rest_pid=$!
taskset -c "$SERVER_CPU" "$bin/grpc-server" --addr "127.0.0.1:$GRPC_PORT" 2>/dev/null &
grpc_pid=$!
stop_lab_servers() { kill "$rest_pid" "$grpc_pid" 2>/dev/null || true; }
for _ in $(seq 50); do
  "$bin/rest-client" --url "$rest_url" check >/dev/null 2>&1 \
    && "$bin/grpc-client" --url "$grpc_url" check >/dev/null 2>&1 && break
  sleep 0.2
done
# A user each server holds: the first demo user.
rest_id=$(curl -s "$rest_url/api/users" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
grpc_id=$(echo all | "$bin/grpc-client" --url "$grpc_url" interactive 2>/dev/null \
  | grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' | head -n 1)
