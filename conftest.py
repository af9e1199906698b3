"""Registers the Hotpatch audit plugin for the compliance checks in tests/.

An installed package registers it earlier, through its pytest11 entry point (named like the module, so this
line then finds it registered and does nothing); this line keeps a source checkout without installation working.
"""

pytest_plugins = ["hotpatch_audit.pytest_plugin.hooks"]
