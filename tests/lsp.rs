//! The language server over its real transport: `sorchac lsp` as a child process,
//! JSON-RPC messages with `Content-Length` headers on stdin and stdout. Each test opens
//! documents, waits for diagnostics and asks questions, as an editor does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::io::BufReader;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

struct Server {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next: i64,
    /// Notifications seen while waiting for responses.
    notes: Vec<Value>,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sorchac"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Ok(Some(m)) = lsp_server::Message::read(&mut r) {
                if tx.send(serde_json::to_value(m).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut s = Server {
            child,
            stdin,
            rx,
            next: 1,
            notes: Vec::new(),
        };
        let caps = s.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert!(
            caps["capabilities"]["hoverProvider"] == json!(true),
            "{caps}"
        );
        s.notify("initialized", json!({}));
        s
    }

    fn send(&mut self, v: Value) {
        let m: lsp_server::Message = serde_json::from_value(v).unwrap();
        m.write(&mut self.stdin).unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.rx.recv_timeout(Duration::from_secs(20)).unwrap();
            if m["id"] == json!(id) {
                if let Some(e) = m.get("error") {
                    return json!({"error": e});
                }
                return m["result"].clone();
            }
            self.notes.push(m);
        }
    }

    /// The next diagnostics published for a document.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.notes.iter().position(|n| {
            n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
        }) {
            let n = self.notes.remove(i);
            return n["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.rx.recv_timeout(Duration::from_secs(20)).unwrap();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.notes.push(m);
        }
    }

    fn open(&mut self, path: &std::path::Path, text: &str) -> String {
        let uri = format!("file://{}", path.display());
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "sorcha", "version": 1, "text": text}}),
        );
        uri
    }

    fn stop(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success());
    }
}

fn pos(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

fn abs(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The (line, UTF-16 column) of the first occurrence of `needle` in `text`.
fn find(text: &str, needle: &str) -> (u32, u32) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let col: usize = text[start..at].chars().map(char::len_utf16).sum();
    (line as u32, col as u32)
}

#[test]
fn diagnostics_match_check_with_utf16_positions() {
    let dir = common::scratch("lsp-diag");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("platform.sorcha");
    // Non-ASCII text (outside the BMP, two UTF-16 units) before the error on its line.
    let text =
        "platform p {\n  namespace = \"p\"\n  labels { team = \"x\" } /* 😀 */ version = 5\n}\n";
    std::fs::write(&path, text).unwrap();
    let mut s = Server::start();
    let uri = s.open(&path, text);
    let diags = s.diagnostics(&uri);
    let check = Command::new(env!("CARGO_BIN_EXE_sorchac"))
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let expected = report["diagnostics"].as_array().unwrap();
    assert!(!expected.is_empty());
    assert_eq!(diags.len(), expected.len(), "{diags:?}\n{expected:?}");
    for (d, e) in diags.iter().zip(expected) {
        assert_eq!(d["code"], e["code"]);
        assert!(
            d["message"]
                .as_str()
                .unwrap()
                .starts_with(e["message"].as_str().unwrap())
        );
        assert_eq!(d["severity"], json!(1));
    }
    // `5` after the emoji: its UTF-16 column counts the emoji as two units.
    let (line, col) = find(text, "5\n");
    assert_eq!(
        diags[0]["range"]["start"],
        json!({"line": line, "character": col})
    );
    // A change that fixes it clears the diagnostics.
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 1}}, "text": "\"5\""}
        ]}),
    );
    assert_eq!(s.diagnostics(&uri), Vec::<Value>::new());
    s.stop();
}

#[test]
fn a_half_typed_file_never_stops_the_server() {
    let dir = common::scratch("lsp-half");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("platform.sorcha");
    let mut s = Server::start();
    let uri = s.open(&path, "platform p {\n");
    assert!(!s.diagnostics(&uri).is_empty());
    for (v, t) in [
        "platform p {\n  names",
        "\u{0}\u{1}{{{{",
        "service",
        "platform p { namespace = \"p\" }\nservice a { image = \"a:1\"  calls = [a.",
    ]
    .iter()
    .enumerate()
    {
        s.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v + 2}, "contentChanges": [{"text": t}]}),
        );
        s.diagnostics(&uri);
        let h = s.request("textDocument/hover", pos(&uri, 0, 3));
        assert!(h.get("error").is_none(), "{h}");
        for col in [40, 19, 20, 21, 22] {
            let c = s.request("textDocument/completion", pos(&uri, 1, col));
            assert!(c.get("error").is_none(), "{c}");
        }
    }
    s.stop();
}

/// The Sorcha example, opened from one of its imported files.
#[test]
fn names_resolve_across_the_files_of_a_program() {
    let path = abs("examples/sorcha/services.sorcha");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut s = Server::start();
    let uri = s.open(&path, &text);
    // Clean: the file is read as part of platform.sorcha's program.
    assert_eq!(s.diagnostics(&uri), Vec::<Value>::new());

    // Hover on a reference to a secret declared in another file.
    let (l, c) = find(&text, "jwt-signing-key");
    let h = s.request("textDocument/hover", pos(&uri, l, c + 2));
    let hover = h["contents"]["value"].as_str().unwrap_or("");
    assert!(hover.starts_with("secret `jwt-signing-key`"), "{h}");

    // Definition: in secrets.sorcha.
    let d = s.request("textDocument/definition", pos(&uri, l, c + 2));
    assert!(
        d["uri"]
            .as_str()
            .unwrap()
            .ends_with("examples/sorcha/secrets.sorcha"),
        "{d}"
    );

    // References: more than one use, the definition first.
    let r = s.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": {"line": l, "character": c + 2}, "context": {"includeDeclaration": true}}),
    );
    let refs = r.as_array().unwrap();
    assert!(refs.len() >= 2, "{r}");
    assert!(refs[0]["uri"].as_str().unwrap().ends_with("secrets.sorcha"));

    // Rename: every place, in both files.
    let e = s.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": l, "character": c + 2}, "newName": "jwt-key"}),
    );
    let changes = e["changes"].as_object().unwrap();
    let edits: usize = changes.values().map(|v| v.as_array().unwrap().len()).sum();
    assert_eq!(edits, refs.len(), "{e}");
    let bad = s.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": l, "character": c + 2}, "newName": "Not_A_Name"}),
    );
    assert!(bad.get("error").is_some(), "{bad}");

    // Outline.
    let sy = s.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = sy
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"wallet-service"), "{names:?}");

    // The objects of a declaration.
    let lens = s.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let first = &lens.as_array().unwrap()[0]["command"];
    let objects = s.request(
        "workspace/executeCommand",
        json!({"command": first["command"], "arguments": first["arguments"]}),
    );
    assert!(
        objects.as_str().unwrap().contains("kind: Deployment"),
        "{objects}"
    );
    s.stop();
}

#[test]
fn hover_explains_keys_and_units() {
    let dir = common::scratch("lsp-hover");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("platform.sorcha");
    let text = "platform p { namespace = \"p\" }\n\nservice api {\n  image = \"api:1.0\"\n  memory = 512Mi\n  cpu = 250m..1\n  port http = 8080\n}\n";
    std::fs::write(&path, text).unwrap();
    let mut s = Server::start();
    let uri = s.open(&path, text);
    s.diagnostics(&uri);
    let (l, c) = find(text, "512Mi");
    let h = s.request("textDocument/hover", pos(&uri, l, c + 1));
    assert_eq!(h["contents"]["value"], json!("`512Mi` = 536,870,912 bytes"));
    let (l, c) = find(text, "250m");
    let h = s.request("textDocument/hover", pos(&uri, l, c + 1));
    assert_eq!(
        h["contents"]["value"],
        json!("`250m` = 250 millicores (0.25 CPU)")
    );
    let (l, c) = find(text, "memory");
    let h = s.request("textDocument/hover", pos(&uri, l, c + 1));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**memory**"),
        "{h}"
    );
    s.stop();
}

#[test]
fn completion_offers_what_fits_where_the_cursor_is() {
    let dir = common::scratch("lsp-complete");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("platform.sorcha");
    let text = "use std.postgres\n\nplatform p { namespace = \"p\" }\n\nsecret db-auth { keys = [username, password]  from = deploy }\n\nconfig settings { LEVEL = \"info\" }\n\ndatabase db : std.postgres { credentials = db-auth }\n\nservice api {\n  image = \"api:1.0\"\n  port http = 8080\n  \n  calls = []\n  rotation = \n  env { A = db-auth. }\n}\n";
    std::fs::write(&path, text).unwrap();
    let labels = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    let mut s = Server::start();
    let uri = s.open(&path, text);
    s.diagnostics(&uri);
    // Keys of a service at the start of a line.
    let (l, _) = find(text, "  \n  calls");
    let keys = labels(&s.request("textDocument/completion", pos(&uri, l, 2)));
    assert!(
        keys.contains(&"replicas".to_string()) && keys.contains(&"ready".to_string()),
        "{keys:?}"
    );
    // Workloads in `calls`.
    let (l, c) = find(text, "calls = [");
    let targets = labels(&s.request("textDocument/completion", pos(&uri, l, c + 9)));
    assert!(
        targets.contains(&"db".to_string()) && !targets.contains(&"db-auth".to_string()),
        "{targets:?}"
    );
    // Secret keys after `secret.`.
    let (l, c) = find(text, "db-auth. }");
    let keys = labels(&s.request("textDocument/completion", pos(&uri, l, c + 8)));
    assert_eq!(keys, vec!["username", "password"]);
    // `use std.`
    let modules = labels(&s.request("textDocument/completion", pos(&uri, 0, 8)));
    assert!(modules.contains(&"postgres".to_string()) && modules.contains(&"redis".to_string()));
    s.stop();
}

#[test]
fn formatting_returns_the_canonical_layout() {
    let dir = common::scratch("lsp-fmt");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("platform.sorcha");
    let text = "platform p {\nnamespace=\"p\"\n}\n";
    let mut s = Server::start();
    let uri = s.open(&path, text);
    s.diagnostics(&uri);
    let edits = s.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(
        edits[0]["newText"],
        json!("platform p {\n  namespace = \"p\"\n}\n")
    );
    s.stop();
}

#[test]
fn a_change_refreshes_the_files_that_import_it() {
    // A copy of the Sorcha example, so that files can be changed on disk.
    let dir = common::scratch("lsp-import");
    std::fs::create_dir_all(dir.join("config")).unwrap();
    for f in [
        "platform.sorcha",
        "secrets.sorcha",
        "stores.sorcha",
        "services.sorcha",
    ] {
        std::fs::copy(abs(&format!("examples/sorcha/{f}")), dir.join(f)).unwrap();
    }
    std::fs::copy(
        abs("examples/sorcha/config/postgres-init.sql"),
        dir.join("config/postgres-init.sql"),
    )
    .unwrap();
    let mut s = Server::start();
    let services = dir.join("services.sorcha");
    let services_text = std::fs::read_to_string(&services).unwrap();
    let services_uri = s.open(&services, &services_text);
    assert_eq!(s.diagnostics(&services_uri), Vec::<Value>::new());
    let secrets = dir.join("secrets.sorcha");
    let text = std::fs::read_to_string(&secrets).unwrap();
    let secrets_uri = s.open(&secrets, &text);
    assert_eq!(s.diagnostics(&secrets_uri), Vec::<Value>::new());
    // Everything published so far is read: a request answered means all came before.
    s.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": secrets_uri}}),
    );
    s.notes.clear();
    // Renaming a secret in secrets.sorcha breaks its uses in services.sorcha.
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": secrets_uri, "version": 2}, "contentChanges": [
            {"text": text.replace("secret jwt-signing-key", "secret jwt-key")}
        ]}),
    );
    let broken = s.diagnostics(&services_uri);
    assert!(broken.iter().any(|d| d["code"] == "E0101"), "{broken:?}");
    s.stop();
}

#[test]
fn capabilities() {
    insta::assert_json_snapshot!(sorchac::lsp::capabilities());
}

mod random {
    use proptest::prelude::*;
    use serde_json::json;

    /// Text made of the language's pieces, often half typed.
    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("platform p { namespace = \"p\" }\n".to_string()),
            Just("service a {\n".to_string()),
            Just("  image = \"a:1\"\n".to_string()),
            Just("  port http = 8080\n".to_string()),
            Just("  calls = [b.".to_string()),
            Just("  env { X = s.".to_string()),
            Just("secret s { keys = [k]  from = deploy }\n".to_string()),
            Just("}\n".to_string()),
            Just("use std.".to_string()),
            Just("  scale { min = ".to_string()),
            Just("\"é😀".to_string()),
            Just("/* c */".to_string()),
            Just("${".to_string()),
            "[ -~]{0,12}".prop_map(|s| s),
        ];
        prop::collection::vec(piece, 0..14).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        #[test]
        fn no_text_and_no_position_breaks_an_answer(t in text(), line in 0u32..8, col in 0u32..40) {
            let mut s = sorchac::lsp::Session::new();
            let uri = format!("file:///nonexistent-sorchac-dir/{}.sorcha", line);
            s.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "sorcha", "version": 1, "text": t}}));
            let at = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col}});
            for m in ["textDocument/hover", "textDocument/completion", "textDocument/definition"] {
                let r = s.request(m, at.clone());
                prop_assert!(r.get("error").is_none(), "{m}: {r}");
            }
            let mut refs = at.clone();
            refs["context"] = json!({"includeDeclaration": true});
            prop_assert!(s.request("textDocument/references", refs).get("error").is_none());
            let doc = json!({"textDocument": {"uri": uri}});
            for m in ["textDocument/documentSymbol", "textDocument/codeLens"] {
                let r = s.request(m, doc.clone());
                prop_assert!(r.get("error").is_none(), "{m}: {r}");
            }
            let mut f = doc.clone();
            f["options"] = json!({"tabSize": 2, "insertSpaces": true});
            prop_assert!(s.request("textDocument/formatting", f).get("error").is_none());
            s.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
                {"range": {"start": {"line": line, "character": col}, "end": {"line": line + 1, "character": 0}}, "text": "x"}
            ]}));
        }
    }
}
