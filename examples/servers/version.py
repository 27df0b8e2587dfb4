"""Prints the interpreter's version and each named module's, or "missing": the version line of an example."""
import importlib
import sys

parts = ["Python %s" % sys.version.split()[0]]
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
        parts.append("%s %s" % (name, getattr(module, "__version__", "?")))
    except ImportError:
        parts.append("%s missing" % name)
print(", ".join(parts))
