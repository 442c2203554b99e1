"""Build the compiled kernels (``_gutstride_native``) at install; everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "_gutstride_native",
            ["src/_gutstride_native.c"],
            extra_compile_args=["-O3", "-fopenmp"],
            extra_link_args=["-fopenmp"],
        )
    ]
)
