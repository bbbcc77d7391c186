"""Run schemathesis over every operation of an app's OpenAPI document (Python API).

Schemathesis's pytest plugin does not run under pytest 9 yet (it reads a private node
attribute), so the suite drives its strategies and checks directly with Hypothesis.
"""

from __future__ import annotations

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

#: Parameters whose valid values only the API issues (signed cursors): a generated one is
#: schema-valid yet rightly rejected with 400, so "valid data is accepted" is checked
#: without them, and every other check (no 5xx, conformance) with them.
OPAQUE = ("cursor",)


def fuzz_app(app: Flask, document_path: str, examples: int) -> tuple[list[str], list[str]]:
    """(labels of the operations exercised, failures as "label mode: message")."""
    schema = schemathesis.openapi.from_wsgi(document_path, app)
    labels: list[str] = []
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        # Operations whose valid values depend on the data (x-state-dependent-parameters)
        # may refuse schema-valid input; every other check still applies.
        positive = (
            {"excluded_checks": [positive_data_acceptance]}
            if operation.definition.raw.get("x-state-dependent-parameters")
            else {}
        )
        runs = (
            (
                "positive",
                operation.as_strategy(GenerationMode.POSITIVE).map(_without_opaque),
                positive,
            ),
            (
                "positive+opaque",
                operation.as_strategy(GenerationMode.POSITIVE),
                {"excluded_checks": [positive_data_acceptance]},
            ),
            ("negative", operation.as_strategy(GenerationMode.NEGATIVE), {}),
        )
        for name, strategy, options in runs:
            try:
                _run(strategy, examples, options)
            except Unsatisfiable:
                if name != "negative":  # no parameters: nothing can be made invalid
                    raise
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} [{name}]: {error}")
    return labels, failures


def _without_opaque(case):  # type: ignore[no-untyped-def]
    if case.query:
        case.query = {k: v for k, v in case.query.items() if k not in OPAQUE}
    return case


def _run(strategy, examples: int, options: dict) -> None:  # type: ignore[no-untyped-def]
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(**options)

    check()
