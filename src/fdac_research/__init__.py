"""fdac-research: reproducible evaluation of Family Drug and Alcohol Courts.

Sub-packages, one per capability: ``world`` (synthetic world generator), ``linkage``,
``governance``, ``risk``, ``synth``, ``analysis``, ``reports``. Shared modules: ``schema``
(the data contract), ``validation``, ``dataset``, ``config``, ``exceptions``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
