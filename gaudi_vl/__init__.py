"""gaudi-vl: deploy Qwen2.5-VL on Intel Gaudi (HPU) with vLLM, planned instead of guessed.

The pure planning core (``geometry``, ``models``, ``buckets``, ``plan``, ``envvars``, ...) needs only
the standard library; edges (``cli``, ``align``, ``modelfiles``, ``launch``, ``kernels``) import
their heavier dependencies lazily.
"""

__version__ = "0.1.0"
