# Shared by Tests/Integration/remote-hosts.sh and Benchmarks/remote/run.sh: two "hosts", each a
# network namespace joined to this one by a veth pair, running Debian's sshd on its own address
# with keys made for the run, inside private mount and pid namespaces where the master's files
# are invisible (tmpfs over the checkout, its parent, the binaries, ../shared, /work, /tmp,
# /var/tmp, /dev/shm and /root, wherever the checkout lives; a /proc of its own). A host's only files are its "install" under /srv/ph: plugin-worker and the
# plugins, copied from $bin.
#
# Source it with $bin (binaries), $repo (checkout) and a skip function set. It defines $run (a
# private directory), $launcher, hosts=(ADDRESS1 ADDRESS2), $run/hosts (a hosts file), a cleanup
# trap, stop_host N (kills the host's sshd and everything under it), restore_host N (link up, a
# new sshd), and $launcher_mux (the same
# launcher through a multiplexed ssh connection per host).
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces (running as uid $(id -u))"
for tool in ip unshare ssh ssh-keygen /usr/sbin/sshd python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (make test-deps installs it)"
done

tag=$$
run=$(mktemp -d /var/tmp/ph-remote.XXXXXX)
hosts=()
cleanup() {
  set +e
  ssh -F "$run/ssh_config_mux" -O exit "${hosts[0]:-none}" 2>/dev/null
  ssh -F "$run/ssh_config_mux" -O exit "${hosts[1]:-none}" 2>/dev/null
  for i in 1 2; do
    if [ -f "$run/sshd$i.pid" ]; then
      pkill -9 -P "$(cat "$run/sshd$i.pid")" 2>/dev/null
      kill -9 "$(cat "$run/sshd$i.pid")" 2>/dev/null
    fi
    ip netns del "ph$i-$tag" 2>/dev/null
    ip link del "vh$i-$tag" 2>/dev/null
  done
  rm -rf "$run"
}
trap cleanup EXIT

ip netns add "ph-probe-$tag" 2>/dev/null || skip "ip netns add failed: no CAP_SYS_ADMIN here"
ip netns del "ph-probe-$tag"
mkdir -p /run/sshd

# What the remote side must not see: scratch and home directories, /work, the binaries, the
# checkout and its parent (which holds ../shared), and the data it points to, wherever the
# checkout lives (under /tmp too). Never / or a system directory sshd needs (a checkout in /usr
# hides itself, not /usr). run_sshd skips a directory that no longer exists once an earlier one
# is hidden (the checkout under a hidden /tmp).
hide=(/tmp /var/tmp /dev/shm /root)
[ -d /work ] && hide+=(/work)
for path in "$bin" "$repo" "$(dirname "$repo")" "$repo/../shared"; do
  [ -d "$path" ] || continue
  path=$(realpath "$path")
  case $path in
    / | /usr | /etc | /var | /run | /bin | /sbin | /lib | /lib64 | /proc | /sys | /dev) ;;
    *) hide+=("$path") ;;
  esac
done

ssh-keygen -q -t ed25519 -N '' -f "$run/client_key"
cat >"$run/ssh_config" <<EOF
Host 10.213.*
  User root
  IdentityFile $run/client_key
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ConnectTimeout 3
EOF

start_host() {
  local i=$1 ns="ph$1-$tag" dir="$run/host$1" address="10.213.$1.2"
  ip netns add "$ns"
  ip link add "vh$i-$tag" type veth peer name eth0 netns "$ns"
  ip addr add "10.213.$i.1/24" dev "vh$i-$tag"
  ip link set "vh$i-$tag" up
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  mkdir -p "$dir/bin" "$dir/plugins" "$dir/ssh"
  cp "$bin/plugin-worker" "$dir/bin/"
  cp "$bin"/lib*.so "$dir/plugins/"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/host_key"
  cp "$run/client_key.pub" "$dir/ssh/authorized_keys"
  cat >"$dir/ssh/sshd_config" <<EOF
ListenAddress $address:22
HostKey /srv/ph/ssh/host_key
AuthorizedKeysFile /srv/ph/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
PrintMotd no
PrintLastLog no
EOF
  run_sshd "$i"
  hosts+=("$address")
}

# Starts host N's sshd in fresh private mount and pid namespaces; waits until it answers.
run_sshd() {
  local i=$1 dir="$run/host$1" address="10.213.$1.2"
  # The paths travel as arguments, not inside the script: no quoting to get wrong.
  local script='mount -t tmpfs none /srv && mkdir /srv/ph && mount --bind "$1" /srv/ph || exit 1
    shift
    for d; do
      [ -d "$d" ] || continue
      mount -t tmpfs none "$d" || exit 1
    done
    exec /usr/sbin/sshd -D -e -f /srv/ph/ssh/sshd_config'
  ip netns exec "ph$i-$tag" unshare --mount --pid --fork --mount-proc --propagation private \
    /bin/sh -c "$script" run_sshd "$dir" "${hide[@]}" 2>"$run/sshd$i.log" &
  echo $! >"$run/sshd$i.pid"
  for _ in $(seq 50); do
    ssh -F "$run/ssh_config" "$address" true 2>/dev/null && return 0
    sleep 0.2
  done
  cat "$run/sshd$i.log" >&2
  echo "sshd on $address did not come up" >&2; exit 1
}

# Brings host N back after stop_host and a cut link: link up, a new sshd (an empty blob cache).
restore_host() {
  ip link set "vh$1-$tag" up
  run_sshd "$1"
}

stop_host() {
  pkill -9 -P "$(cat "$run/sshd$1.pid")" 2>/dev/null || true
}

start_host 1
start_host 2
printf '%s 1\n%s 1\n' "${hosts[0]}" "${hosts[1]}" >"$run/hosts"
# The default: one ssh connection per host for the whole run, carrying a worker agent that forks
# every worker there; the hosts have no plugin at the master's paths, so each plugin is sent once.
# ssh is called through a wrapper (named ssh, so the host still quotes for a remote shell) that
# counts the connections in $run/launches.
mkdir -p "$run/counting"
printf '#!/bin/sh\necho "$*" >>%s/launches\nexec ssh "$@"\n' "$run" >"$run/counting/ssh"
chmod +x "$run/counting/ssh"
launcher="$run/counting/ssh -F $run/ssh_config {host} /srv/ph/bin/plugin-worker"
# One ssh connection per worker (a template naming the plugin runs the launcher once per worker).
launcher_each="ssh -F $run/ssh_config {host} /srv/ph/bin/plugin-worker --plugin /srv/ph/plugins/{plugin-file}"
# The same through one multiplexed ssh connection per host (ControlMaster): a new worker costs a
# new session, not a new connection and key exchange.
{ cat "$run/ssh_config"; printf '  ControlMaster auto\n  ControlPath %s/cm-%%h\n  ControlPersist 120\n' "$run"; } >"$run/ssh_config_mux"
launcher_mux="ssh -F $run/ssh_config_mux {host} /srv/ph/bin/plugin-worker --plugin /srv/ph/plugins/{plugin-file}"

