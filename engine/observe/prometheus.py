"""The Prometheus text exposition format (version 0.0.4).

`render` turns `MetricsCollector.collect` output into the text a Prometheus
server scrapes. Counters are exposed as ``<name>_total``; histograms as
summaries (``quantile`` 0.5, 0.9, 0.99 plus ``_sum`` and ``_count``), since
the sketch answers quantiles, not fixed buckets. Names are made legal by
replacing every character Prometheus does not allow with ``_`` (``tasks.completed``
becomes ``tasks_completed``); label values are escaped as the format says.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

_ILLEGAL_NAME = re.compile(r"[^a-zA-Z0-9_:]")
_ILLEGAL_LABEL = re.compile(r"[^a-zA-Z0-9_]")
QUANTILES = (("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99"))
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metric_name(name: str, prefix: str = "") -> str:
    """``prefix + name`` with every illegal character replaced by ``_``."""
    cleaned = _ILLEGAL_NAME.sub("_", prefix + name)
    if not cleaned or cleaned[0].isdigit():
        cleaned = "_" + cleaned
    return cleaned


def label_name(name: str) -> str:
    """A legal label name (not starting with a digit or ``__``)."""
    cleaned = _ILLEGAL_LABEL.sub("_", name)
    if not cleaned or cleaned[0].isdigit():
        cleaned = "_" + cleaned
    if cleaned.startswith("__"):
        cleaned = "x" + cleaned
    return cleaned


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: Any) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _labels(labels: dict[str, str], extra: tuple[str, str] | None = None) -> str:
    pairs = [(label_name(k), v) for k, v in sorted(labels.items())]
    if extra is not None:
        pairs.append(extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape_value(v)}"' for k, v in pairs) + "}"


def merge_families(families: Iterable[dict[str, Any]], prefix: str = "") -> dict[str, dict[str, Any]]:
    """``families`` by legal name; two that clean to the same name become one."""
    merged: dict[str, dict[str, Any]] = {}
    for family in families:
        name = metric_name(family["name"], prefix)
        kind = family["kind"]
        known = merged.get(name)
        if known is not None and known["kind"] != kind:
            # Two metrics whose names differ only in illegal characters and
            # that are of different kinds: keep both, told apart by kind.
            name = f"{name}_{kind}"
            known = merged.get(name)
        if known is None:
            merged[name] = {"kind": kind, "help": family.get("help", ""), "series": list(family["series"])}
        else:
            known["series"].extend(family["series"])
    return merged


def render(families: Iterable[dict[str, Any]], *, prefix: str = "") -> str:
    """The exposition text of ``families`` (as `MetricsCollector.collect` makes them)."""
    lines: list[str] = []
    for name, family in merge_families(families, prefix).items():
        kind = family["kind"]
        exposed = f"{name}_total" if kind == "counter" else name
        help_text = family["help"] or name.replace("_", " ")
        prom_kind = {"counter": "counter", "gauge": "gauge", "histogram": "summary"}[kind]
        lines.append(f"# HELP {exposed} {_escape_help(help_text)}")
        lines.append(f"# TYPE {exposed} {prom_kind}")
        for series in family["series"]:
            labels = series["labels"]
            if kind == "histogram":
                for quantile, field in QUANTILES:
                    lines.append(f"{name}{_labels(labels, ('quantile', quantile))} {_number(series[field])}")
                lines.append(f"{name}_sum{_labels(labels)} {_number(series['sum'])}")
                lines.append(f"{name}_count{_labels(labels)} {_number(series['count'])}")
            else:
                lines.append(f"{exposed}{_labels(labels)} {_number(series['value'])}")
    return "\n".join(lines) + "\n" if lines else ""
