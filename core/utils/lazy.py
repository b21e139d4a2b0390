"""A package's public names, each imported from its module on first use (PEP 562).

So ``from core.training import TrainConfig`` costs no TensorFlow. Functions of modules that import Keras at
their top (``heavy``) are handed out as thin callers that import their module on the first call, so even
``from core.training import train_from_scratch`` at a page's top loads no TensorFlow until a training starts.
``LazyModule`` does the same for a library inside a module: Keras, in modules that pages import.
"""

from __future__ import annotations

import importlib
import os


def _deferred(module: str, name: str):
    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__module__ = module
    call.__doc__ = f"``{module}.{name}`` (imported on the first call: its module loads TensorFlow)."
    return call


def public_names(package: str, modules: dict[str, list[str]], heavy: tuple[str, ...] = ()):
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` from ``{module: [names]}``; the names of
    the ``heavy`` modules must be functions."""
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str):
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = f"{package}.{home[name]}"
        if home[name] in heavy:
            return _deferred(module, name)
        return getattr(importlib.import_module(module), name)

    def __dir__():
        return sorted(home)

    return __getattr__, __dir__, sorted(home)


class LazyModule:
    """``keras = LazyModule("keras")`` at the top of a module that light modules import: the library loads on
    the first ``keras.something``, so importing the module costs no TensorFlow and its functions need no
    import of their own."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter; warnings stay
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"
