"""`zdrender timeline`: the shutdown of one pod and a rolling update of each serving workload, before
and after zdrender's patches. Nothing on the render path imports this package; the CLI loads it only
for the timeline command.

model.py is the pure model, compare.py pairs the workloads of a stream before and after the pipeline,
terminal.py and svg.py draw them.
"""
