#!/usr/bin/env python3
"""Where the edge component's code bytes go, by crate and by module.

Reads a component built with its function names kept (bench/component-size.sh builds one),
finds its largest core module, and adds up each function body's size under its demangled
name's first path segments. Prints the code's total, the crates, the modules under
`doorman::app::waitlist`, and the largest functions.

    python3 bench/component_size.py path/to/doorman_edge.wasm [--top 30]
"""
import collections
import re
import sys


def leb(b, i):
    """An unsigned LEB128 at `i`: its value and the index after it."""
    value = shift = 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def sections(b, start):
    """The (id, body) of each section from `start` (after the preamble)."""
    i = start
    while i < len(b):
        sid = b[i]
        size, i = leb(b, i + 1)
        yield sid, b[i:i + size]
        i += size


def imported_functions(body):
    """How many functions an import section brings in (they come first in the index space)."""
    n, i = leb(body, 0)
    count = 0
    for _ in range(n):
        for _ in range(2):  # module and field names
            length, i = leb(body, i)
            i += length
        kind = body[i]
        i += 1
        if kind == 0:  # function: a type index
            _, i = leb(body, i)
            count += 1
        elif kind == 1:  # table: reftype, limits
            flags = body[i + 1]
            _, i = leb(body, i + 2)
            if flags & 1:
                _, i = leb(body, i)
        elif kind == 2:  # memory: limits
            flags = body[i]
            _, i = leb(body, i + 1)
            if flags & 1:
                _, i = leb(body, i)
        elif kind == 3:  # global: valtype, mutability
            i += 2
    return count


def function_names(body):
    """The name section's function names, by index."""
    length, i = leb(body, 0)
    if body[i:i + length] != b"name":
        return {}
    i += length
    names = {}
    while i < len(body):
        sub = body[i]
        size, i = leb(body, i + 1)
        end = i + size
        if sub == 1:
            n, j = leb(body, i)
            for _ in range(n):
                idx, j = leb(body, j)
                length, j = leb(body, j)
                names[idx] = body[j:j + length].decode("utf8", "replace")
                j += length
        i = end
    return names


def demangle(name):
    """A legacy-mangled Rust symbol as a path, hash left out."""
    m = re.match(r"_ZN(.*)E$", name)
    if not m:
        return name
    rest, parts = m.group(1), []
    while rest and rest[0].isdigit():
        j = 0
        while rest[j].isdigit():
            j += 1
        length = int(rest[:j])
        parts.append(rest[j:j + length])
        rest = rest[j + length:]
    parts = [p for p in parts if not re.match(r"^h[0-9a-f]{16}$", p)]
    path = "::".join(parts)
    for code, char in [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$C$", ","), ("$RF$", "&"), ("..", "::")]:
        path = path.replace(code, char)
    return path


def main():
    path = sys.argv[1]
    top_n = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 30
    data = open(path, "rb").read()
    module = max((body for sid, body in sections(data, 8) if sid == 1), key=len)
    imports, code, names = 0, b"", {}
    for sid, body in sections(module, 8):
        if sid == 2:
            imports = imported_functions(body)
        elif sid == 10:
            code = body
        elif sid == 0:
            names.update(function_names(body))
    n, i = leb(code, 0)
    functions = []
    for k in range(n):
        size, i = leb(code, i)
        functions.append((size, demangle(names.get(imports + k, "?"))))
        i += size
    total = sum(size for size, _ in functions)
    print(f"{path}: {len(data):,} bytes, of which function bodies {total:,} ({n:,} functions)")
    by_crate, by_module = collections.Counter(), collections.Counter()
    for size, name in functions:
        plain = re.sub(r"^(?:_<|<|&mut |&)+", "", name)
        by_crate[plain.split("::")[0]] += size
        m = re.search(r"doorman::app::waitlist::((?:web::|usecases::offers::|usecases::)?[a-z_]+)", name)
        if m:
            page = re.search(r"for doorman::app::waitlist::pages::([A-Za-z]+)>", name)
            by_module["pages::" + page.group(1) if page else m.group(1)] += size
    print("\nby crate:")
    for crate, size in by_crate.most_common(top_n):
        print(f"{size:>10,}  {crate}")
    print("\nunder doorman::app::waitlist (async handlers inline the use cases they await):")
    for module_name, size in by_module.most_common(top_n):
        print(f"{size:>10,}  {module_name}")
    print("\nlargest functions:")
    for size, name in sorted(functions, reverse=True)[:top_n]:
        print(f"{size:>10,}  {name[:140]}")


if __name__ == "__main__":
    main()
