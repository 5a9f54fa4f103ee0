"""Run zdrender in-process the way the CLI does, for tests."""

from __future__ import annotations

from zdrender import pipeline, rules, settings


def make_settings(args: list[str] | None = None, **overrides):
    """Settings from CLI-like args (`--kube-version=1.28`, `--set k=v`) and keyword overrides."""
    flags: dict[str, str] = {}
    args = list(args or [])
    while args:
        arg = args.pop(0)
        if arg.startswith("--kube-version"):
            flags["kube-version"] = arg.split("=", 1)[1] if "=" in arg else args.pop(0)
        elif arg.startswith("--set"):
            pair = arg.split("=", 1)[1] if arg.startswith("--set=") else args.pop(0)
            flags.update(settings.parse_assignments([pair]))
        else:
            raise ValueError(f"unsupported fixture arg {arg}")
    flags.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return settings.load(rules.all_knobs(), flags=flags)


def render(text: str, args: list[str] | None = None, **overrides) -> pipeline.Result:
    return pipeline.run(text, make_settings(args, **overrides))


# A 3-replica Deployment in namespace shop that several rules' tests start from.
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: example/web:1"""


def workload_views(text: str) -> list:
    """The workload views of a stream as the rules see them (its Services, HPAs and PDBs in context)."""
    import yaml

    from zdrender.workload import StreamContext, context_objects, workloads_in

    docs = [d for d in yaml.safe_load_all(text) if d]
    stream = StreamContext()
    for doc in docs:
        for obj in context_objects(doc):
            stream.add(obj)
    return [w for doc in docs for w in workloads_in(doc, stream)]
