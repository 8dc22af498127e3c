// The language server's wiring: one line per LSP method. Behaviour lives in the files it names.
import * as path from 'node:path';
import { createConnection, ProposedFeatures, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CompletionService } from '../completion-service';
import { ModelHost } from '../model-host';
import { statsRequest, statusNotification } from '../protocol';
import { provideInlineCompletion } from './inline-completion';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const log = (message: string): void => connection.console.log(`[${new Date().toISOString()}] ${message}`);
// dist/server.js sits next to models/ in the extension root.
const defaultModelDir = process.env['SPECTER_DEFAULT_MODEL'] ?? path.join(__dirname, '..', 'models', 'specter-tiny');
const host = new ModelHost(defaultModelDir, log, (status) => void connection.sendNotification(statusNotification, service.statusParams(status)));
const service = new CompletionService(host, log, (status) => void connection.sendNotification(statusNotification, status));

connection.onInitialize((params) => service.initialize(params.initializationOptions));
connection.onInitialized(() => void host.configure(service.settings));
connection.onDidChangeConfiguration((change) => void service.updateSettings(change.settings));
connection.languages.inlineCompletion.on((params, token) => provideInlineCompletion(documents, service, params, token));
connection.onRequest(statsRequest, () => service.stats());
connection.onShutdown(() => service.shutdown());
documents.onDidChangeContent((change) => service.documentChanged(change.document.uri, change.document.getText()));
documents.onDidOpen((event) => service.documentOpened(event.document.uri, event.document.languageId, event.document.getText()));
documents.onDidClose((event) => service.documentClosed(event.document.uri));

process.on('uncaughtException', (error) => log(`Uncaught exception (server keeps running): ${error.stack ?? String(error)}`));
process.on('unhandledRejection', (reason) => log(`Unhandled rejection (server keeps running): ${String(reason)}`));

documents.listen(connection);
connection.listen();
