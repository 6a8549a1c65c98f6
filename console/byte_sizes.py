"""Byte counts for people: the database size in the header and in ``flowconsole status``."""

from __future__ import annotations


def human_size(size: int) -> str:
    """``size`` bytes as B, KB, MB or GB (powers of 1024), one decimal above bytes."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
