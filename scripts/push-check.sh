#!/usr/bin/env bash
# The WebSocket lab's Server-Sent Events and long polling checked by a client this
# project did not write: curl publishes, polls (at once, waiting, timing out empty) and
# reads the SSE stream (resumed by Last-Event-ID, in order, with ids), and registers
# webhooks (a loopback one accepted, one aimed at another host refused), against
# a ws-server started here.
#
#   scripts/push-check.sh                 # the debug build
#   PROFILE=release scripts/push-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-debug}
PORT=${WS_PORT:-18766}
base="http://127.0.0.1:$PORT"
flag=$([ "$PROFILE" = release ] && echo --release || true)
cargo build $flag --locked -q -p ws-lab --bin ws-server
"target/$PROFILE/ws-server" --addr "127.0.0.1:$PORT" --poll-timeout 1s 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done

fail() { echo "push-check: $*" >&2; exit 1; }
publish() {
  curl -sf -X POST -H 'content-type: application/json' \
    -d "{\"name\":\"bob\",\"text\":\"$1\"}" "$base/poll/chat" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

first=$(publish one); second=$(publish two); third=$(publish three)
# At once: what the room holds after the first.
answer=$(curl -sf "$base/poll/chat?after=$first")
python3 - "$answer" "$second" "$third" <<'PY' || fail "poll after=$first: $answer"
import json, sys
a = json.loads(sys.argv[1])
assert [e["id"] for e in a["events"]] == [int(sys.argv[2]), int(sys.argv[3])], a
assert [e["event"]["text"] for e in a["events"]] == ["two", "three"], a
assert a["next"] == int(sys.argv[3]) and a["skipped"] == 0, a
PY
# Nothing new: empty after the poll timeout (1 s here).
empty=$(curl -sf --max-time 5 "$base/poll/chat?after=$third")
[ "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["events"]))' "$empty")" = 0 ] \
  || fail "an empty poll answered $empty"
# Waiting, answered early by the next publish.
curl -sf --max-time 5 "$base/poll/chat?after=$third" >"${TMPDIR:-/tmp}/push-poll.$$" &
poller=$!
sleep 0.3
fourth=$(publish four)
wait "$poller"
grep -q "\"id\":$fourth" "${TMPDIR:-/tmp}/push-poll.$$" || fail "the waiting poll did not get event $fourth"
rm -f "${TMPDIR:-/tmp}/push-poll.$$"
# SSE resumed after the first: two, three, four in order, each with its id.
stream=$(curl -sN --max-time 2 -H "Last-Event-ID: $first" "$base/sse/chat?name=ann" || true)
ids=$(echo "$stream" | awk '/^id: / {print $2}' | tr '\n' ' ')
[ "$ids" = "$second $third $fourth " ] || fail "SSE resumed with ids '$ids': $stream"
echo "$stream" | grep -q '"text":"four"' || fail "SSE lacked the fourth message"
# Errors in words.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/sse/chat")" = 400 ] || fail "a nameless SSE was not 400"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/poll/chat?after=soon")" = 400 ] || fail "after=soon was not 400"
hook_status() { curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -d "{\"url\":\"$1\"}" "$base/hooks"; }
[ "$(hook_status http://169.254.169.254/latest)" = 403 ] || fail "a hook to another host was not refused"
[ "$(hook_status http://127.0.0.1:9/hook)" = 201 ] || fail "a loopback hook was not registered"
echo "push-check: SSE, long polling and hook registration agree with curl (events $first-$fourth)"
