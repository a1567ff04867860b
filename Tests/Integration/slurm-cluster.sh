# Shared by Tests/Integration/slurm.sh and Benchmarks/slurm/run.sh: a real Slurm of two nodes on
# this machine. Debian's slurm-wlm and munge, started as root without systemd: a private munged
# (own key and socket), slurmctld, and two nodes, each a slurmd in a network namespace of its own
# joined to this one by a veth pair (the workers of a node run in its namespace). Ports,
# slurm.conf, state, spool directories and logs are private to the run (SLURM_CONF names the
# file for the client commands), so a Slurm the machine may already run is not touched.
#
# Source it with skip and fail functions set. It defines $run (a private directory, its logs in
# $run/log), $SLURM_CONF (exported), nodes=(ph-node-1 ph-node-2), $net (the nodes' /24 prefix),
# cluster_pids (every process of this cluster, found by the SLURM_CONF in its environment),
# launches (job steps launched so far on each node, "N1,N2", from the slurmd logs), and
# stop_cluster (cancels every job, stops the daemons, kills what is left of the cluster, removes
# the namespaces and $run), set as the EXIT trap.
[ "$(id -u)" = 0 ] || skip "needs root to run slurmd and make network namespaces (running as uid $(id -u))"
for tool in munged munge unmunge slurmctld slurmd salloc srun sinfo squeue scancel scontrol ip nsenter python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (make test-deps installs slurm-wlm, munge, iproute2 and python3)"
done

tag=$$
run=$(mktemp -d /tmp/ph-slurm.XXXXXX)
chmod 755 "$run"
export SLURM_CONF="$run/slurm.conf"
# Every process of this cluster carries this in its environment: the daemons, the job steps'
# slurmstepd, srun, and the workers (srun exports the caller's environment to its tasks).
marker="SLURM_CONF=$SLURM_CONF"
nodes=(ph-node-1 ph-node-2)

# Pids of the processes whose environment holds $marker, other than this shell.
cluster_pids() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" != $$ ] && [ "$p" != "$BASHPID" ] || continue
    grep -qzxF "$marker" "/proc/$p/environ" 2>/dev/null && echo "$p"
  done
  return 0
}

# Stops the cluster: cancels every job, stops the daemons by their pid files (SIGTERM, then
# SIGKILL after 10 s), kills whatever of the cluster is left, removes the namespaces (and so
# their veth pairs) and the directory.
stop_cluster() {
  set +e
  [ -f "$run/slurmctld.pid" ] && scancel --quiet --user=root 2>/dev/null
  local file pid _
  for file in "$run"/slurmd-*.pid "$run/slurmctld.pid" "$run/munge/munged.pid"; do
    [ -f "$file" ] || continue
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  for pid in $(cluster_pids); do kill -9 "$pid" 2>/dev/null; done
  for i in 1 2; do ip netns del "ph-slurm$i-$tag" 2>/dev/null; done
  rm -rf "$run"
}
trap stop_cluster EXIT

# Job steps launched so far on each node, "N1,N2", from the slurmd logs.
launches() {
  local node
  for node in "${nodes[@]}"; do grep -c "launch task StepId=" "$run/log/slurmd-$node.log" || true; done | paste -sd,
}

ip netns add "ph-slurm-probe-$tag" 2>/dev/null || skip "ip netns add failed: no CAP_SYS_ADMIN here"
ip netns del "ph-slurm-probe-$tag"

# A free 10.214.N.0/24 prefix (another run of this test may hold one): node i is 10.214.N.(4i+2)
# in namespace ph-slurmI-TAG, and this side of its veth pair 10.214.N.(4i+1), a /30 each.
net=
for n in $(seq 1 250); do
  ip -4 -o addr show | grep -qF " 10.214.$n." || { net=10.214.$n; break; }
done
[ -n "$net" ] || fail "no free 10.214.N.0/24 prefix"
for i in 1 2; do
  ns="ph-slurm$i-$tag"
  ip netns add "$ns"
  ip link add "vs$i-$tag" type veth peer name eth0 netns "$ns"
  ip addr add "$net.$((4 * i + 1))/30" dev "vs$i-$tag"
  ip link set "vs$i-$tag" up
  ip -n "$ns" addr add "$net.$((4 * i + 2))/30" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" route add default via "$net.$((4 * i + 1))"
done

# Two free TCP ports, for slurmctld (here, on all addresses) and slurmd (in each namespace).
read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("0.0.0.0", 0))
print(*[s.getsockname()[1] for s in socks])')

# munged as root (--force) with its own key, socket, pid, seed and log; Slurm finds the socket
# through AuthInfo.
mkdir -m 755 "$run/munge" "$run/spool" "$run/spool/${nodes[0]}" "$run/spool/${nodes[1]}"
mkdir -m 700 "$run/state" "$run/log" "$run/blobs"
head -c 1024 /dev/urandom >"$run/munge/key"
chmod 400 "$run/munge/key"
munged --force --socket="$run/munge/socket" --key-file="$run/munge/key" --pid-file="$run/munge/munged.pid" \
  --seed-file="$run/munge/seed" --log-file="$run/log/munged.log" || fail "munged did not start"
munge --socket="$run/munge/socket" -n | unmunge --socket="$run/munge/socket" >/dev/null || fail "munge does not work"

# The controller listens here, reached at this side of node 1's veth pair (an address of this
# namespace, routed to from both nodes). Memory is tracked (CR_Core_Memory, as on most
# clusters): a step that asks for none gets all of the job's memory on its node, and --overlap
# lets such steps share it.
cpus=$(nproc)
cat >"$SLURM_CONF" <<EOF
ClusterName=ph$tag
SlurmctldHost=$(hostname -s)($net.5)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$run/munge/socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
ReturnToService=2
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd-%n.pid
SlurmdSpoolDir=$run/spool/%n
StateSaveLocation=$run/state
SlurmctldLogFile=$run/log/slurmctld.log
SlurmdLogFile=$run/log/slurmd-%n.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=${nodes[0]} NodeHostname=$(hostname -s) NodeAddr=$net.6 CPUs=$cpus RealMemory=$((cpus * 512)) State=UNKNOWN
NodeName=${nodes[1]} NodeHostname=$(hostname -s) NodeAddr=$net.10 CPUs=$cpus RealMemory=$((cpus * 512)) State=UNKNOWN
PartitionName=ph Nodes=${nodes[0]},${nodes[1]} Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
# nsenter enters the node's network namespace only (ip netns exec would also remount /sys,
# hiding the cgroup file system slurmd looks at).
for i in 1 2; do
  nsenter --net="/run/netns/ph-slurm$i-$tag" slurmd -f "$SLURM_CONF" -N "${nodes[$((i - 1))]}" \
    || fail "slurmd of ${nodes[$((i - 1))]} did not start"
done
states=
for _ in $(seq 300); do
  states=$(sinfo -h -N -o '%N %T' 2>/dev/null | sort | tr '\n' ' ' || true)
  [ "$states" = "${nodes[0]} idle ${nodes[1]} idle " ] && break
  sleep 0.1
done
[ "$states" = "${nodes[0]} idle ${nodes[1]} idle " ] || fail "nodes not idle after 30 s: ${states:-no answer}"
echo "slurm: ok: two-node cluster up ($(slurmctld -V), $cpus CPUs per node, nodes in network namespaces)"
