"""Evaluation that tells the truth: gold questions, metrics, baselines, public benchmarks and performance.

`policybot eval` and `policybot bench` (in `bot/cli/evaluation.py`) call these plain functions; so does the CI
test. `run.py` runs and scores the question sets, `report/` writes what they found.
"""
