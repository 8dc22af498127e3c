// The language server's wiring: one line per LSP method. Behaviour lives in the files it names.
import * as path from 'node:path';
import { createConnection, ProposedFeatures, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CompletionService } from '../completion-service';
import { ModelHost } from '../model-host';
import { didPartiallyAcceptNotification, didShowNotification, panelCompletionsRequest, panelProgressNotification, type PanelCompletionsParams, statsRequest, statusNotification, typingStatsRequest, type DidPartiallyAcceptParams, type DidShowParams } from '../protocol';
import { createTypingAccelerator } from '../typing';
import { provideInlineCompletion } from './inline-completion';
import { providePanelCompletions } from './panel-completions';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const log = (message: string): void => connection.console.log(`[${new Date().toISOString()}] ${message}`);
// dist/server.js sits next to models/ in the extension root.
const defaultModelDir = process.env['SPECTER_DEFAULT_MODEL'] ?? path.join(__dirname, '..', 'models', 'specter-tiny');
const host = new ModelHost(defaultModelDir, log, (status) => void connection.sendNotification(statusNotification, service.statusParams(status)));
const service = new CompletionService(host, log, (status) => void connection.sendNotification(statusNotification, status));
// Typing-through, completion cache, prefetch and idle unload sit in front of the service.
const typing = createTypingAccelerator(service, host, log);

connection.onInitialize((params) => typing.initialize(params.initializationOptions));
connection.onInitialized(() => void host.configure(service.settings));
connection.onRequest(panelCompletionsRequest, (params: PanelCompletionsParams, token) => providePanelCompletions(documents, service, params, token, (p) => void connection.sendNotification(panelProgressNotification, p)));
connection.onDidChangeConfiguration((change) => void typing.updateSettings(change.settings));
connection.languages.inlineCompletion.on((params, token) => provideInlineCompletion(documents, typing, params, token));
connection.onRequest(statsRequest, () => service.stats());
connection.onRequest(typingStatsRequest, () => typing.typingStats());
connection.onNotification(didShowNotification, (p: DidShowParams) => typing.didShow(p));
connection.onNotification(didPartiallyAcceptNotification, (p: DidPartiallyAcceptParams) => typing.didPartiallyAccept(p));
connection.onShutdown(() => typing.shutdown());
documents.onDidChangeContent((change) => typing.documentChanged(change.document.uri, change.document.getText()));
documents.onDidOpen((event) => service.documentOpened(event.document.uri, event.document.languageId, event.document.getText()));
documents.onDidClose((event) => service.documentClosed(event.document.uri));

process.on('uncaughtException', (error) => log(`Uncaught exception (server keeps running): ${error.stack ?? String(error)}`));
process.on('unhandledRejection', (reason) => log(`Unhandled rejection (server keeps running): ${String(reason)}`));

documents.listen(connection);
connection.listen();
