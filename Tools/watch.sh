#!/bin/sh
# Runs a command, then again whenever a file under FOLDER changes, is added or is removed: polls once
# a second (portable, no inotify or any other dependency). A failing run does not stop the watch;
# Ctrl-C does. `make watch` uses it to rerun `make run` when Sources/ changes.
# usage: Tools/watch.sh FOLDER COMMAND [ARGUMENT…]
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 FOLDER COMMAND [ARGUMENT…]" >&2
    exit 2
fi
folder=$1
shift
[ -d "$folder" ] || { echo "watch: $folder: no such folder" >&2; exit 2; }

stamp=$(mktemp)                 # its modification time: when the last run started
trap 'rm -f "$stamp"' EXIT
trap 'rm -f "$stamp"; exit 130' INT TERM

# The file names, to notice a removal (find -newer only sees changed and added files).
listing() { find "$folder" -type f | sort | cksum; }

while :; do
    touch "$stamp"
    before=$(listing)
    "$@" || echo "watch: the command failed (status $?)" >&2
    echo "watch: waiting for a change under $folder/ (Ctrl-C stops)" >&2
    while [ -z "$(find "$folder" -type f -newer "$stamp" | head -n 1)" ] && [ "$(listing)" = "$before" ]; do
        sleep 1
    done
    echo "watch: $folder/ changed; running again" >&2
done
