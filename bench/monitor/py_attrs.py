#!/usr/bin/python3
"""Attribute loads `expr.name` in the statements of function bodies of a Python file, for the dereference benchmark.

Prints JSON [{"line": L, "col": C, "name": N}] with 0-based line and the code-point column where the
name starts, only where the name directly follows the dot (`a.b`, not `a. b` or a wrapped chain).
"""
import ast, json, sys

src = open(sys.argv[1], encoding='utf-8').read()
lines = src.split('\n')
out = []
for fn in ast.walk(ast.parse(src)):
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        continue
    for node in (n for stmt in fn.body for n in ast.walk(stmt)):
        if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
            continue
        if node.end_lineno is None or node.end_col_offset is None:
            continue
        line = lines[node.end_lineno - 1]
        end = len(line.encode('utf-8')[:node.end_col_offset].decode('utf-8', 'replace'))
        start = end - len(node.attr)
        if start < 1 or line[start:end] != node.attr or line[start - 1] != '.':
            continue
        out.append({'line': node.end_lineno - 1, 'col': start, 'name': node.attr})
print(json.dumps(sorted({(d['line'], d['col']): d for d in out}.values(), key=lambda d: (d['line'], d['col']))))
