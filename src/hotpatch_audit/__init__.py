"""Hotpatch compliance audit for Windows Server Datacenter: Azure Edition guests."""

__version__ = "0.1.0"
