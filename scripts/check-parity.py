#!/usr/bin/env python3
"""Checks the Go parity table (Sources/Sock/Sock.docc/GoParity.md).

- every symbol of ../shared/seed/api-index.txt (or --index) has exactly one row,
  whose first cell is the Go symbol exactly as written there;
- the second cell is a Swift symbol that exists in the public symbol graph of
  Sock / SockBindings (`swift package dump-symbol-graph`), or `n/a: <reason>`;
- at most 25 rows are n/a.
Usage: check-parity.py --table FILE --index FILE --symbol-graphs DIR
"""
import argparse, json, os, re, sys

parser = argparse.ArgumentParser()
parser.add_argument("--table", required=True)
parser.add_argument("--index")
parser.add_argument("--symbol-graphs", required=True)
args = parser.parse_args()

symbols = set()
for name in os.listdir(args.symbol_graphs):
    if not name.endswith(".symbols.json") or not (name.startswith("Sock.") or name.startswith("SockBindings.") or name.startswith("Sock@")):
        continue
    with open(os.path.join(args.symbol_graphs, name)) as f:
        graph = json.load(f)
    for symbol in graph["symbols"]:
        path = symbol.get("pathComponents", [])
        if path:
            symbols.add(".".join(path))
            # also without argument labels: TCPConn.read
            symbols.add(".".join(re.sub(r"\(.*\)$", "", p) for p in path))

rows = {}
problems = []
not_applicable = 0
with open(args.table) as f:
    for number, line in enumerate(f, 1):
        if not line.startswith("|") or line.startswith("|---") or line.startswith("| Go"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            problems.append(f"{args.table}:{number}: expected at least two cells")
            continue
        go, swift = cells[0].strip("`"), cells[1]
        if go in rows:
            problems.append(f"{args.table}:{number}: {go} appears twice")
        rows[go] = swift
        if swift.startswith("n/a:"):
            not_applicable += 1
            if len(swift) < 10:
                problems.append(f"{args.table}:{number}: {go}: n/a needs a reason")
            continue
        names = re.findall(r"`([^`]+)`", swift)
        if not names:
            problems.append(f"{args.table}:{number}: {go}: second cell names no Swift symbol in backticks")
        for name in names:
            if name not in symbols:
                problems.append(f"{args.table}:{number}: {go}: Swift symbol `{name}` does not exist")

if args.index:
    with open(args.index) as f:
        index = [line.split(None, 1)[1].strip() for line in f if line.strip()]
    for go in index:
        if go not in rows:
            problems.append(f"{args.table}: no row for {go}")
    for go in rows:
        if go not in index:
            problems.append(f"{args.table}: {go} is not in {args.index}")
if not_applicable > 25:
    problems.append(f"{args.table}: {not_applicable} rows are n/a (at most 25)")

for problem in problems:
    print(problem)
print(f"parity: {len(rows)} rows, {not_applicable} n/a, {len(problems)} problems")
sys.exit(1 if problems else 0)
