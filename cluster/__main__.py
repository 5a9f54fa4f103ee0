"""`scripts/cluster up|down|status|run SCENARIO...|proof`: the harness from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from . import node


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/cluster", description="A real single-node Kubernetes for zdrender's proof scenarios.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="bring the node up (idempotent; builds and caches what it needs)")
    sub.add_parser("down", help="stop everything `up` started and remove its state (idempotent)")
    sub.add_parser("status", help="say whether the node is up and print the KUBECONFIG to use")
    run = sub.add_parser("run", help="run scenarios without and with zdrender and print what was measured")
    run.add_argument("scenarios", nargs="*", help="scenario ids (default: all); see `scripts/cluster list`")
    run.add_argument("--json", action="store_true", help="print the measurements as JSON")
    sub.add_parser("list", help="list the scenarios")
    proof = sub.add_parser("proof", help="run every scenario and write docs/proof.md with its pictures")
    proof.add_argument("--from", dest="results", help="write the page from saved results (a folder of JSON files) instead of running")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            paths = node.up()
            print(f"export KUBECONFIG={paths.kubeconfig}")
        elif args.command == "down":
            node.down()
        elif args.command == "status":
            paths = node.default_paths()
            if node.is_up(paths):
                print(f"up; export KUBECONFIG={paths.kubeconfig}")
            else:
                print("down")
                return 1
        elif args.command == "list":
            from .scenarios import SCENARIOS

            for s in SCENARIOS.values():
                print(f"{s.id:<18} {s.title}")
        elif args.command == "run":
            from .scenarios import run_scenarios

            results = run_scenarios(args.scenarios or None)
            if args.json:
                print(json.dumps([r.as_dict() for r in results], indent=2))
        elif args.command == "proof":
            from .proof import write_proof

            write_proof(args.results)
    except node.NodeError as exc:
        print(f"scripts/cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
