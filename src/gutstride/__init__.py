"""gutstride: what your training does to your gut, read honestly from the data you already own.

Data flows one way (see docs/architecture.md)::

    files -> ingest -> workspace store -> analyses -> evidence engine -> presenters
"""

__version__ = "0.1.0"
