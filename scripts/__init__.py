"""Tools run from the repository root as modules: ``.venv/bin/python -m scripts.load_test --help``.

A package so that the tools import each other as modules (``scripts.load_shed_bench``) and the tests can
run each one; nothing here is installed with wenyuan.
"""
