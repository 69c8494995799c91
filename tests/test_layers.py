"""The layer contract: imports under ticketing/ run only downward, and front doors never import each other.

Every module is read with `ast` (imports at module level and inside functions alike), so a late
import cannot hide a dependency. A piece two front doors need belongs below them.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ticketing"

# The layers, lowest first: a module imports only from its own layer and the layers below it.
# Top-level modules not named in the composition root are the kernel: they import no package of ours.
# The front doors are packages side by side that never import one another.
KERNEL = "<top-level modules>"
LAYERS = [
    ("kernel", {KERNEL}),
    ("auth", {"auth"}),
    ("cases", {"cases"}),
    ("notify", {"notify"}),
    ("scheduling", {"scheduling"}),
    ("front doors", {"desk", "portal", "review", "api", "insight", "admin", "ops"}),
    ("composition root", {"__init__", "setup", "cli", "demo", "demo_data", "models", "migrations"}),
]
SIDE_BY_SIDE = {"front doors"}

# Upward imports tolerated for now, at most three, each with its reason: (module, imported, reason).
EXCEPTIONS: list[tuple[str, str, str]] = []
MAX_EXCEPTIONS = 3


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. ticketing.desk.views
    imported: str  # the module it names, e.g. ticketing.cases.services
    path: Path
    line: int
    source: str

    def __str__(self) -> str:
        return f"{self.module} -> {self.imported}  ({self.path.relative_to(PACKAGE.parent)}:{self.line}: {self.source})"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").is_file() or (PACKAGE.parent / relative).is_dir()


def _imports_of(path: Path) -> list[Import]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return _imports_in(path.read_text(encoding="utf-8"), module, package, path)


def _imports_in(text: str, module: str, package: str, path: Path) -> list[Import]:
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import, resolved against this module's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from ticketing.cases import services` names the module ticketing.cases.services
            names = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base for alias in node.names]
        else:
            continue
        for name in dict.fromkeys(names):
            if name == "ticketing" or name.startswith("ticketing."):
                found.append(Import(module, name, path, node.lineno, lines[node.lineno - 1].strip()))
    return sorted(found, key=lambda found: found.line)


def _all_imports() -> list[Import]:
    return [found for path in sorted(PACKAGE.rglob("*.py")) for found in _imports_of(path)]


def _place(name: str) -> tuple[int, str]:
    """(layer index, package) of a module name under ticketing."""
    parts = name.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for index, (_, members) in enumerate(LAYERS):
        if top in members:
            return index, top
    if len(parts) == 2 and (PACKAGE / f"{top}.py").is_file():
        return 0, KERNEL
    raise AssertionError(f"{name} is in no layer: add its package to LAYERS in {Path(__file__).name}")


def _violations() -> list[Import]:
    wrong = []
    for found in _all_imports():
        (source_layer, source_package), (target_layer, target_package) = _place(found.module), _place(found.imported)
        if source_package == target_package:
            continue
        across = target_layer == source_layer and LAYERS[source_layer][0] in SIDE_BY_SIDE
        if target_layer > source_layer or across:
            wrong.append(found)
    return wrong


def _report(title: str, imports) -> str:
    return "\n".join([title, *(f"  {found}" for found in imports)])


def test_imports_run_only_downward_and_never_across_front_doors():
    allowed = {(module, imported) for module, imported, _ in EXCEPTIONS}
    wrong = [found for found in _violations() if (found.module, found.imported) not in allowed]
    assert not wrong, _report("Imports that run upward or across packages of one layer:", wrong)


def test_the_exceptions_are_few_explained_and_still_needed():
    assert len(EXCEPTIONS) <= MAX_EXCEPTIONS, f"at most {MAX_EXCEPTIONS} upward imports may be tolerated"
    assert all(reason.strip() for _, _, reason in EXCEPTIONS), "every exception needs its reason"
    still_there = {(found.module, found.imported) for found in _violations()}
    stale = [(module, imported) for module, imported, _ in EXCEPTIONS if (module, imported) not in still_there]
    assert not stale, f"these exceptions are no longer needed, remove them: {stale}"


def test_kernel_modules_import_no_package_of_ours():
    kernel = [found for found in _all_imports() if _place(found.module)[0] == 0]
    wrong = [found for found in kernel if _place(found.imported)[0] != 0]
    assert not wrong, _report("Kernel modules importing a package of ticketing:", wrong)


def test_migrations_import_no_application_code():
    """A migration is history: it must not change when the application's code changes."""
    versions = PACKAGE / "migrations" / "versions"
    wrong = [found for path in sorted(versions.glob("*.py")) for found in _imports_of(path)]
    assert not wrong, _report("Migrations importing application code (copy what they need in):", wrong)


def test_the_walker_sees_late_and_relative_imports_and_every_module_has_a_layer():
    snippet = "\n".join(
        [
            "def view():",
            "    from ticketing.desk import forms",
            "    from ..cases import services",
            "    import ticketing.api.views",
        ]
    )
    found = _imports_in(snippet, "ticketing.review.views", "ticketing.review", PACKAGE / "review" / "views.py")
    assert [(i.imported, i.line) for i in found] == [
        ("ticketing.desk.forms", 2),
        ("ticketing.cases.services", 3),
        ("ticketing.api.views", 4),
    ]
    for path in PACKAGE.rglob("*.py"):
        _place(_module_name(path))
