#!/usr/bin/env bash
# A scheduled audit as one command: audit the inventory into the reports directory, keep the newest runs,
# redraw the trend over them, stage the new run and the trend for the engine's artifact step, and exit with
# the audit's own code (0 compliant, 1 non-compliant, 6 could not check: the gate's rules), so the scheduler
# marks the job failed whenever the fleet is not proven compliant.
#
# Settings (environment): HOTPATCH_INVENTORY (required), HOTPATCH_REPORTS (default reports), HOTPATCH_KEEP
# (runs to keep, default 12), HOTPATCH_SIGN_KEY (Ed25519 private key, mode 600; under systemd the credential
# sign-key is used when this is unset), HOTPATCH_AUDIT_ARGS (more audit options), HOTPATCH_ARTIFACT_DIR
# (where to copy the new run and trend.html for publishing; nothing is copied when unset).
set -u -o pipefail

inventory="${HOTPATCH_INVENTORY:?set HOTPATCH_INVENTORY to the inventory file}"
reports="${HOTPATCH_REPORTS:-reports}"
keep="${HOTPATCH_KEEP:-12}"
case "$keep" in '' | *[!0-9]* | 0) echo "HOTPATCH_KEEP must be a whole number of runs, at least 1: '$keep'" >&2; exit 2 ;; esac
key="${HOTPATCH_SIGN_KEY:-}"
if [ -z "$key" ] && [ -n "${CREDENTIALS_DIRECTORY:-}" ] && [ -f "$CREDENTIALS_DIRECTORY/sign-key" ]; then
  key="$CREDENTIALS_DIRECTORY/sign-key"
fi
sign=()
if [ -n "$key" ]; then sign=(--sign-key "$key"); fi
mkdir -p "$reports"

code=0
# HOTPATCH_AUDIT_ARGS is left unquoted on purpose: it holds several options.
python -m pytest tests --inventory "$inventory" --report-dir "$reports" "${sign[@]}" $HOTPATCH_AUDIT_ARGS || code=$?
case "$code" in
  0 | 1 | 6) ;;
  *) echo "weekly-audit: the audit did not run to the end (pytest exit $code): see the output above" >&2; exit "$code" ;;
esac

# Run directories are named <UTC start>-<id>, so their names sort by age; only such directories are pruned.
mapfile -t runs < <(find "$reports" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T[0-9]*Z-*' -printf '%f\n' | sort)
if [ "${#runs[@]}" -eq 0 ]; then echo "weekly-audit: the audit wrote no run directory under $reports" >&2; exit 2; fi
newest="${runs[${#runs[@]}-1]}"
if [ "${#runs[@]}" -gt "$keep" ]; then
  for old in "${runs[@]:0:${#runs[@]}-keep}"; do
    rm -rf -- "${reports:?}/$old"
  done
fi

trend=0
python -m hotpatch_audit trend "$reports" --out "$reports/trend.html" || trend=$?

if [ -n "${HOTPATCH_ARTIFACT_DIR:-}" ]; then
  mkdir -p "$HOTPATCH_ARTIFACT_DIR"
  cp -R "$reports/$newest" "$HOTPATCH_ARTIFACT_DIR/"
  if [ -f "$reports/trend.html" ]; then cp "$reports/trend.html" "$HOTPATCH_ARTIFACT_DIR/"; fi
fi

if [ "$code" -eq 0 ] && [ "$trend" -ne 0 ]; then
  # The fleet passed, but a stored run no longer verifies (trend lists it): the evidence store needs a look.
  echo "weekly-audit: compliant, but trend exited $trend: a stored run was changed or cannot be verified" >&2
  exit 10
fi
exit "$code"
