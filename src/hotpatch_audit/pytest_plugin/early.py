"""Give the audit its own configuration back when pytest found it from the wrong directory.

pytest chooses its rootdir and configuration file before it loads any plugin, so in ``pytest --inventory
/elsewhere/prod.yml`` it still takes ``/elsewhere/prod.yml`` for a test path and looks for a configuration file
next to the inventory instead of in the suite. Once the plugin is loaded the option is understood; this hook then
determines rootdir and configuration again from the real test paths and applies them (addopts included) before
any conftest is loaded. It relies on pytest internals; should they change, the run stops with a usage error that
says how to write the command instead.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

_SPACE_FORM = (
    "pytest chose its configuration from the value of --inventory (rootdir {root}): write the option as "
    "--inventory=PATH, or name the checks before it, e.g. pytest tests --inventory PATH"
)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Redo pytest's rootdir and configuration choice when an audit option's value misled it."""
    ns = early_config.known_args_namespace
    if getattr(ns, "inventory", None) is None or ns.inifilename or ns.rootdir:
        return
    try:
        from _pytest.config.findpaths import determine_setup

        rootpath, inipath, inicfg, *_ = determine_setup(
            inifile=None,
            override_ini=ns.override_ini,
            args=ns.file_or_dir,
            rootdir_cmd_arg=None,
            invocation_dir=early_config.invocation_params.dir,
        )
        if (rootpath, inipath) == (early_config.rootpath, early_config.inipath):
            return
        _apply(early_config, parser, args, rootpath, inipath, inicfg)
    except (ImportError, TypeError, AttributeError, ValueError) as err:
        raise pytest.UsageError(_SPACE_FORM.format(root=early_config.rootpath)) from err


def _apply(
    config: pytest.Config, parser: pytest.Parser, args: list[str], rootpath: Any, inipath: Any, cfg: Any
) -> None:
    config._rootpath = rootpath
    config._inipath = inipath
    config._inicfg = cfg
    config._inicache.clear()
    parser.extra_info["rootdir"] = str(rootpath)
    parser.extra_info["inifile"] = str(inipath)
    addopts = config._validate_args(config.getini("addopts"), "via addopts config")
    args[:0] = addopts
    config.pluginmanager.consider_preparse(addopts, exclude_only=False)
    config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
    config.known_args_namespace.confcutdir = str(inipath.parent if inipath is not None else rootpath)
