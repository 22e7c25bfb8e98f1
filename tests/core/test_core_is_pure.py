"""registryd.core is a pure asyncio state machine: no gRPC, protobuf, wire types or metrics library."""

from __future__ import annotations

import ast
from pathlib import Path

import registryd.core

FORBIDDEN = (
    "grpc",
    "grpc_status",
    "grpc_health",
    "google.protobuf",
    "google.rpc",
    "agentregistry",
    "prometheus_client",
    "aetcd",
    "registryd.store.etcd",
)


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_core_modules_import_no_wire_or_transport_library():
    core = Path(registryd.core.__file__).parent
    offenders = {
        f"{path.name}: {module}"
        for path in sorted(core.glob("*.py"))
        for module in imported_modules(path)
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
    }
    assert sorted(core.glob("*.py")) and not offenders
