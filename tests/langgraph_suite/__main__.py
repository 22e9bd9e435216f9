"""``python -m tests.langgraph_suite``: run LangGraph's tests on graphpool and print the figures.

``--update-ratchet`` rewrites ``ratchet.txt`` with the tests that pass now.
``--markdown`` also prints the failure classes as a Markdown table (for the README).
``--failures TEXT`` lists the failing tests whose class contains TEXT, with messages.
"""

from __future__ import annotations

import argparse
import sys

from . import report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.langgraph_suite")
    parser.add_argument("--update-ratchet", action="store_true")
    parser.add_argument(
        "--fresh-reference",
        action="store_true",
        help="run LangGraph's side again even if a cached run exists",
    )
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--failures", metavar="TEXT")
    args = parser.parse_args(argv)
    found, reference, graphpool = report.measure(fresh_reference=args.fresh_reference)
    print(report.summary(found, reference, graphpool, limit=1000))
    if args.markdown:
        print(report.markdown(found))
    if args.failures is not None:
        for test, label in sorted(found.failed.items()):
            if args.failures in label:
                print(f"{test}\n    {label}: {found.messages[test][:300]}")
    check = report.check_ratchet(report.read_ratchet(), found)
    for test, why in sorted(check.regressions.items()):
        print(f"REGRESSION {test}: {why[:300]}")
    for test, why in sorted(check.unjudged.items()):
        print(f"in the ratchet but {why}: {test}")
    print(f"{len(check.new)} tests pass that the ratchet does not list")
    if args.update_ratchet:
        if not graphpool.complete:
            print("not updating the ratchet: the graphpool run did not complete")
            return 1
        report.write_ratchet(found.passed)
        print(f"wrote {len(found.passed)} tests to {report.RATCHET}")
        return 0
    return 1 if check.regressions else 0


if __name__ == "__main__":
    sys.exit(main())
