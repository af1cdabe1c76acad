"""The TextMate grammar shipped for editors: valid JSON, every pattern compiles, and the
main constructs of an example get their scopes."""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRAMMAR = json.loads((ROOT / "editors" / "vscode" / "syntaxes" / "sorcha.tmLanguage.json").read_text())


def patterns(node):
    if isinstance(node, dict):
        for key in ("match", "begin", "end"):
            if key in node:
                yield node[key]
        for v in node.values():
            yield from patterns(v)
    elif isinstance(node, list):
        for v in node:
            yield from patterns(v)


def test_every_pattern_compiles():
    found = list(patterns(GRAMMAR))
    assert len(found) > 10
    for p in found:
        re.compile(p)


def test_the_main_constructs_are_recognised():
    repo = GRAMMAR["repository"]
    decl = re.compile(repo["declaration"]["match"])
    assert decl.match("service wallet-service : sorcha-api {").groups() == ("service", "wallet-service")
    assert re.compile(repo["numbers"]["match"]).search("cpu = 250m..1").group(0) == "250m..1"
    doc = repo["comments"]["patterns"][0]["match"]
    assert re.match(doc, "/// The wallet.")
    assert not re.match(doc, "//// not a doc comment")
    key = re.compile(repo["keys"]["match"])
    assert key.match("  port http = 8080").group(1) == "port"
    assert key.match("  scale { min = 1 }").group(1) == "scale"
