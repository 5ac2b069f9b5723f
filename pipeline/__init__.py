"""zhnews: Chinese AI-chip news to clean Parquet datasets."""

__version__ = "0.1.0"
