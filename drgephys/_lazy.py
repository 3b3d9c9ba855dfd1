"""Libraries loaded on first use (`lazy`), for the ones the analysis of a recording never needs.

pandas builds the tables a batch writes, after every file is analysed; the per-sweep pipeline passes numpy
blocks (`drgephys.tables.Parts`). Imported eagerly it was 0.2 s of the 0.8 s a ``drgephys analyze`` process
spent importing before its workers could start, and every Dask worker paid it again. Loaded lazily, the
pool's workers are forked without it and never load it, and the batch process loads it while they work
(`drgephys.batch.analyze_paths`).

On Python < 3.12 a lazy module must not be used for the first time from two threads at once (`LazyLoader`
took no lock before 3.12): the batch loads pandas from its main thread only, and nothing of the workers'
path uses it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

#: The class of a module waiting for its first use (importlib's; it becomes a plain module once executed).
_LAZY_MODULE = getattr(importlib.util, "_LazyModule", ())

__all__ = ["lazy", "load", "is_loaded", "pd"]


def lazy(name: str) -> ModuleType:
    """The module `name`, executed on its first attribute access (`importlib.util.LazyLoader`, the recipe of
    the `importlib` documentation); the module itself when it is imported already.

    Raises
    ------
    ModuleNotFoundError
        When `name` is not installed (at once, not on first use).
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def load(module: ModuleType) -> ModuleType:
    """Execute a `lazy` module now (nothing when it is loaded already); returns it."""
    getattr(module, "__dict__")
    return module


def is_loaded(name: str) -> bool:
    """Whether the module `name` has been executed (imported and not waiting for its first use)."""
    module = sys.modules.get(name)
    return module is not None and not isinstance(module, _LAZY_MODULE)


#: pandas, loaded on first use: the per-sweep analysis never needs it (the package's modules import it from
#: here, ``from .._lazy import pd``).
pd = lazy("pandas")
