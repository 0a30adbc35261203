"""Evaluation that tells the truth: gold questions, metrics, baselines, public benchmarks and performance.

`policybot eval` and `policybot bench` (in `cli.py`) call these plain functions; so does the CI test.
"""
