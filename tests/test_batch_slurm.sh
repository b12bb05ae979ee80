#!/usr/bin/env bash
# A real Slurm run: a one-node cluster on this machine (munged, slurmctld,
# slurmd on localhost; configuration, key, state and logs in a temporary
# directory; no systemd), then the documented job script as an array of 3
# (sbatch --array=0-2 --wait) over a manifest of sample clips, masked with
# the default settings. Every output
# must be complete and pass ptim verify; everything started here is stopped.
source "$(dirname "$0")/pipeline_helpers.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for tool in munged mungekey slurmctld slurmd sbatch sinfo scontrol; do
  command -v $tool >/dev/null || PATH=$PATH:/usr/sbin
  command -v $tool >/dev/null || { echo "FAIL: $tool not installed (scripts/bootstrap.sh installs slurm-wlm and munge)" >&2; exit 1; }
done

C=$T/cluster
mkdir -p "$C/state" "$C/spool" "$C/munge"
chmod 700 "$C/munge"
PIDS=()
stop_all() {
  [ -n "${SLURM_CONF:-}" ] && [ -f "$C/slurmctld.pid" ] && scontrol shutdown >/dev/null 2>&1 || true
  for f in "$C/slurmd.pid" "$C/slurmctld.pid" "$C/munge/munged.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for f in "$C/slurmd.pid" "$C/slurmctld.pid" "$C/munge/munged.pid"; do
    [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$T"
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
USER_NAME=$(id -un)
HOST=$(hostname -s)

# munge: a fresh key, its own socket
mungekey --create --keyfile="$C/munge/munge.key" --force
chmod 400 "$C/munge/munge.key"
munged --socket="$C/munge/munge.sock" --key-file="$C/munge/munge.key" --pid-file="$C/munge/munged.pid" \
  --log-file="$C/munge/munged.log" --seed-file="$C/munge/munge.seed" --force
for _ in $(seq 300); do [ -S "$C/munge/munge.sock" ] && break; sleep 0.1; done

export SLURM_CONF=$C/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=ptimtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=$USER_NAME
SlurmdUser=$USER_NAME
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$C/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/slurmctld.log
SlurmdLogFile=$C/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=60
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=30 State=UP
CONF

slurmctld -i -f "$SLURM_CONF" || { cat "$C/slurmctld.log" >&2; exit 1; }
slurmd -f "$SLURM_CONF" -N "$HOST" || { cat "$C/slurmd.log" >&2; exit 1; }
up=0
for _ in $(seq 600); do # up to 5 min: the machine may be very busy
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1)
  case "$state" in idle*|mixed*|alloc*) up=1; break;; esac
  sleep 0.5
done
if [ $up != 1 ]; then
  echo "FAIL: the node did not come up (state '$state')" >&2
  tail -20 "$C/slurmctld.log" "$C/slurmd.log" >&2
  exit 1
fi
pass "one-node Slurm cluster up on localhost ($HOST)"

# The archive: five short clips and a picture, listed in a manifest.
mkdir -p "$T/archive/a" "$T/archive/b"
mk() { ffmpeg -v error -y -ss "$2" -i "$S/$1" -t 1 -vf scale=192:-2 -c:v libx264 -preset ultrafast -an "$3"; }
mk Megamind.avi 0 "$T/archive/a/m0.mp4"
mk Megamind.avi 2 "$T/archive/a/m2.mp4"
mk vtest.avi 0 "$T/archive/b/v0.mp4"
mk vtest.avi 4 "$T/archive/b/v4.mp4"
mk vtest.avi 8 "$T/archive/b/v8.mp4"
cp "$S/messi5.jpg" "$T/archive/a/"
printf '# the archive\n%s\n%s\n' "$T/archive/a" "$T/archive/b" > "$T/manifest.txt"
OUT=$T/masked

cd "$T"
PTIM=$PTIM_BIN sbatch --array=0-2 --wait --quiet -o "$T/task-%a.log" \
  "$ROOT/deploy/slurm/ptim-batch.sbatch"  "$T/manifest.txt" "$OUT" --verify ||
  fail "the job array failed: $(cat "$T"/task-*.log)"
n_logs=$(ls "$T"/task-*.log 2>/dev/null | wc -l)
[ "$n_logs" = 3 ] || fail "$n_logs task logs, not 3"

inputs=$(find "$T/archive" -type f | sort)
processed=$(sed -n 's/^ptim batch: \[[0-9]*\/[0-9]*\] \(.*\) -> .*/\1/p' "$T"/task-*.log | sort)
[ "$processed" = "$inputs" ] || fail "tasks processed: $processed"
for i in $inputs; do
  o=$OUT/${i#/}
  [ "$(decoded_frames "$o")" = "$(decoded_frames "$i")" ] || fail "$o incomplete"
  [ "$(jq -r .status "$o.ptim.json")" = done ] || fail "$o: record is not done"
  [ "$(jq -r .verify.result "$o.ptim.json")" = clean ] || fail "$o: not verified clean"
done
[ -z "$(find "$OUT" -name '*.partial' -o -name '*.ptim.lock' -o -name '*.leaked')" ] || fail "partial, lock or leaked files left"
expect_status 0 "$PTIM_BIN" batch --report "$OUT" --stats-json "$T/report.json" || true
[ "$(jq .done "$T/report.json")" = 6 ] || fail "--report: $(cat "$T/report.json")"
pass "sbatch --array=0-2 --wait of deploy/slurm/ptim-batch.sbatch: 3 shards, every output complete and verified clean"

# Resubmitting the array does nothing new (every task resumes).
PTIM=$PTIM_BIN sbatch --array=0-2 --wait --quiet -o "$T/again-%a.log" \
  "$ROOT/deploy/slurm/ptim-batch.sbatch"  "$T/manifest.txt" "$OUT" --verify ||
  fail "the second array failed"
skipped=$(jq -s 'map(.skipped) | add' "$OUT"/.ptim-shard-*.json)
[ "$skipped" = 6 ] || fail "resubmitted array: $skipped skipped, not 6"
pass "resubmitting the array skips every finished input"

finish
