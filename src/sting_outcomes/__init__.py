"""sting-outcomes: sourced figures on what covert law-enforcement operations achieve.

>>> import sting_outcomes as so
>>> ds = so.load()            # validated, typed DataFrames
>>> ds.figures.head()
"""

from .data import Dataset, data_version, load
from .problems import DataValidationError, Problem

__all__ = ["Dataset", "DataValidationError", "Problem", "data_version", "load"]
__version__ = "0.1.0"
