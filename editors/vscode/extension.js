// Starts `symdl lsp` (stdio) for .sdl files: diagnostics, hover, definition, completion, formatting.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("symdl").get("server.command", ["symdl", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("symdl", "symdl language server", server, {
    documentSelector: [{ scheme: "file", language: "symdl" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
