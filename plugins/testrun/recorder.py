"""Inside a test worker: what each test depended on, recorded while it runs.

Why this shape: a global trace function that sees only *call* events (it never
asks for line events) costs one Python call per function call, which is the
cheapest tracer Python 3.11 offers (no `sys.monitoring`). What a test depends on:
- the blocks of project files it ran (functions, methods, module bodies it
  imported), each with its checksum;
- the blocks of the classes it used: of the methods it ran, of the project classes
  the functions it ran name (found in their globals, and as attributes of project
  modules they name), of `self` in inherited methods (a subclass's class body, such
  as a lexer's token table, is data its base class's methods read), of the classes
  its test module holds, each with its project base classes;
- the module residues and top-level names of the files those blocks live in and of
  the files its test module imports (statically, transitively);
- what the fixtures it used ran when they were set up (also when an earlier test
  set them up);
- what ran while the modules it uses were imported (module bodies call functions:
  `DEFAULT = Style.parse(...)`), traced from before the conftest files load until
  collection ends and while a module first imported inside a test runs its body, for
  the test module's import closure and the files it ran;
- the files under the root it opened for reading that are not modules it imported
  (an audit hook), `.py` example files read as data included;
- the pytest configuration file and the `conftest.py` files on its path.

A test whose trace was lost (the trace function unset: a `RecursionError` raised inside
it, or a test that sets its own) depends on the whole text of every project module
loaded: what it ran after the loss is unknown.

Blocks get a small id per worker; the daemon receives each block's definition
once (file, name, checksum) and per test only ids.
"""

from __future__ import annotations

import dis
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import CodeType, FrameType, ModuleType
from typing import Any

from catalytic.plugins.testrun.blocks import (
    CONFIG,
    DATA,
    MAIN,
    MODULE,
    NAMES,
    WHOLE,
    FileBlocks,
    class_block,
    digest,
    imported_names,
    parse_blocks,
)
from catalytic.plugins.testrun.config_files import config_checksum

HERE = os.path.dirname(os.path.realpath(__file__))
FileInfo = tuple[str, FileBlocks, int, tuple[int, ...]]
"""A project file: path relative to the root, its blocks, its module block id, and the ids
every user of the file gets (its module and names blocks)."""
NEWLOCALS = 0x2
"""A code flag every function has; module and class bodies do not."""
CONSTRUCTORS = ("__new__", "__init__", "__post_init__")
"""Methods whose blocks count for every test using an instance of their class."""
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class Recorder:
    """Per-worker state: block ids, caches, and the dependencies of the test running now."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.prefix = self.root + os.sep
        self.skip = [p for p in {os.path.realpath(sys.prefix), os.path.realpath(
            sys.base_prefix), os.path.realpath(sys.exec_prefix), HERE} if p]
        self.ids: dict[tuple[str, str, str], int] = {}
        self.pending: list[list[Any]] = []
        self.files: dict[str, FileInfo | None] = {}
        """Absolute filename -> (path relative to root, its blocks, its module block id,
        the ids every user of the file gets: its module and names blocks)."""
        self.codes: dict[CodeType, tuple[int, ...]] = {}
        """Code object -> the block ids it stands for (() when not the project's)."""
        self.code_globals: dict[CodeType, dict[str, Any]] = {}
        """Project functions -> their globals, to find the classes they name (`_refs`)."""
        self.refs: dict[CodeType, tuple[int, ...]] = {}
        """Code object -> the class blocks of the project classes it names."""
        self.poly: dict[CodeType, int] = {}
        """Methods whose `self`'s class is noted -> the last bytecode offset of a fresh call:
        methods of classes with subclasses in other files (reading `self` costs a dict of
        the frame's locals, so it is done only where the class body of a subclass elsewhere
        can be what the method reads)."""
        self.methods: list[tuple[CodeType, type]] = []
        """Project methods not (yet) in `poly`, with their class, re-checked after imports."""
        self.modules_seen = 0
        self.by_file: dict[str, ModuleType] = {}
        self.by_file_n = 0
        self.types: dict[type, tuple[int, ...]] = {}
        self.fixtures: dict[int, set[CodeType]] = {}
        self.module_deps: dict[str, tuple[int, ...]] = {}
        self.conftests: list[tuple[str, int]] = []
        self.config_ids: tuple[int, ...] = ()
        self.data_cache: dict[tuple[str, int, int], int] = {}
        self.seen: set[CodeType] = set()
        self.seen_types: set[type] = set()
        self.opened: set[str] = set()
        self.recording = False
        self.stack: list[set[CodeType]] = []
        self.current: Any = None
        """The trace function installed now (another one found there: the trace was lost)."""
        self.lossy_fixtures: set[int] = set()
        self.whole: dict[str, int] = {}
        """Absolute filename -> the id of the block of its whole text."""
        self.import_codes: dict[str, set[CodeType]] = {}
        """Absolute filename of a project module -> the project code run while it was
        imported (by its body, or by the bodies of the modules it imported then)."""
        self.import_ids: dict[str, tuple[int, ...]] = {}
        self.lazy_depth = 0
        """How many project module bodies imported during a test are running now."""
        sys.addaudithook(self._audit)

    # -- ids ---------------------------------------------------------------------------------

    def _id(self, file: str, name: str, checksum: str) -> int:
        key = (file, name, checksum)
        i = self.ids.get(key)
        if i is None:
            i = self.ids[key] = len(self.ids)
            self.pending.append([i, file, name, checksum])
        return i

    def take_new_blocks(self) -> list[list[Any]]:
        """Definitions of blocks not yet sent to the daemon: [id, file, name, checksum]."""
        out, self.pending = self.pending, []
        return out

    def _file(self, filename: str) -> FileInfo | None:
        if filename in self.files:
            return self.files[filename]
        info: FileInfo | None = None
        real = os.path.realpath(filename) if filename[:1] != "<" else ""
        if real.startswith(self.prefix) and real.endswith(".py") and not any(
                real == s or real.startswith(s + os.sep) for s in self.skip) and (
                "site-packages" not in real):
            try:
                with open(real, "rb") as f:
                    source = f.read()
            except OSError:
                source = None
            if source is not None:
                rel = os.path.relpath(real, self.root).replace(os.sep, "/")
                fb = parse_blocks(source, real)
                module_id = self._id(rel, MODULE, fb.checksums[MODULE])
                names = fb.checksums.get(NAMES)
                info = (rel, fb, module_id, (module_id,) if names is None else (
                    module_id, self._id(rel, NAMES, names)))
        self.files[filename] = info
        return info

    def _classify(self, code: CodeType, globals_: dict[str, Any] | None = None
                  ) -> tuple[int, ...]:
        info = self._file(code.co_filename)
        if info is None:
            ids: tuple[int, ...] = ()
        else:
            rel, fb, _, file_ids = info
            name = fb.locate(code.co_firstlineno, code.co_name)
            out = list(file_ids)
            if name == MODULE:
                if code.co_name == "<module>" and MAIN in fb.checksums:
                    out.append(self._id(rel, MAIN, fb.checksums[MAIN]))
            else:
                out.append(self._id(rel, name, fb.checksums[name]))
                out.extend(self._enclosing(rel, fb, name))
                if globals_ is not None and not name.startswith("<"):
                    self.code_globals[code] = globals_
            if "." in name and not name.startswith("<"):
                owner = self._owner(code.co_filename, name)
                if owner is not None:
                    out.extend(self._type_ids(owner))
                    if code.co_argcount and code.co_varnames[0] in ("self", "cls"):
                        if _foreign_subclasses(owner):
                            self.poly[code] = _fresh_limit(code)
                        else:
                            self.methods.append((code, owner))
            ids = tuple(sorted(set(out)))
        self.codes[code] = ids
        return ids

    def _enclosing(self, rel: str, fb: FileBlocks, name: str) -> list[int]:
        """The class blocks around a function or class block (its own, for a class)."""
        is_class = name.startswith("<class ")
        parts = (name[7:-1] if is_class else name).split(".")
        out = []
        for k in range(1, len(parts) + (1 if is_class else 0)):
            block = class_block(".".join(parts[:k]))
            checksum = fb.checksums.get(block)
            if checksum is not None:
                out.append(self._id(rel, block, checksum))
        return out

    def _refs(self, code: CodeType) -> tuple[int, ...]:
        """Class blocks of the project classes a function names: a global name, or an
        attribute of a project module it names (`box.ASCII`, `rich.syntax.Syntax`), that
        is a project class or an instance of one (with their bases). Found when a test
        that ran the function ends (its module is imported by then), once per function."""
        got = self.refs.get(code)
        if got is not None:
            return got
        g = self.code_globals.pop(code, None)
        out: set[int] = set()
        if g is not None:
            names = code.co_names
            mods: list[ModuleType] = []
            for n in names:
                obj = g.get(n)
                if obj is not None:
                    self._note(obj, out, mods)
            done: set[int] = set()
            while mods:
                mod = mods.pop()
                if id(mod) in done:
                    continue
                done.add(id(mod))
                d = mod.__dict__
                for n in names:
                    obj = d.get(n)
                    if obj is not None:
                        self._note(obj, out, mods)
        got = self.refs[code] = tuple(sorted(out))
        return got

    def _note(self, obj: Any, out: set[int], mods: list[ModuleType]) -> None:
        t = type(obj)
        if issubclass(t, type):
            out.update(self._type_ids(obj))
        elif issubclass(t, ModuleType):
            f = getattr(obj, "__file__", None)
            if f and self._file(f) is not None:
                mods.append(obj)
        else:
            out.update(self._type_ids(t))

    def _owner(self, filename: str, qualname: str) -> type | None:
        """The class a method's qualified name lies in (None: not found, or a function)."""
        if filename not in self.by_file and len(sys.modules) != self.by_file_n:
            self.by_file_n = len(sys.modules)
            self.by_file = {getattr(m, "__file__", None) or "": m
                            for m in list(sys.modules.values()) if m is not None}
        obj: Any = self.by_file.get(filename)
        for part in qualname.split(".")[:-1]:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj if isinstance(obj, type) else None

    def _recheck(self) -> None:
        """After new imports: methods whose classes gained subclasses in other files."""
        if len(sys.modules) == self.modules_seen:
            return
        self.modules_seen = len(sys.modules)
        keep = []
        for code, owner in self.methods:
            if _foreign_subclasses(owner):
                self.poly[code] = _fresh_limit(code)
            else:
                keep.append((code, owner))
        self.methods = keep

    # -- tracing -----------------------------------------------------------------------------

    def _tracer(self, into: set[CodeType]) -> Any:
        add, codes, poly, classify = into.add, self.codes, self.poly, self._classify
        lazy, note_self = self._lazy_import, self._note_self

        def trace(frame: FrameType, event: str, arg: Any) -> Any:
            c = frame.f_code
            ids = codes.get(c)
            if ids is None:
                ids = classify(c, frame.f_globals)
                if ids and c.co_name == "<module>" and not c.co_flags & NEWLOCALS:
                    add(c)
                    return lazy(frame, into)
            if ids:
                add(c)
                lim = poly.get(c)
                if lim is not None and frame.f_lasti <= lim:
                    note_self(frame, c)
            return None

        return trace

    def _import_tracer(self, into: set[CodeType] | None = None) -> Any:
        """Notes what each project module body importing now runs; with `into`, also what
        a test runs (a module the test imports for the first time)."""
        codes, classify, by_module = self.codes, self._classify, self.import_codes
        lazy, poly, note_self = self._lazy_import, self.poly, self._note_self

        def trace(frame: FrameType, event: str, arg: Any) -> Any:
            c = frame.f_code
            ids = codes.get(c)
            if ids is None:
                ids = classify(c, frame.f_globals)
                if into is not None and ids and c.co_name == "<module>" and not (
                        c.co_flags & NEWLOCALS):
                    into.add(c)
                    return lazy(frame, into)
            if ids and into is not None:
                into.add(c)
                lim = poly.get(c)
                if lim is not None and frame.f_lasti <= lim:
                    note_self(frame, c)
            # every project module body importing right now ran it; module and class
            # bodies are not counted (their blocks are, by the tests that import the
            # module or use the class)
            if ids and c.co_flags & NEWLOCALS:
                f = frame.f_back
                while f is not None:
                    fc = f.f_code
                    if fc.co_name == "<module>" and codes.get(fc):
                        by_module.setdefault(fc.co_filename, set()).add(c)
                    f = f.f_back
            return None

        return trace

    def _note_self(self, frame: FrameType, code: CodeType) -> None:
        """The class of `self` (or `cls`) in a fresh call of a method noted in `poly`."""
        obj = frame.f_locals.get(code.co_varnames[0])
        if obj is not None:
            self.seen_types.add(obj if isinstance(obj, type) else type(obj))

    def _lazy_import(self, frame: FrameType, into: set[CodeType]) -> Any:
        """A project module imported for the first time while a test (or fixture) runs:
        until its body returns, what it runs is noted as its import's too, as at collection,
        so the later tests using the module depend on it, not only this one. Returns the
        module frame's local trace function, which sees only its return."""
        self.lazy_depth += 1
        if self.lazy_depth == 1:
            self._install(self._import_tracer(into))
        frame.f_trace_lines = False

        def done(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "return":
                self.lazy_depth -= 1
                self.import_ids.clear()  # caches made before this import
                self.module_deps.clear()
                if self.lazy_depth == 0 and not self._lost():
                    self._install(self._tracer(into))
            return done

        return done

    def start_imports(self) -> None:
        """Trace what module bodies run as they are imported, until `collected`."""
        self._install(self._import_tracer())

    def _set(self, into: set[CodeType] | None) -> None:
        self._install(None if into is None else self._tracer(into))

    def _install(self, fn: Any) -> None:
        self.current = fn
        sys.settrace(fn)
        threading.settrace(fn)

    def _lost(self) -> bool:
        """Whether the trace function installed is gone (unset by an exception raised in
        it, at the recursion limit, or replaced by the test)."""
        return sys.gettrace() is not self.current

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not self.recording:
            return
        path, mode, flags = (*args, None, None, None)[:3]
        if not isinstance(path, (str, bytes)):
            return
        if isinstance(mode, str) and any(ch in mode for ch in "wax+"):
            return
        if isinstance(flags, int) and flags & WRITE_FLAGS:
            return
        self.opened.add(os.path.abspath(os.fsdecode(path)))

    # -- one test ----------------------------------------------------------------------------

    def begin(self) -> None:
        self.lazy_depth = 0  # an import whose trace was lost never saw its return
        self.seen.clear()
        self.seen_types.clear()
        self.opened.clear()
        self.stack = []
        self.recording = True
        self._set(self.seen)

    def fixture_enter(self) -> None:
        """A fixture starts its setup: what it runs is kept apart, for every test using it."""
        if self.recording:
            self.stack.append(set())
            self._set(self.stack[-1])

    def fixture_exit(self, fixturedef: Any) -> None:
        if self.recording and self.stack:
            if self._lost():
                self.lossy_fixtures.add(id(fixturedef))
            got = self.stack.pop()
            self.fixtures.setdefault(id(fixturedef), set()).update(got)
            outer = self.stack[-1] if self.stack else self.seen
            outer.update(got)
            self._set(outer)

    def end(self, item: Any) -> list[int]:
        """Stop recording; the block ids `item` depended on."""
        lost = self._lost()
        self._set(None)
        self.recording = False
        deps: set[int] = set()
        codes = set(self.seen)
        for defs in _fixturedefs(item):
            codes.update(self.fixtures.get(id(defs), ()))
            lost = lost or id(defs) in self.lossy_fixtures
        refs, files = self._refs, set()
        for c in codes:
            deps.update(self.codes.get(c) or self._classify(c))
            deps.update(refs(c))
            files.add(c.co_filename)
        for f in files:
            deps.update(self._import_ids(f))
        if lost:
            deps.update(self._whole_files())
        for t in self.seen_types:
            deps.update(self._type_ids(t))
        self._recheck()
        deps.update(self._test_module_ids(item))
        deps.update(self.config_ids)
        path = os.path.realpath(str(getattr(item, "path", "") or ""))
        for folder, cid in self.conftests:
            if path.startswith(folder):
                deps.add(cid)
        loaded = self._loaded_files() if any(p.endswith(".py") for p in self.opened) else ()
        for p in self.opened:
            if p in loaded:
                continue  # an import (its blocks count), not a data file
            data_id = self._data_id(p)
            if data_id is not None:
                deps.add(data_id)
        return sorted(deps)

    def _loaded_files(self) -> set[str]:
        """The absolute filenames of the modules loaded now (a `.py` file a test opened
        that is not one of them is data: an example file read by a golden test)."""
        out = set()
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if f:
                out.add(os.path.abspath(f))
                out.add(os.path.realpath(f))
        return out

    def _import_ids(self, filename: str) -> tuple[int, ...]:
        """The blocks of what ran while a project module was imported."""
        got = self.import_ids.get(filename)
        if got is None:
            ids: set[int] = set()
            for c in self.import_codes.get(filename, ()):
                ids.update(self.codes.get(c) or self._classify(c))
            got = self.import_ids[filename] = tuple(sorted(ids))
        return got

    def _whole_files(self) -> list[int]:
        """The whole-text blocks of every project module loaded now."""
        out = []
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if not f:
                continue
            got = self.whole.get(f)
            if got is None:
                info = self._file(f)
                if info is None:
                    continue
                try:
                    with open(f, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue
                got = self.whole[f] = self._id(info[0], WHOLE, digest(data))
            out.append(got)
        return out

    def _data_id(self, path: str) -> int | None:
        real = os.path.realpath(path)
        if not real.startswith(self.prefix) or real.endswith(".pyc") or any(
                part in ("__pycache__", ".git") for part in real.split(os.sep)):
            return None
        try:
            st = os.stat(real)
        except OSError:
            return None
        if not os.path.isfile(real):
            return None
        key = (real, st.st_mtime_ns, st.st_size)
        got = self.data_cache.get(key)
        if got is not None:
            return got
        try:
            with open(real, "rb") as f:
                data = f.read()
        except OSError:
            return None
        rel = os.path.relpath(real, self.root).replace(os.sep, "/")
        cid = self.data_cache[key] = self._id(rel, DATA, digest(data))
        return cid

    def _type_ids(self, t: type) -> tuple[int, ...]:
        """The class blocks (and module and names blocks) of a class and its bases that
        are the project's, with their constructors: an instance a test uses got its state
        from them, even when another test, or an import, made it (rich's global console,
        made once per process by whichever test asked first)."""
        got = self.types.get(t)
        if got is None:
            ids: set[int] = set()
            for klass in getattr(t, "__mro__", ()):
                mod = sys.modules.get(getattr(klass, "__module__", "") or "")
                info = self._file(getattr(mod, "__file__", None) or "<none>")
                if info is not None:
                    rel, fb = info[0], info[1]
                    ids.update(info[3])
                    qual = getattr(klass, "__qualname__", "")
                    for block in (class_block(qual), *(f"{qual}.{m}" for m in CONSTRUCTORS)):
                        checksum = fb.checksums.get(block)
                        if checksum is not None:
                            ids.add(self._id(rel, block, checksum))
            got = self.types[t] = tuple(sorted(ids))
        return got

    # -- after collection --------------------------------------------------------------------

    def collected(self, config: Any, items: Iterable[Any]) -> None:
        """Note the configuration and conftest files; precompute nothing heavy."""
        if self.current is not None:
            self._install(None)  # the import trace ends with collection
        ids = []
        inipath = getattr(config, "inipath", None)
        if inipath:
            real = os.path.realpath(str(inipath))
            if real.startswith(self.prefix):
                rel = os.path.relpath(real, self.root).replace(os.sep, "/")
                ids.append(self._id(rel, CONFIG, config_checksum(Path(real))))
        self.config_ids = tuple(ids)
        for plugin in config.pluginmanager.get_plugins():
            f = getattr(plugin, "__file__", None)
            if not f or os.path.basename(f) != "conftest.py":
                continue
            real = os.path.realpath(f)
            if real.startswith(self.prefix):
                rel = os.path.relpath(real, self.root).replace(os.sep, "/")
                self.conftests.append((os.path.dirname(real) + os.sep,
                                       self._id(rel, CONFIG, config_checksum(Path(real)))))

    def _test_module_ids(self, item: Any) -> tuple[int, ...]:
        module = getattr(item, "module", None)
        if not isinstance(module, ModuleType):
            return ()
        return self._closure(module) + self._module_classes(module)

    def _module_classes(self, module: ModuleType) -> tuple[int, ...]:
        """Class blocks of the project classes (and instances of them) a test module holds
        at top level (`from pkg.colors import Color`): its tests may read them without
        running a method."""
        key = "classes:" + module.__name__
        got = self.module_deps.get(key)
        if got is None:
            out: set[int] = set()
            for obj in list(module.__dict__.values()):
                if obj is not None and not issubclass(type(obj), ModuleType):
                    self._note(obj, out, [])
            got = self.module_deps[key] = tuple(sorted(out))
        return got

    def _closure(self, module: ModuleType) -> tuple[int, ...]:
        """Module-body blocks of a module and every project module it imports, transitively."""
        name = module.__name__
        got = self.module_deps.get(name)
        if got is not None:
            return got
        ids: set[int] = set()
        todo, done = [module], {name}
        while todo:
            mod = todo.pop()
            f = getattr(mod, "__file__", None)
            info = self._file(f) if f else None
            if info is None and mod is not module:
                continue
            if info is not None:
                ids.update(info[3])
                ids.update(self._import_ids(f or ""))
            try:
                with open(f or "", "rb") as fh:
                    source = fh.read()
            except OSError:
                continue
            package = mod.__name__ if hasattr(mod, "__path__") else mod.__name__.rpartition(
                ".")[0]
            for dep in imported_names(source, package):
                parts = dep.split(".")
                for k in range(1, len(parts) + 1):  # a package's __init__ runs too
                    sub = ".".join(parts[:k])
                    m = sys.modules.get(sub)
                    if m is not None and sub not in done:
                        done.add(sub)
                        todo.append(m)
        got = self.module_deps[name] = tuple(sorted(ids))
        return got


def _fixturedefs(item: Any) -> list[Any]:
    info = getattr(item, "_fixtureinfo", None)
    out: list[Any] = []
    for defs in getattr(info, "name2fixturedefs", {}).values():
        out.extend(defs)
    return out


def _foreign_subclasses(cls: type) -> bool:
    """Whether some subclass of `cls` (at any depth) is defined in another module."""
    todo, seen = [cls], set()
    while todo:
        k = todo.pop()
        try:
            subs: list[type] = type.__subclasses__(k)
        except TypeError:
            continue
        for sub in subs:
            if sub in seen:
                continue
            seen.add(sub)
            if getattr(sub, "__module__", None) != cls.__module__:
                return True
            todo.append(sub)
    return False


def _fresh_limit(code: CodeType) -> int:
    """Largest `f_lasti` of a call that starts the code (a generator resumes past a yield)."""
    if not code.co_flags & (0x20 | 0x80 | 0x200):  # generator, coroutine, async generator
        return 1 << 30
    for ins in dis.get_instructions(code):
        if ins.opname in ("YIELD_VALUE", "SEND"):
            return ins.offset - 1
    return 1 << 30
