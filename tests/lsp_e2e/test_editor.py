"""`sorchac lsp` driven by a third-party LSP client (pytest-lsp, on pygls), as an editor
would: open the Sorcha example, wait for diagnostics, ask for hover, definition and
completion, and check the answers. `scripts/test` runs it with the binary it built."""

import os
import pathlib
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
SORCHAC = os.environ.get("SORCHAC_BIN", str(ROOT / "target" / "debug" / "sorchac"))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[SORCHAC, "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities())
    )
    yield
    await lsp_client.shutdown_session()


def position_of(text: str, needle: str, shift: int = 0) -> types.Position:
    at = text.index(needle)
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    col = len(text[start:at].encode("utf-16-le")) // 2
    return types.Position(line=line, character=col + shift)


async def open_doc(client: LanguageClient, path: pathlib.Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="sorcha", version=1, text=text
            )
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


async def test_the_sorcha_example_is_clean_and_answers(client: LanguageClient):
    path = ROOT / "examples" / "sorcha" / "services.sorcha"
    text = path.read_text()
    uri = await open_doc(client, path, text)
    assert list(client.diagnostics[uri]) == []

    at = position_of(text, "jwt-signing-key.key", 2)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at)
    )
    assert hover is not None and hover.contents.value.startswith("secret `jwt-signing-key`")

    found = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=at)
    )
    assert found is not None and found.uri.endswith("examples/sorcha/secrets.sorcha")

    calls = position_of(text, "calls", 0)
    items = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=calls.line, character=calls.character + len("calls = [")),
        )
    )
    labels = [i.label for i in (items.items if hasattr(items, "items") else items)]
    assert "postgres" in labels and "wallet-service" in labels


async def test_errors_are_reported_where_they_are(client: LanguageClient, tmp_path):
    path = tmp_path / "platform.sorcha"
    text = 'platform p {\n  namespace = "p"\n}\n\nservice api {\n  image = "api:1.0"\n  calls = [nowhere]\n}\n'
    path.write_text(text)
    uri = await open_doc(client, path, text)
    diags = client.diagnostics[uri]
    assert [d.code for d in diags] == ["E0101"]
    assert diags[0].range.start == position_of(text, "nowhere")
