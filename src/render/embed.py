#!/usr/bin/env python3
"""embed.py SRC OUT NAME: OUT, a C file defining `const char NAME[]`, the bytes of SRC and a
terminating NUL (as numbers, so no string-literal length limit applies)."""
import sys


def main() -> None:
    src, out, name = sys.argv[1:4]
    data = open(src, "rb").read()
    body = ",".join(str(b) for b in data)
    with open(out, "w") as f:
        f.write(f"/* generated from {src.split('/')[-1]} by embed.py */\n")
        f.write(f"const char {name}[] = {{{body},0}};\n")


if __name__ == "__main__":
    main()
