#!/usr/bin/env bash
# slurm-cluster.sh: a one-node Slurm cluster in a directory, for trying
# `curvprobe sweep slurm` scripts on a workstation (and for the test that
# does, cmd/curvprobe/slurm_test.go).
#
#   scripts/slurm-cluster.sh start DIR   start munged, slurmctld and slurmd;
#                                        wait until the node is idle; print
#                                        the environment to use (SLURM_CONF)
#   scripts/slurm-cluster.sh stop DIR    cancel the cluster's jobs and stop
#                                        the daemons that start started
#   scripts/slurm-cluster.sh env DIR     print the environment again
#
# Needs: root (slurmd runs jobs as their user), Debian's slurm-wlm and munge
# (apt-get install slurm-wlm munge), no systemd and no cgroups. Everything
# lives under DIR: the munge key and socket, slurm.conf, the controller's
# state, slurmd's spool, pid files and logs (DIR/log/*.log); nothing in /etc
# or /run is used, so several clusters (on other ports) can run at once.
#
#   SLURM_CTLD_PORT, SLURMD_PORT   the daemons' TCP ports (6817 and 6818)
#   SLURM_START_TIMEOUT            seconds to wait for an idle node (60)
#
# start on a running cluster prints its environment and changes nothing; stop
# on a stopped one says so. Both exit non-zero with a message on failure.
set -euo pipefail

die() { echo "slurm-cluster: $*" >&2; exit 1; }

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
case $cmd in start | stop | env) ;; *) usage ;; esac
[ -n "$2" ] || die "DIR is empty"
if [ "$cmd" = start ]; then
	mkdir -p "$2" 2>/dev/null || die "cannot create directory $2"
fi
[ -d "$2" ] || die "$2: no such directory (no cluster there)"
DIR=$(cd "$2" && pwd)
CONF=$DIR/etc/slurm.conf
RUN=$DIR/run
LOG=$DIR/log
MUNGE=$DIR/munge
CTLD_PORT=${SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
TIMEOUT=${SLURM_START_TIMEOUT:-60}

# Debian puts the daemons in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

# alive PIDFILE: the pid in PIDFILE, when that process is running.
alive() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

print_env() {
	echo "export SLURM_CONF=$CONF"
	echo "# logs: $LOG/slurmctld.log $LOG/slurmd.log $LOG/munged.log"
	echo "# stop: $0 stop $DIR"
}

tail_logs() {
	local f
	for f in "$LOG"/munged.log "$LOG"/slurmctld.log "$LOG"/slurmd.log; do
		[ -f "$f" ] || continue
		echo "--- last lines of $f:" >&2
		tail -n 15 "$f" >&2
	done
}

# fail MESSAGE: a failed start: show the logs, stop what started, and exit.
fail() {
	tail_logs
	stop quiet
	die "$1"
}

start() {
	local missing="" b d
	for b in munged slurmctld slurmd sinfo; do
		command -v "$b" >/dev/null || missing="$missing $b"
	done
	[ -z "$missing" ] || die "not installed:$missing (Debian: apt-get install slurm-wlm munge)"
	[ "$(id -u)" = 0 ] || die "start must run as root (slurmd starts jobs as their users)"
	if alive "$RUN/slurmctld.pid" >/dev/null && alive "$RUN/slurmd.pid" >/dev/null && alive "$RUN/munged.pid" >/dev/null; then
		echo "# the cluster in $DIR is already running" >&2
		print_env
		return
	fi
	# A half-started cluster (one daemon died): stop what is left, start anew.
	stop quiet

	mkdir -p "$DIR/etc" "$RUN" "$LOG" "$MUNGE" "$DIR/state" "$DIR/spool"
	chmod 0700 "$MUNGE"
	# munged checks that no one else can write the key, its directory or
	# the socket's: DIR may sit in a world-writable /tmp, hence --force.
	if [ ! -s "$MUNGE/munge.key" ]; then
		dd if=/dev/urandom of="$MUNGE/munge.key" bs=1024 count=1 status=none
	fi
	chmod 0400 "$MUNGE/munge.key"
	munged --force --key-file="$MUNGE/munge.key" --socket="$MUNGE/munge.socket" \
		--pid-file="$RUN/munged.pid" --log-file="$LOG/munged.log" --seed-file="$MUNGE/munged.seed" ||
		fail "munged did not start"

	local node host user
	node=$(slurmd -C | sed -n '/^NodeName=/p' | head -1)
	[ -n "$node" ] || die "slurmd -C printed no NodeName line"
	host=$(hostname -s)
	user=$(id -un)
	cat >"$CONF" <<EOF
# Written by $0 start $DIR
ClusterName=curvprobe
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$MUNGE/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
# No systemd, no cgroups: processes tracked through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# No slurmdbd: sacct does not work; squeue -t all and scontrol show job do.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
# Schedule a job as soon as it is submitted or another ends (the default
# batch_sched_delay holds batch jobs up to 3 s, for high throughput).
SchedulerParameters=batch_sched_delay=0
# Jobs and tasks start and end quickly, and finished ones stay listed.
KillWait=10
MinJobAge=600
PlugStackConfig=$DIR/etc/plugstack.conf
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
	: >"$DIR/etc/plugstack.conf"

	# -c: forget any earlier state; -i: ignore errors reading it.
	slurmctld -c -i -f "$CONF" || fail "slurmctld did not start"
	slurmd -f "$CONF" || fail "slurmd did not start"

	local state="" i
	for ((i = 0; i < TIMEOUT * 10; i++)); do
		state=$(SLURM_CONF=$CONF sinfo -h -N -o %T 2>/dev/null | head -1 || true)
		case $state in idle*) break ;; esac
		for d in slurmctld slurmd munged; do
			alive "$RUN/$d.pid" >/dev/null || fail "$d exited (see $LOG/$d.log)"
		done
		sleep 0.1
	done
	case $state in
	idle*) ;;
	*) fail "the node is not idle after ${TIMEOUT}s (state '${state:-none}'); see $LOG" ;;
	esac
	echo "# one-node Slurm cluster in $DIR: node $host idle, $(cut -d' ' -f2 <<<"$node" | cut -d= -f2) CPUs" >&2
	print_env
}

# stop [quiet]: cancel jobs, stop slurmd, slurmctld and munged by their pid
# files, and wait until each has exited.
stop() {
	local any="" d pid i
	if [ -f "$CONF" ] && alive "$RUN/slurmctld.pid" >/dev/null; then
		# Jobs' processes (slurmstepd and their tasks) outlive slurmd:
		# cancel them while the controller can.
		if [ -n "$(SLURM_CONF=$CONF squeue -h -o %A 2>/dev/null)" ]; then
			SLURM_CONF=$CONF scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
			for ((i = 0; i < 150; i++)); do
				[ -z "$(SLURM_CONF=$CONF squeue -h -o %A 2>/dev/null)" ] && break
				sleep 0.1
			done
		fi
	fi
	# SIGTERM to all three at once, then wait: each takes a second or two
	# to exit (their loops tick once a second), so in turn took 5 s and
	# more. No job is left to need munged's credentials at shutdown.
	local pids=() names=()
	for d in slurmd slurmctld munged; do
		pid=$(alive "$RUN/$d.pid") || { rm -f "$RUN/$d.pid"; continue; }
		any=1
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
		names+=("$d")
	done
	for ((i = 0; i < 100; i++)); do
		local running=""
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && running=1
		done
		[ -z "$running" ] && break
		sleep 0.1
	done
	for i in "${!pids[@]}"; do
		pid=${pids[$i]}
		if kill -0 "$pid" 2>/dev/null; then
			echo "slurm-cluster: ${names[$i]} (pid $pid) ignored SIGTERM for 10s; sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$RUN/${names[$i]}.pid"
	done
	if [ "${1:-}" != quiet ]; then
		if [ -n "$any" ]; then
			echo "# stopped the cluster in $DIR" >&2
		else
			echo "# no daemon of the cluster in $DIR was running" >&2
		fi
	fi
}

case $cmd in
start) start ;;
stop) stop ;;
env)
	[ -f "$CONF" ] || die "no cluster in $DIR (no $CONF)"
	print_env
	;;
esac
