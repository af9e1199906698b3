"""Registers the Hotpatch audit plugin for the compliance checks in tests/."""

pytest_plugins = ["hotpatch_audit.pytest_plugin.hooks"]
