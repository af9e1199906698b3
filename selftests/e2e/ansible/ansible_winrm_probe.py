"""Read ``ansible-inventory --list`` JSON on stdin; print what Ansible's own winrm connection plugin would use per host.

Run with the Python that has ansible-core and pywinrm: the plugin's option resolution is the reference, not a
copy of its rules.
"""

import json
import sys

from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader


def main() -> None:
    inventory = json.load(sys.stdin)
    out = {}
    for host, hostvars in inventory["_meta"]["hostvars"].items():
        plugin = connection_loader.get("winrm", PlayContext(), None)
        variables = dict(hostvars, inventory_hostname=host)
        variables["_extras"] = {k: v for k, v in hostvars.items() if k.startswith("ansible_winrm_")}
        plugin.set_options(var_options=variables)
        try:
            plugin._build_winrm_kwargs()
        except Exception as err:
            out[host] = {"error": str(err)}
            continue
        out[host] = {
            "host": plugin._winrm_host,
            "port": plugin._winrm_port,
            "scheme": plugin._winrm_scheme,
            "path": plugin._winrm_path,
            "transport": plugin._winrm_transport,
            "user": plugin._winrm_user,
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
