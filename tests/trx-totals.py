"""Prints the totals of every TRX report under a directory as one line: 'N passed, N failed, N skipped'.
Exits 1 when no report or no executed test is found, so a run that ran nothing cannot look green."""
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/test-results")
passed = failed = skipped = 0
reports = sorted(root.rglob("*.trx"))
for report in reports:
    counters = ET.parse(report).getroot().find("t:ResultSummary/t:Counters", NS)
    if counters is None:
        continue
    total = int(counters.get("total", 0))
    executed = int(counters.get("executed", 0))
    p = int(counters.get("passed", 0))
    f = int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    passed += p
    failed += f
    skipped += max(0, total - executed) + int(counters.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
if not reports or passed + failed == 0:
    print(f"no test results found under {root}", file=sys.stderr)
    sys.exit(1)
