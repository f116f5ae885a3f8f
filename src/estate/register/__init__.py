"""The joint asset register: partner files in, one validated register out.

Modules: ``schema`` (canonical tables), ``sources`` (partner descriptions),
``ingest`` (reading and value parsing), ``validate`` (row checks and the
rejects log), ``geocode`` (placing rows on British National Grid), ``dedupe``
(shared sites), ``estimate`` (values a partner did not give), ``build`` (the whole stage,
and reading/writing register.gpkg).
"""

from estate.register.build import Register, build_register, read_register, write_register_files
from estate.register.sources import Sources, load_sources

__all__ = ["Register", "Sources", "build_register", "load_sources", "read_register", "write_register_files"]
