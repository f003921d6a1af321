# Sourced by scripts/test and scripts/local: installs moto's server (the AWS emulator: S3,
# DynamoDB, SNS, SQS, ...) into the git-ignored virtualenv .venv/ on first use (scripts/tools),
# starts it on a free loopback port, waits until it answers, and points the AWS SDK (and boto3)
# at it with the standard variables, as they would reach AWS. `emulator_stop` stops it; callers trap it.

VENV=.venv

emulator_start() {
  scripts/tools emulator
  MOTO_PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p target
  MOTO_LOG=target/moto_server.log
  # moto's own server, each request applied atomically as DynamoDB does (see the script).
  echo "==> starting moto on 127.0.0.1:$MOTO_PORT (log: $MOTO_LOG)"
  "$VENV/bin/python" scripts/moto_atomic.py 127.0.0.1 "$MOTO_PORT" >"$MOTO_LOG" 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$MOTO_PORT/moto-api/data.json', timeout=1)" 2>/dev/null; then
      break
    fi
    kill -0 "$MOTO_PID" 2>/dev/null || { echo "moto_server exited:"; cat "$MOTO_LOG"; return 1; }
    sleep 0.2
  done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
}

# A second, independent emulator: tests that spread work over emulators find it in
# CLOUDSEC_SECOND_ENDPOINT (the 200 redelivery trials: the emulator applies one request at a
# time, so one of them keeps one core busy and leaves the other idle).
emulator_start_second() {
  MOTO2_PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$VENV/bin/python" scripts/moto_atomic.py 127.0.0.1 "$MOTO2_PORT" >target/moto_server_2.log 2>&1 &
  MOTO2_PID=$!
  for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$MOTO2_PORT/moto-api/data.json', timeout=1)" 2>/dev/null; then
      break
    fi
    kill -0 "$MOTO2_PID" 2>/dev/null || { echo "the second moto_server exited:"; cat target/moto_server_2.log; return 1; }
    sleep 0.2
  done
  export CLOUDSEC_SECOND_ENDPOINT="http://127.0.0.1:$MOTO2_PORT"
}

emulator_stop() {
  for pid in "${MOTO_PID:-}" "${MOTO2_PID:-}"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
