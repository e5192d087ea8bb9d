"""nianbao: collect and check government information disclosure annual reports.

Importing the package is cheap; the heavy parts (Prefect, boto3, DuckDB) are imported only by the
modules that need them.
"""

__version__ = "0.1.0"
