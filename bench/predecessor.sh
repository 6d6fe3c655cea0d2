#!/bin/sh
# What healhook's predecessor did for one finding, for the heal benchmark: one `ssh` call per
# step on the fix host's work tree (fetch and reset, run the fixer, count the diff with
# `git diff --numstat`, commit and push). Prints the number of ssh connections on stderr.
#
#   predecessor.sh SSH_PORT KEY KNOWN_HOSTS USER WORKTREE BRANCH FIXER FILE
set -eu
port=$1 key=$2 known=$3 user=$4 wt=$5 branch=$6 fixer=$7 file=$8
n=0
remote() {
	n=$((n + 1))
	ssh -p "$port" -i "$key" -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes \
		-o BatchMode=yes -o IdentitiesOnly=yes "$user@127.0.0.1" "cd '$wt' && $1"
}
remote "git fetch -q origin && git reset -q --hard origin/$branch"
remote "'$fixer' --yes-always --no-git '$file'"
lines=$(remote "git diff --numstat -- '$file'" | awk '{ s += $1 + $2 } END { print s + 0 }')
n=$((n + 1)) # the call above ran in a subshell
if [ "$lines" -eq 0 ] || [ "$lines" -gt 50 ]; then
	echo "predecessor: diff of $lines lines refused" >&2
	exit 1
fi
remote "git -c user.name=predecessor -c user.email=p@localhost commit -q -am 'fix: $file' && git push -q origin HEAD:$branch"
echo "connections=$n" >&2
