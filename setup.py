"""Packaging for gaudi-vl.

``buckets/`` and ``kernels/`` are top-level folders in the repository but ship only inside the
``gaudi_vl`` package (``gaudi_vl.buckets``, ``gaudi_vl.kernels``): a top-level ``kernels`` package
would shadow Hugging Face's ``kernels`` distribution, which transformers probes for.
"""

from pathlib import Path

from setuptools import setup

TORCH = ["torch>=2.4", "torchvision>=0.19"]
TRANSFORMERS = ["transformers>=5.16,<5.20", *TORCH]

setup(
    name="gaudi-vl",
    version="0.1.0",
    description="Plan, align and launch vision-language models (Qwen2.5-VL, Qwen3-VL, ...) on Intel Gaudi",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=["gaudi_vl", "gaudi_vl.cli", "gaudi_vl.engines", "gaudi_vl.buckets", "gaudi_vl.kernels"],
    package_dir={"gaudi_vl.buckets": "buckets", "gaudi_vl.kernels": "kernels"},
    install_requires=["numpy>=1.24", "pillow>=10.0", "tqdm>=4.60"],
    extras_require={
        "torch": TORCH,
        "transformers": TRANSFORMERS,
        "plot": ["matplotlib>=3.7"],
        "video": ["av>=12"],
        "test": ["pytest>=8", "hypothesis>=6.100", "ruff>=0.5", "matplotlib>=3.7", "pyyaml>=6",
                 "kubernetes-validate==1.37.0", *TRANSFORMERS],
    },
    entry_points={
        "console_scripts": ["gaudi-vl = gaudi_vl.cli:main"],
        # vLLM loads these in every engine process; a no-op unless GAUDI_VL_ALIGN=1 (gaudi_vl/vllm_plugin.py).
        "vllm.general_plugins": ["gaudi_vl_align = gaudi_vl.vllm_plugin:register"],
    },
)
