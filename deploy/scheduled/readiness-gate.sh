#!/usr/bin/env bash
# Readiness gate for a maintenance pipeline: before a hotpatch window, audit the readiness controls of the
# guests about to be patched and let the pipeline continue only when every one is proven ready.
#   0  ready: continue
#   1  not ready (a readiness control failed): stop, fix the guests listed in the report
#   6  could not check (a guest or fact could not be read): stop, nothing was proven
#   other: the gate itself failed (usage error, bad inventory, interrupted): stop
# Settings (environment): HOTPATCH_INVENTORY (required), HOTPATCH_REPORTS (default reports/readiness),
# HOTPATCH_AUDIT_ARGS (e.g. "--limit cluster_a" for the guests of this window), HOTPATCH_SIGN_KEY.
set -u -o pipefail

inventory="${HOTPATCH_INVENTORY:?set HOTPATCH_INVENTORY to the inventory file}"
reports="${HOTPATCH_REPORTS:-reports/readiness}"
sign=()
if [ -n "${HOTPATCH_SIGN_KEY:-}" ]; then sign=(--sign-key "$HOTPATCH_SIGN_KEY"); fi

code=0
# HOTPATCH_AUDIT_ARGS is left unquoted on purpose: it holds several options.
python -m pytest tests -m readiness --inventory "$inventory" --report-dir "$reports" "${sign[@]}" $HOTPATCH_AUDIT_ARGS || code=$?
case "$code" in
  0) echo "readiness gate: READY, every selected guest passed the readiness controls" ;;
  1) echo "readiness gate: NOT READY, a readiness control failed: do not start the maintenance window" >&2 ;;
  6) echo "readiness gate: COULD NOT CHECK, some guests were not evaluated: nothing is proven, do not start" >&2 ;;
  *) echo "readiness gate: the audit did not run to the end (exit $code)" >&2 ;;
esac
exit "$code"
