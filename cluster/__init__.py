"""The proof harness: a real single-node Kubernetes on this machine, test apps, and the scenarios
that measure dropped requests during rollouts without and with zdrender.

    node.py       bring the node up and down (packages, binaries, certificates, processes)
    images.py     the test apps (apps/, static Go) as one-layer images imported with ctr
    scenarios.py  one scenario per rule: a chart, an upgrade under load, what failed
    proof.py      docs/proof.md and its pictures from the measured runs
    chart/        the Helm chart every scenario installs
"""
