"""Seeded generator of the app's embedded SAMPLE data (invented, labelled as sample)."""

from .columns import COLUMNS, DATASETS
from .generator import DEFAULT_SEED, generate, generate_all
from .indicators import INDICATORS, generate_indicator

__all__ = ["COLUMNS", "DATASETS", "DEFAULT_SEED", "INDICATORS", "generate", "generate_all", "generate_indicator"]
