"""Load plugins with stevedore, start them, and report the ones that failed.

A plugin that fails to import, to validate its config or to start is
logged and listed by `system.plugins` with the reason; the daemon serves
the rest.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stevedore import ExtensionManager, NamedExtensionManager

from catalytic.config.model import Setting
from catalytic.daemon.dispatch import Dispatcher
from catalytic.plugins.base import Plugin, PluginContext

NAMESPACE = "catalytic.plugins"
RESERVED = frozenset({"system", "limits", "security", "http", "daemon"})


@dataclass
class Loaded:
    name: str
    cls: type[Plugin] | None = None
    instance: Plugin | None = None
    state: str = "discovered"
    error: str | None = None
    distribution: str | None = None
    methods: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {"name": self.name, "version": getattr(self.cls, "version", None),
                "state": self.state, "error": self.error, "distribution": self.distribution,
                "methods": self.methods}


class PluginHost:
    """Every plugin found in the namespace, loaded or not."""

    def __init__(self, log: logging.Logger, only: Sequence[str] = (),
                 namespace: str = NAMESPACE) -> None:
        self.log = log
        self.only = set(only)
        self.namespace = namespace
        self.plugins: dict[str, Loaded] = {}

    def discover(self) -> None:
        """Import every plugin class (not start it); failures are recorded, not raised."""
        def failed(_mgr: Any, ep: Any, exc: BaseException) -> None:
            if self.only and ep.name not in self.only:
                return
            self.plugins[ep.name] = Loaded(ep.name, state="failed",
                                           error=f"import failed: {type(exc).__name__}: {exc}")
            self.log.error("plugin %s failed to import: %s", ep.name, exc)

        mgr: ExtensionManager
        if self.only:  # import only what was asked for
            mgr = NamedExtensionManager(self.namespace, sorted(self.only), invoke_on_load=False,
                                        on_load_failure_callback=failed,
                                        verify_requirements=False)
        else:
            mgr = ExtensionManager(self.namespace, invoke_on_load=False,
                                   on_load_failure_callback=failed,
                                   verify_requirements=False)
        for ext in mgr.extensions:
            if self.only and ext.name not in self.only:
                continue
            cls = ext.plugin
            loaded = Loaded(ext.name, cls=cls, distribution=self._distribution(ext.name))
            problem = self._check_class(ext.name, cls)
            if problem:
                loaded.state, loaded.error = "failed", problem
                self.log.error("plugin %s refused: %s", ext.name, problem)
            self.plugins[ext.name] = loaded
        for name in self.only - set(self.plugins):
            self.plugins[name] = Loaded(name, state="failed",
                                        error=f"no plugin named {name!r} is installed "
                                              f"(entry points in {self.namespace})")

    def _distribution(self, name: str) -> str | None:
        """Which installed distribution provides the plugin (stevedore's cache drops it)."""
        for ep in importlib.metadata.entry_points(group=self.namespace, name=name):
            dist = getattr(ep, "dist", None)
            if dist is not None:
                return str(dist.name)
        return None

    @staticmethod
    def _check_class(name: str, found: Any) -> str | None:
        if not (isinstance(found, type) and issubclass(found, Plugin)):
            return "entry point is not a catalytic.plugins.base.Plugin subclass"
        cls: type[Plugin] = found
        if name in RESERVED:
            return f"the name {name!r} is reserved"
        if cls.name != name:
            return f"class name attribute {cls.name!r} differs from entry-point name {name!r}"
        try:
            cls.methods()
        except ValueError as exc:
            return str(exc)
        return None

    def schemas(self) -> dict[str, Sequence[Setting]]:
        return {n: p.cls.settings for n, p in self.plugins.items()
                if p.cls is not None and p.state != "failed"}

    def failed_names(self) -> list[str]:
        return [n for n, p in self.plugins.items() if p.state == "failed"]

    async def start_all(self, make_ctx: Callable[[str], PluginContext],
                        dispatcher: Dispatcher) -> None:
        for name, loaded in self.plugins.items():
            if loaded.cls is None or loaded.state == "failed":
                continue
            try:
                instance = loaded.cls()
                await instance.start(make_ctx(name))
                await instance.restore()
            except Exception as exc:
                loaded.state = "failed"
                loaded.error = f"start failed: {type(exc).__name__}: {exc}"
                self.log.error("plugin %s failed to start:\n%s", name, traceback.format_exc())
                continue
            try:
                for verb, method in loaded.cls.methods().items():
                    handler = getattr(instance, loaded.cls.handler_name(verb))
                    dispatcher.register(name, method, handler)
                    if not method.internal:  # internal verbs are not listed
                        loaded.methods.append(f"{name}.{verb}")
            except ValueError as exc:  # a duplicate method name, a bad `quick` method
                dispatcher.unregister_plugin(name)
                loaded.methods.clear()
                loaded.state = "failed"
                loaded.error = f"methods refused: {exc}"
                self.log.error("plugin %s failed to register its methods: %s", name, exc)
                with contextlib.suppress(Exception):
                    await instance.stop()
                continue
            loaded.instance = instance
            loaded.state = "running"
            self.log.info("plugin %s %s started (%d methods)", name, loaded.cls.version,
                          len(loaded.methods))

    def running(self) -> list[tuple[str, Plugin]]:
        return [(n, p.instance) for n, p in self.plugins.items()
                if p.instance is not None and p.state == "running"]

    async def snapshot_all(self) -> None:
        for name, plugin in self.running():
            try:
                await plugin.snapshot()
            except Exception:
                self.log.exception("plugin %s: snapshot failed", name)

    async def stop_all(self, dispatcher: Dispatcher) -> None:
        for name, plugin in reversed(self.running()):
            try:
                await plugin.stop()
            except Exception:
                self.log.exception("plugin %s: stop failed", name)
            dispatcher.unregister_plugin(name)
            self.plugins[name].state = "stopped"

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, plugin in self.running():
            try:
                out[name] = plugin.stats()
            except Exception as exc:
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return out

    def report(self) -> list[dict[str, Any]]:
        return [p.report() for p in self.plugins.values()]


@functools.cache
def daemon_version() -> str:
    try:
        return importlib.metadata.version("catalytic")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
