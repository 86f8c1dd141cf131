# Sourced by the deploy scripts: usage from the calling script's header comment, progress lines, and
# the check that required variables are set. $0 stays the calling script, so messages name it.

# Prints the calling script's header comment (what it does, the variables it reads) and exits 2.
usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}
step() { printf '\n==> %s\n' "$*" >&2; }
fail() {
  echo "$(basename "$0" .sh): $*" >&2
  exit 2
}
# require_vars NAME...: usage and exit 2 naming the first variable that is unset or empty.
require_vars() {
  local name
  for name in "$@"; do
    if [[ -z "${!name:-}" ]]; then
      echo "$(basename "$0" .sh): $name is not set" >&2
      usage
    fi
  done
}
