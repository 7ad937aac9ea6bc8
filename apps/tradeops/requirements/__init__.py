"""Requirements traceability: the catalog, and the matrix of requirement -> tests -> results."""

from tradeops.requirements.catalog import Requirement, load_catalog, name_token
from tradeops.requirements.junit import parse_junit
from tradeops.requirements.report import build_matrix, write_matrix

__all__ = ["Requirement", "build_matrix", "load_catalog", "name_token", "parse_junit", "write_matrix"]
