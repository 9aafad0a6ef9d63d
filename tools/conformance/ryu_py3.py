#!/usr/bin/env python3
"""Copy Ryu switch-test JSON files into a directory, ported to Python 3 (used by ryu-tester.ts).

Ryu's test files (ryu/tests/switch/of13/**.json) describe packets as Python 2 expressions that
os-ken's tester.py evaluates: payloads and TCP options are str literals ('\\x01\\x02',
str('\\x00' * 4)). Under Python 3 os-ken's Packet.serialize() calls bytes(str) and every such
file is refused ("string argument without an encoding"). This port changes only that: a str
literal that is a payload (a whole list element, the argument of str(), or the value of a
byte-valued keyword such as option=/data=) becomes the bytes literal with the same code points
(latin-1), and str(x) around a payload becomes x; a keyword whose value is itself a protocol
object (option=nd_option_sla(…)) is left alone. MAC and IP address strings stay str.

usage: ryu_py3.py SRC DST [SUBSTRING ...]
  SRC        a test file or a directory of them (searched recursively)
  DST        output directory (created); relative paths under SRC are kept
  SUBSTRING  keep only files whose path relative to SRC contains one of these
Prints one JSON line: {"files": N, "tests": N}.
"""
import ast
import json
import os
import sys

# keyword arguments of os-ken packet classes whose value is raw bytes
BYTES_KEYWORDS = {'option', 'data', 'payload', 'payload_data'}
PACKET_KEYS = ('ingress', 'egress', 'PACKET_IN')


def _literal(node):
    """A payload literal: a str constant, or str constants and integers combined by operators
    ('\x00' * (60 - 42)); anything else (str(netaddr.IPAddress(…))) is left alone."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, int))
    if isinstance(node, ast.BinOp):
        return _literal(node.left) and _literal(node.right)
    return False


def _str_of_literal(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'str'
            and len(node.args) == 1 and not node.keywords and _literal(node.args[0]))


class _ToBytes(ast.NodeTransformer):
    """Inside a payload expression: str constants → bytes, str(literal) → literal."""

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant(node.value.encode('latin-1')), node)
        return node

    def visit_Call(self, node):
        if _str_of_literal(node):
            return self.visit(node.args[0])
        return node  # a call that makes its own value (netaddr.EUI(…), randint(…)): not a payload


class _Port(ast.NodeTransformer):
    """A protocol expression: only its payload-valued parts are turned into bytes."""

    def visit_Call(self, node):
        if _str_of_literal(node):
            return _ToBytes().visit(node)
        node.args = [self.visit(a) for a in node.args]
        for kw in node.keywords:
            # option=nd_option_sla(hw_src='…') is a protocol object, not bytes
            raw = kw.arg in BYTES_KEYWORDS and (_literal(kw.value) or _str_of_literal(kw.value))
            kw.value = _ToBytes().visit(kw.value) if raw else self.visit(kw.value)
        return node


def port_expr(src):
    tree = ast.parse(src, mode='eval')
    body = tree.body
    if _literal(body) or _str_of_literal(body):
        body = _ToBytes().visit(body)  # a bare payload: '\x01\x02…', '\x00' * 18, str('\x11' * 1446)
    else:
        body = _Port().visit(body)
    tree.body = body
    text = ast.unparse(ast.fix_missing_locations(tree))
    # tester.py joins the elements with '/': b'\x00' * 18 must stay one operand
    return text if isinstance(body, (ast.Call, ast.Constant, ast.Name)) else f'({text})'


def port_packet_list(lst):
    return [port_expr(e) for e in lst]


def port_test(test):
    for t in test.get('tests', []):
        for k in PACKET_KEYS:
            if isinstance(t.get(k), list):
                t[k] = port_packet_list(t[k])
        ing = t.get('ingress')
        if isinstance(ing, dict) and isinstance(ing.get('packets', {}).get('data'), list):
            ing['packets']['data'] = port_packet_list(ing['packets']['data'])
    return test


def main(argv):
    if len(argv) < 3 or argv[1] in ('-h', '--help'):
        print(__doc__)
        return 0 if len(argv) >= 2 and argv[1] in ('-h', '--help') else 2
    src, dst, subs = argv[1], argv[2], argv[3:]
    files = []
    if os.path.isfile(src):
        files.append((src, os.path.basename(src)))
    else:
        for root, _dirs, names in os.walk(src):
            for n in sorted(names):
                if n.endswith('.json'):
                    full = os.path.join(root, n)
                    files.append((full, os.path.relpath(full, src)))
    n_files = n_tests = 0
    for full, rel in sorted(files, key=lambda f: f[1]):
        if subs and not any(s in rel for s in subs):
            continue
        with open(full, encoding='utf-8') as fh:
            doc = json.load(fh)
        out = [d if isinstance(d, str) else port_test(d) for d in doc]
        n_tests += sum(1 for d in out if not isinstance(d, str))
        target = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'w', encoding='utf-8') as fh:
            json.dump(out, fh, indent=1)
        n_files += 1
    print(json.dumps({'files': n_files, 'tests': n_tests}))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
