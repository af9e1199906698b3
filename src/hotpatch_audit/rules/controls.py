"""The suite's built-in controls, in id order; importing this module registers each one's specification."""

from hotpatch_audit.rules import (
    hp01_image,
    hp02_platform,
    hp03_enrollment,
    hp04_restarted,
    hp05_latest_release,
    hp06_hotpatch_track,
    hp07_restart_pending,
    hp08_twelve_months,
    hp09_support_horizon,
)

BUILTIN = (
    hp01_image,
    hp02_platform,
    hp03_enrollment,
    hp04_restarted,
    hp05_latest_release,
    hp06_hotpatch_track,
    hp07_restart_pending,
    hp08_twelve_months,
    hp09_support_horizon,
)
