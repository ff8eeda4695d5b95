#!/usr/bin/env bash
# Rolling restart onto a new release with no question lost or refused:
#   1. migrate once (migrations only add: the running replicas keep working);
#   2. for each replica: drain it in HAProxy (no new requests), wait for its requests in
#      flight to finish, restart it, wait until it is ready, put it back;
#   3. restart the workers one by one (a job in flight is finished or requeued).
# Run as root after installing the new code into /opt/vasdom.
set -euo pipefail
SOCKET=${VASDOM_LB_SOCKET:-/run/haproxy/admin.sock}
PORTS=${VASDOM_API_PORTS:-"8001 8002 8003"}
WORKERS=${VASDOM_WORKERS:-"1 2"}

haproxy_cmd() { echo "$1" | socat stdio "unix-connect:$SOCKET"; }

systemctl restart vasdom-migrate.service
number=1
for port in $PORTS; do
    server="api/api$number"
    haproxy_cmd "set server $server state drain"
    # "show stat" is CSV: proxy, server, queued now, queued max, sessions now (scur), ...
    until [ "$(haproxy_cmd "show stat" | awk -F, -v s="api$number" '$1 == "api" && $2 == s {print $5}')" = "0" ]; do
        sleep 0.5
    done
    systemctl restart "vasdom-api@$port.service"
    until curl -fsS "http://127.0.0.1:$port/api/voice/health/ready" >/dev/null; do sleep 0.5; done
    haproxy_cmd "set server $server state ready"
    number=$((number + 1))
done
for worker in $WORKERS; do
    systemctl restart "vasdom-worker@$worker.service"
done
