#!/usr/bin/env python3
"""Fails when a public symbol that Sock or SockBindings declares has no doc comment.

Reads the symbol graphs `swift package dump-symbol-graph` wrote. Symbols the
compiler synthesises (Hashable's hashValue, default implementations inherited
from standard protocols) have no source location and are not ours to document.
"""
import glob
import json
import os
import sys

MODULES = ("Sock", "SockBindings")


def main() -> None:
    directory = sys.argv[1]
    missing, checked = [], 0
    for path in sorted(glob.glob(os.path.join(directory, "*.symbols.json"))):
        name = os.path.basename(path).split(".symbols.json")[0]
        if name.split("@")[0] not in MODULES:
            continue
        for symbol in json.load(open(path, encoding="utf-8"))["symbols"]:
            if symbol.get("accessLevel") not in ("public", "open") or "location" not in symbol:
                continue
            checked += 1
            if not symbol.get("docComment", {}).get("lines"):
                where = symbol["location"]
                file = where["uri"].split("/Sources/")[-1]
                missing.append(f"Sources/{file}:{where['position']['line'] + 1}: {'.'.join(symbol['pathComponents'])}")
    for line in missing:
        print(f"check-doc-comments: no doc comment: {line}")
    if missing:
        sys.exit(f"check-doc-comments: {len(missing)} of {checked} public symbols have no doc comment")
    print(f"check-doc-comments: all {checked} public symbols of {', '.join(MODULES)} have a doc comment")


if __name__ == "__main__":
    main()
