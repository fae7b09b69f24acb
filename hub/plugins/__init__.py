"""Plugins: what one business needs and the core should not know about, on pluggy.

A plugin is a module whose functions carry `@hookimpl` and whose names are hooks
of `hookspecs.py`; it is found on the `chatwootai.plugins` entry-point group (the
built-ins in `plugins/` too), enabled per domain under `plugins:` in domain.yaml,
and called by `manager.PluginHost`, one plugin at a time, each call guarded.
Plugin authors import from here: `hookimpl`, `PluginSettings`, `Signals`, `Verdict`.
"""

from __future__ import annotations

import pluggy

from hub.plugins.settings import PluginSettings
from hub.plugins.signals import Signals, Verdict

PROJECT = "chatwootai"
"""The pluggy project name: the markers of hookspecs and hook implementations."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "PluginSettings", "Signals", "Verdict", "hookimpl", "hookspec"]
