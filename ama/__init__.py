"""ama: version large data assets the way git versions code.

The Python API (``docs/python-api.md``)::

    import ama
    with ama.open("genomics/12/3", "manifest.csv") as f:   # streamed, verified
        header = f.readline()
    data = ama.read("genomics/12", "labels.json")
    for entry in ama.ls("genomics/12", "reads", recursive=True): ...
    ama.get("genomics/12/3", "reads", "local-reads")
    ama.versions("genomics/12"); ama.resolve("genomics/12")
    repo = ama.Repository("."); repo.add("x.csv"); repo.commit("new x")

Names are imported on first use (module ``__getattr__``), so ``import ama``
and the ``ama`` command pay nothing for them. Errors: ``ama.errors``.
"""

__version__ = "0.1.0"

_API = {"open", "read", "ls", "get", "versions", "resolve", "Repository", "Entry", "Status", "VersionInfo"}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str):
    if name in _API:
        from . import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ama' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)
