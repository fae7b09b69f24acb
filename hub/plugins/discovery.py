"""Finding the installed plugins and what each one declares (pluggy's four steps).

As in pluggy's eggsample: add the hookspecs, load the `chatwootai.plugins` entry
points, register the built-ins, `check_pending`. What is installed is known to
every process that loads domains (the validator needs each plugin's settings
model); which plugins run is the host's business (the allow-list).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import threading
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import pluggy
from pydantic import BaseModel

from hub.exceptions import PluginError
from hub.plugins import PROJECT, hookspecs
from hub.plugins.settings import PluginSettings

ENTRY_POINT_GROUP = "chatwootai.plugins"
"""Where third-party packages register their plugins (`name = package.module`)."""

BUILTINS: Mapping[str, str] = {
    "sentiment": "plugins.sentiment",
    "connectors": "plugins.connectors",
    "personalization": "plugins.personalization",
    "transcription": "plugins.transcription",
}
"""The plugins shipped in `plugins/`, found even before `pip install -e .` wrote their
entry points (setup.cfg registers the same names)."""


class Catalogue:
    """The installed plugins on one pluggy manager, and each one's settings model."""

    def __init__(self, plugins: Mapping[str, object]) -> None:
        self.manager = pluggy.PluginManager(PROJECT)
        self.manager.add_hookspecs(hookspecs)
        for name, plugin in plugins.items():
            try:
                self.manager.register(plugin, name=name)
            except (pluggy.PluginValidationError, ValueError) as error:
                raise PluginError(f"plugin {name!r} cannot be registered: {error}") from error
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as error:
            raise PluginError(
                f"{error} (hooks are listed in hub/plugins/hookspecs.py and docs/plugins.md)"
            ) from error
        for hook in self.manager.hook.__dict__.values():
            for impl in hook.get_hookimpls():
                if impl.hookwrapper or impl.wrapper:
                    raise PluginError(
                        f"plugin {impl.plugin_name!r}: {hook.name} is a hook wrapper; plugins "
                        "are called one at a time, so wrappers are not supported"
                    )
        self.models: dict[str, type[BaseModel]] = {
            name: self._settings_model(name) for name in plugins
        }

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def impls(self, hook: str, plugin: str) -> list[pluggy.HookImpl]:
        """The plugin's implementation(s) of one hook (none when it does not implement it)."""
        caller: pluggy.HookCaller = getattr(self.manager.hook, hook)
        return [impl for impl in caller.get_hookimpls() if impl.plugin_name == plugin]

    def call(self, hook: str, plugin: str, **arguments: Any) -> list[Any]:
        """Call one plugin's implementations unguarded (discovery and validation time)."""
        return [
            result
            for impl in self.impls(hook, plugin)
            if (result := impl.function(*(arguments[name] for name in impl.argnames))) is not None
        ]

    def _settings_model(self, name: str) -> type[BaseModel]:
        results = self.call("settings_model", name)
        model = results[0] if results else PluginSettings
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise PluginError(f"plugin {name!r}: settings_model must return a Pydantic model")
        return model

    def validate(
        self,
        plugin: str,
        raw: Any,
        *,
        domain_id: str | None = None,
        domain_ids: Iterable[str] = (),
    ) -> BaseModel:
        """The plugin's settings from a domain's raw mapping (raises pydantic.ValidationError).

        The model's validators find `domain_id` (whose settings these are) and
        `domain_ids` (every domain of the folder, when known) in Pydantic's
        validation context: a plugin may refuse what only another domain may name.
        """
        context = {"domain_id": domain_id, "domain_ids": tuple(domain_ids)}
        return self.models[plugin].model_validate(raw if raw is not None else {}, context=context)

    def declared_tools(self, plugin: str, config: BaseModel) -> dict[str, str]:
        """Tool names → descriptions the plugin provides with these settings."""
        found: dict[str, str] = {}
        for result in self.call("declared_tools", plugin, config=config):
            found.update(result)
        return found

    def unknown(self, name: str) -> str:
        """'no plugin named x; did you mean y?' with the installed names."""
        message = f"no plugin named {name!r} is installed"
        close = difflib.get_close_matches(name, self.names, n=1)
        return message + (f"; did you mean {close[0]!r}?" if close else "")


def discover(extra: Iterable[tuple[str, object]] = ()) -> dict[str, object]:
    """Name → plugin object: the built-ins, every entry point of the group, then `extra`."""
    found: dict[str, object] = {}
    for name, module in BUILTINS.items():
        found[name] = _import(module, f"built-in plugin {name!r}")
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = entry_point.load()
        except Exception as error:  # any import-time failure of third-party code
            raise PluginError(
                f"plugin {entry_point.name!r} ({entry_point.value}) cannot be imported: "
                f"{type(error).__name__}: {error}"
            ) from error
        _add(found, entry_point.name, plugin)
    for name, plugin in extra:
        _add(found, name, plugin)
    return found


def _add(found: dict[str, object], name: str, plugin: object) -> None:
    if name in found and found[name] is not plugin:
        raise PluginError(f"two different plugins are named {name!r}")
    found[name] = plugin


def _import(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise PluginError(f"{what} ({module}) cannot be imported: {error}") from error


_installed: Catalogue | None = None
_lock = threading.Lock()


def installed() -> Catalogue:
    """Every installed plugin, discovered once per process (`forget` starts over)."""
    global _installed
    if _installed is None:
        with _lock:
            if _installed is None:
                _installed = Catalogue(discover())
    return _installed


def forget() -> None:
    """Discover again at the next `installed()` (tests that install a plugin on the fly)."""
    global _installed
    with _lock:
        _installed = None
