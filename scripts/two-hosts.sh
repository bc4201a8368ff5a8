#!/usr/bin/env bash
# Two hosts on one machine, joined by a real network link, for multi-host tests and benchmarks.
#
#   scripts/two-hosts.sh up STATE [--rate 1gbit]   build them; STATE is a new directory for their files
#   scripts/two-hosts.sh run STATE -- COMMAND...   run COMMAND on host nodea (start mpirun here)
#   scripts/two-hosts.sh cut STATE                 take the link down (both ends)
#   scripts/two-hosts.sh mend STATE                bring it back up
#   scripts/two-hosts.sh pids STATE                the processes still running on either host
#   scripts/two-hosts.sh down STATE                kill what runs there, remove hosts, link and STATE
#
# Each host is a network namespace with its own hostname (a UTS namespace made per process, since
# `ip netns` keeps only the network one). A veth pair is the link between them, 10.231.0.1 (nodea)
# and 10.231.0.2 (nodeb); `--rate` shapes both ends with tc's token bucket. STATE/hostfile lists the
# hosts for `mpirun --hostfile`, STATE/agent is the rsh agent mpirun uses in place of ssh, and
# STATE/mpirun-options the options that send every message between the hosts over the link:
#
#   scripts/two-hosts.sh run STATE -- mpirun $(cat STATE/mpirun-options) -np 4 prog
#
# Needs root and `ip netns`; `up` says so and exits 3 when either is missing, for tests to skip.
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
command="$1" state="$2"
shift 2

subnet=10.231.0
hosts=(nodea nodeb)

namespace() { echo "$(cat "$state/id")-$1"; }

# Runs "$@" on host $1: inside its network namespace, under its own hostname.
on_host() {
    local host="$1"
    shift
    exec ip netns exec "$(namespace "$host")" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$host" "$@"
}

case "$command" in
up)
    rate=""
    while [ $# -gt 0 ]; do
        case "$1" in
        --rate) [ $# -ge 2 ] || usage; rate="$2"; shift 2 ;;
        *) echo "two-hosts.sh up: unknown option '$1' (expected --rate RATE, for example 1gbit)" >&2; exit 2 ;;
        esac
    done
    if [ "$(id -u)" -ne 0 ]; then echo "two-hosts.sh: needs root to make network namespaces" >&2; exit 3; fi
    if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
        echo "two-hosts.sh: 'ip netns' is not available here (Debian's iproute2)" >&2; exit 3
    fi
    if [ -e "$state" ]; then echo "two-hosts.sh up: $state already exists; give a new directory" >&2; exit 2; fi
    mkdir -p "$state"
    # A short name unique on this machine: network device names hold at most 15 characters.
    echo "ll$(printf '%05d' $((RANDOM % 100000)))" >"$state/id"
    id=$(cat "$state/id")
    # A container without the rights to make namespaces cannot run these tests: say so and skip.
    if ! error=$(ip netns add "$id-probe" 2>&1 && ip netns exec "$id-probe" unshare --uts true 2>&1); then
        ip netns delete "$id-probe" 2>/dev/null || true
        rm -rf "$state"
        echo "two-hosts.sh: cannot make network and UTS namespaces here: $error" >&2; exit 3
    fi
    ip netns delete "$id-probe"
    for index in 0 1; do
        host=${hosts[$index]}
        ip netns add "$id-$host"
        ip -n "$id-$host" link set lo up
        # `ip netns exec` mounts /etc/netns/<namespace>/hosts over /etc/hosts: each host resolves both names.
        mkdir -p "/etc/netns/$id-$host"
        printf '127.0.0.1 localhost\n%s.1 nodea\n%s.2 nodeb\n' "$subnet" "$subnet" >"/etc/netns/$id-$host/hosts"
    done
    ip link add "$id-a" type veth peer name "$id-b"
    for index in 0 1; do
        host=${hosts[$index]} device="$id-${hosts[$index]: -1}"
        ip link set "$device" netns "$id-$host"
        ip -n "$id-$host" addr add "$subnet.$((index + 1))/24" dev "$device"
        ip -n "$id-$host" link set "$device" up
        if [ -n "$rate" ]; then
            ip netns exec "$id-$host" tc qdisc add dev "$device" root tbf rate "$rate" burst 256kb latency 50ms
        fi
    done
    printf 'nodea slots=2\nnodeb slots=2\n' >"$state/hostfile"
    # mpirun calls the agent as `agent HOST COMMAND`, COMMAND being one shell command line.
    cat >"$state/agent" <<EOF
#!/bin/sh
host="\$1"; shift
case "\$host" in nodea|nodeb) ;; *) echo "agent: unknown host '\$host'" >&2; exit 255 ;; esac
exec ip netns exec "$id-\$host" unshare --uts sh -c 'hostname "\$0" && exec sh -c "\$1"' "\$host" "\$*"
EOF
    chmod +x "$state/agent"
    # TCP only, on the link only; no core binding (each host would pin its ranks to core 0);
    # yielding when idle, so polling ranks leave the two cores to the kernel's network work.
    echo "--hostfile $state/hostfile --mca plm_rsh_agent $state/agent --mca btl tcp,self" \
        "--mca btl_tcp_if_include $subnet.0/24 --mca oob_tcp_if_include $subnet.0/24" \
        "--bind-to none --mca mpi_yield_when_idle 1" >"$state/mpirun-options"
    ;;
run)
    [ "${1:-}" = "--" ] && shift
    [ $# -ge 1 ] || usage
    on_host nodea "$@"
    ;;
cut)
    id=$(cat "$state/id")
    ip -n "$id-nodea" link set "$id-a" down 2>/dev/null || true
    ip -n "$id-nodeb" link set "$id-b" down 2>/dev/null || true
    ;;
mend)
    id=$(cat "$state/id")
    ip -n "$id-nodea" link set "$id-a" up
    ip -n "$id-nodeb" link set "$id-b" up
    ;;
pids)
    [ -f "$state/id" ] || exit 0
    for host in "${hosts[@]}"; do ip netns pids "$(namespace "$host")" 2>/dev/null || true; done
    ;;
down)
    [ -f "$state/id" ] || { rm -rf "$state"; exit 0; }
    id=$(cat "$state/id")
    for host in "${hosts[@]}"; do
        pids=$(ip netns pids "$id-$host" 2>/dev/null || true)
        [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    done
    for host in "${hosts[@]}"; do
        ip netns delete "$id-$host" 2>/dev/null || true
        rm -rf "/etc/netns/$id-$host"
    done
    # Deleting a namespace deletes the veth ends inside it; this catches a half-built `up`.
    ip link delete "$id-a" 2>/dev/null || true
    rm -rf "$state"
    ;;
*) usage ;;
esac
