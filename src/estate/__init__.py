"""estate: public-sector estate rationalisation.

The package follows the pipeline: ``register`` (the joint asset register),
``maps`` (folium maps); later stages add demand, access, locate, plan,
finance and report.
"""

__version__ = "0.1.0"
