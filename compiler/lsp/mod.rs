//! `sorchac lsp`: the language server, over stdio (LSP 3.17). Diagnostics on open and on
//! every change (full or incremental sync), the same as `sorchac check`; hover, go to
//! definition, references, rename, completion, document symbols, formatting, and a code
//! lens that shows the Kubernetes objects a declaration compiles to.

mod features;
mod world;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeLensRequest, Completion, DocumentSymbolRequest, ExecuteCommand, Formatting, GotoDefinition,
    HoverRequest, References, Rename, Request as _,
};
use lsp_types::{self as lsp};
use serde_json::Value;

use world::{Doc, World, path_of};

/// Runs the server on stdin and stdout until the client says exit; the exit code.
pub fn run() -> u8 {
    let (connection, threads) = Connection::stdio();
    let code = match serve(&connection) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sorchac lsp: {e}");
            1
        }
    };
    drop(connection);
    let _ = threads.join();
    code
}

pub fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..lsp::TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "=".into(), " ".into()]),
            ..lsp::CompletionOptions::default()
        }),
        code_lens_provider: Some(lsp::CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: vec![features::SHOW_OBJECTS.into()],
            ..lsp::ExecuteCommandOptions::default()
        }),
        ..lsp::ServerCapabilities::default()
    }
}

fn serve(connection: &Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let init = serde_json::json!({
        "capabilities": caps,
        "serverInfo": {"name": "sorchac", "version": env!("CARGO_PKG_VERSION")},
    });
    let (id, _) = connection
        .initialize_start()
        .map_err(|e| format!("initialize: {e}"))?;
    connection
        .initialize_finish(id, init)
        .map_err(|e| format!("initialize: {e}"))?;
    let mut world = World::default();
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let resp = request(&mut world, req);
                send(connection, Message::Response(resp))?;
            }
            Message::Notification(n) => {
                for p in notification(&mut world, n) {
                    let note = Notification::new(PublishDiagnostics::METHOD.to_string(), p);
                    send(connection, Message::Notification(note))?;
                }
                world.between_edits();
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// The server without its transport, for tests and embedding: notifications in (the
/// diagnostics they publish out), requests in, answers out.
#[derive(Default)]
pub struct Session {
    world: World,
    next: i32,
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// A notification; the `publishDiagnostics` parameters it produces.
    pub fn notify(&mut self, method: &str, params: Value) -> Vec<Value> {
        let out = notification(
            &mut self.world,
            Notification::new(method.to_string(), params),
        )
        .into_iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
        self.world.between_edits();
        out
    }

    /// A request; its result, or `{"error": …}`.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let r = request(
            &mut self.world,
            Request::new(RequestId::from(self.next), method.to_string(), params),
        );
        match r.error {
            Some(e) => serde_json::json!({"error": e.message}),
            None => r.result.unwrap_or(Value::Null),
        }
    }
}

fn send(c: &Connection, m: Message) -> Result<(), String> {
    c.sender.send(m).map_err(|e| e.to_string())
}

fn params<T: serde::de::DeserializeOwned>(v: Value) -> Option<T> {
    serde_json::from_value(v).ok()
}

fn notification(w: &mut World, n: Notification) -> Vec<lsp::PublishDiagnosticsParams> {
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let Some(p) = params::<lsp::DidOpenTextDocumentParams>(n.params) else {
                return Vec::new();
            };
            let Some(path) = path_of(&p.text_document.uri) else {
                return Vec::new();
            };
            w.docs.insert(
                path.clone(),
                Doc {
                    text: p.text_document.text,
                    version: p.text_document.version,
                },
            );
            w.changed(&path)
        }
        DidChangeTextDocument::METHOD => {
            let Some(p) = params::<lsp::DidChangeTextDocumentParams>(n.params) else {
                return Vec::new();
            };
            let Some(path) = path_of(&p.text_document.uri) else {
                return Vec::new();
            };
            let Some(doc) = w.docs.get_mut(&path) else {
                return Vec::new();
            };
            for change in p.content_changes {
                apply(&mut doc.text, change);
            }
            doc.version = p.text_document.version;
            w.changed(&path)
        }
        DidSaveTextDocument::METHOD => {
            let Some(p) = params::<lsp::DidSaveTextDocumentParams>(n.params) else {
                return Vec::new();
            };
            path_of(&p.text_document.uri).map_or_else(Vec::new, |path| w.changed(&path))
        }
        DidCloseTextDocument::METHOD => {
            let Some(p) = params::<lsp::DidCloseTextDocumentParams>(n.params) else {
                return Vec::new();
            };
            path_of(&p.text_document.uri).map_or_else(Vec::new, |path| w.closed(&path))
        }
        _ => Vec::new(),
    }
}

/// Applies one change: a range replaced, or the whole text.
fn apply(text: &mut String, change: lsp::TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(r) => {
            use crate::source::offset_of_utf16;
            let start = offset_of_utf16(text, r.start.line, r.start.character);
            let end = offset_of_utf16(text, r.end.line, r.end.character).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

fn ok<T: serde::Serialize>(id: RequestId, v: T) -> Response {
    match serde_json::to_value(v) {
        Ok(v) => Response::new_ok(id, v),
        Err(e) => Response::new_err(id, ErrorCode::InternalError as i32, e.to_string()),
    }
}

fn bad(id: RequestId, message: &str) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, message.to_string())
}

/// The document of a request: its path and text.
fn doc(w: &World, uri: &lsp::Url) -> Option<(String, String)> {
    let path = path_of(uri)?;
    let text = w.docs.get(&path)?.text.clone();
    Some((path, text))
}

fn request(w: &mut World, req: Request) -> Response {
    let id = req.id.clone();
    match req.method.as_str() {
        HoverRequest::METHOD => {
            let Some(p) = params::<lsp::HoverParams>(req.params) else {
                return bad(id, "hover: bad parameters");
            };
            let pos = p.text_document_position_params;
            let Some((path, text)) = doc(w, &pos.text_document.uri) else {
                return ok(id, Value::Null);
            };
            ok(
                id,
                features::hover(w, &path, &text, pos.position.line, pos.position.character),
            )
        }
        GotoDefinition::METHOD => {
            let Some(p) = params::<lsp::GotoDefinitionParams>(req.params) else {
                return bad(id, "definition: bad parameters");
            };
            let pos = p.text_document_position_params;
            let found =
                at_position(w, &pos).and_then(|(a, sid, off)| features::definition(a, sid, off));
            ok(id, found.map(lsp::GotoDefinitionResponse::Scalar))
        }
        References::METHOD => {
            let Some(p) = params::<lsp::ReferenceParams>(req.params) else {
                return bad(id, "references: bad parameters");
            };
            let found = at_position(w, &p.text_document_position).map(|(a, sid, off)| {
                features::references(a, sid, off, p.context.include_declaration)
            });
            ok(id, found.unwrap_or_default())
        }
        Rename::METHOD => {
            let Some(p) = params::<lsp::RenameParams>(req.params) else {
                return bad(id, "rename: bad parameters");
            };
            match at_position(w, &p.text_document_position) {
                Some((a, sid, off)) => match features::rename(a, sid, off, &p.new_name) {
                    Ok(edit) => ok(id, edit),
                    Err(m) => Response::new_err(id, ErrorCode::RequestFailed as i32, m),
                },
                None => ok(id, Value::Null),
            }
        }
        Completion::METHOD => {
            let Some(p) = params::<lsp::CompletionParams>(req.params) else {
                return bad(id, "completion: bad parameters");
            };
            let pos = p.text_document_position;
            let Some((path, text)) = doc(w, &pos.text_document.uri) else {
                return ok(id, Value::Null);
            };
            let items =
                features::completion(w, &path, &text, pos.position.line, pos.position.character);
            ok(id, lsp::CompletionResponse::Array(items))
        }
        DocumentSymbolRequest::METHOD => {
            let Some(p) = params::<lsp::DocumentSymbolParams>(req.params) else {
                return bad(id, "documentSymbol: bad parameters");
            };
            let Some((path, text)) = doc(w, &p.text_document.uri) else {
                return ok(id, Value::Null);
            };
            ok(
                id,
                lsp::DocumentSymbolResponse::Nested(features::symbols(&path, &text)),
            )
        }
        Formatting::METHOD => {
            let Some(p) = params::<lsp::DocumentFormattingParams>(req.params) else {
                return bad(id, "formatting: bad parameters");
            };
            let Some((_, text)) = doc(w, &p.text_document.uri) else {
                return ok(id, Value::Null);
            };
            ok(id, features::formatting(&text))
        }
        CodeLensRequest::METHOD => {
            let Some(p) = params::<lsp::CodeLensParams>(req.params) else {
                return bad(id, "codeLens: bad parameters");
            };
            let Some((path, text)) = doc(w, &p.text_document.uri) else {
                return ok(id, Value::Null);
            };
            ok(id, features::code_lenses(&path, &text))
        }
        ExecuteCommand::METHOD => {
            let Some(p) = params::<lsp::ExecuteCommandParams>(req.params) else {
                return bad(id, "executeCommand: bad parameters");
            };
            if p.command != features::SHOW_OBJECTS {
                return bad(id, "unknown command");
            }
            let args: Vec<String> = p
                .arguments
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            let (Some(uri), Some(name)) = (args.first(), args.get(1)) else {
                return bad(
                    id,
                    "sorchac.showObjects takes a document and a declaration name",
                );
            };
            let analysis = lsp::Url::parse(uri)
                .ok()
                .and_then(|u| path_of(&u))
                .and_then(|p| w.analysis(&p));
            match analysis.map(|a| features::show_objects(a, name)) {
                Some(Ok(yaml)) => ok(id, yaml),
                Some(Err(m)) => Response::new_err(id, ErrorCode::RequestFailed as i32, m),
                None => bad(id, "the document is not open"),
            }
        }
        _ => Response::new_err(
            id,
            ErrorCode::MethodNotFound as i32,
            format!("`{}` is not supported", req.method),
        ),
    }
}

/// The analysis, file and offset of a position.
fn at_position<'w>(
    w: &'w World,
    pos: &lsp::TextDocumentPositionParams,
) -> Option<(&'w world::Analysis, crate::source::SourceId, usize)> {
    let path = path_of(&pos.text_document.uri)?;
    let a = w.analysis(&path)?;
    let (sid, file) = a.source(&path)?;
    Some((
        a,
        sid,
        file.offset_of_utf16(pos.position.line, pos.position.character),
    ))
}
