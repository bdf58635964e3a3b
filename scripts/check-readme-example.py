#!/usr/bin/env python3
"""Fails unless the README's first ```swift block is exactly the example file.

The example file is an executable target that `make test` builds in release
and runs, so the README shows code that compiles and works.
"""
import sys


def first_swift_block(text: str) -> str:
    lines = text.splitlines()
    try:
        start = lines.index("```swift")
    except ValueError:
        sys.exit("check-readme-example: the README has no ```swift block")
    end = lines.index("```", start + 1)
    return "\n".join(lines[start + 1:end]) + "\n"


def main() -> None:
    readme, example = sys.argv[1], sys.argv[2]
    block = first_swift_block(open(readme, encoding="utf-8").read())
    code = open(example, encoding="utf-8").read()
    if block != code:
        import difflib
        diff = difflib.unified_diff(code.splitlines(), block.splitlines(), example, readme + " (first swift block)", lineterm="")
        print("\n".join(diff))
        sys.exit(f"check-readme-example: {readme}'s first swift block differs from {example}; make them identical")
    print(f"check-readme-example: {readme} shows {example} ({len(code.splitlines())} lines)")


if __name__ == "__main__":
    main()
