"""The OpenMetrics 1.0.0 text format, for scrapers that ask for it.

The same families as `engine.prometheus`, in OpenMetrics' spelling: a
counter's family is named without ``_total`` and its sample with it, help
text escapes quotes too, a family whose name ends in ``_seconds`` says its
``# UNIT``, and the exposition ends with ``# EOF``.
"""

from __future__ import annotations

from typing import Any, Iterable

from .prometheus import QUANTILES, _escape_value, _labels, _number, merge_families

CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
_UNITS = ("seconds", "bytes")


def _family_name(name: str, kind: str) -> str:
    if kind == "counter" and name.endswith("_total"):
        return name[: -len("_total")]
    return name


def render(families: Iterable[dict[str, Any]], *, prefix: str = "") -> str:
    """The OpenMetrics text of ``families`` (as `MetricsCollector.collect` makes them)."""
    lines: list[str] = []
    for name, family in merge_families(families, prefix).items():
        kind = family["kind"]
        base = _family_name(name, kind)
        help_text = family["help"] or base.replace("_", " ")
        lines.append(f"# TYPE {base} {'summary' if kind == 'histogram' else kind}")
        unit = base.rpartition("_")[2]
        if unit in _UNITS:
            lines.append(f"# UNIT {base} {unit}")
        lines.append(f"# HELP {base} {_escape_value(help_text)}")
        for series in family["series"]:
            labels = series["labels"]
            if kind == "histogram":
                for quantile, field in QUANTILES:
                    lines.append(f"{base}{_labels(labels, ('quantile', quantile))} {_number(series[field])}")
                lines.append(f"{base}_sum{_labels(labels)} {_number(series['sum'])}")
                lines.append(f"{base}_count{_labels(labels)} {_number(series['count'])}")
            elif kind == "counter":
                lines.append(f"{base}_total{_labels(labels)} {_number(series['value'])}")
            else:
                lines.append(f"{base}{_labels(labels)} {_number(series['value'])}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
