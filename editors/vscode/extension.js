// Starts `sorchac lsp` for .sorcha files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("sorcha").get("server.path") || "sorchac";
  client = new LanguageClient(
    "sorcha",
    "Sorcha",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "sorcha" }] }
  );
  context.subscriptions.push(
    vscode.commands.registerCommand("sorchac.showObjects", async (uri, name) => {
      const yaml = await client.sendRequest("workspace/executeCommand", {
        command: "sorchac.showObjects",
        arguments: [uri, name],
      });
      const doc = await vscode.workspace.openTextDocument({ content: yaml, language: "yaml" });
      await vscode.window.showTextDocument(doc, { preview: true });
    })
  );
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
