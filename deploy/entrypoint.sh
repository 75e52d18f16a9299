#!/bin/sh
# The one entry point of Touchpoint's image (and of the Procfile): which part this process is.
#   web        gunicorn with gunicorn.conf.py (threads, timeouts, metrics, logs)
#   worker     touchpoint worker [--queues ...]    as many as the load needs
#   scheduler  touchpoint scheduler                exactly one
#   migrate    touchpoint migrate                  once per release, before the rest starts
#   health     touchpoint health worker|scheduler  for a container's health check
# Extra arguments go to the command. Settings come from the environment (see deploy/README.md).
set -eu
home=$(cd "$(dirname "$0")/.." && pwd)
part="${1:-web}"
[ "$#" -gt 0 ] && shift
case "$part" in
    web)
        # gunicorn reads WEB_CONCURRENCY when it starts, before gunicorn.conf.py can check it,
        # and a bad one ends in its traceback: say it in one line, as for every other setting.
        case "${WEB_CONCURRENCY-2}" in
            '' | *[!0-9]* | 0 | 00*)
                echo "touchpoint: WEB_CONCURRENCY must be a whole number of at least 1, not '${WEB_CONCURRENCY}'" >&2
                exit 2
                ;;
        esac
        exec gunicorn --config "$home/gunicorn.conf.py" "$@" 'service.web:create_app()' ;;
    worker | scheduler | migrate | health) exec touchpoint "$part" "$@" ;;
    *)
        echo "usage: entrypoint.sh web|worker|scheduler|migrate|health [arguments]" >&2
        exit 2
        ;;
esac
