//! After an edit, the language server checks again only the declarations the edit
//! reached and reuses the rest of its last check (`sorchac::compile_after`). What it
//! gets must be exactly what checking from scratch gives: the same diagnostics, the same
//! references and the same models, edit after edit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use proptest::prelude::*;
use sorchac::Compilation;
use sorchac::cli::FsLoader;
use sorchac::resolve::{Loader, MemoryLoader};
use sorchac::syntax::ParseCache;

/// What a compilation says, as text to compare.
fn summary(c: &Compilation) -> String {
    let mut out = format!("{:#?}\n{:#?}\n", c.diagnostics, c.checked.references);
    for m in std::iter::once(&c.checked.base).chain(&c.checked.envs) {
        out.push_str(&format!(
            "{}: {:#?} {:#?} {:#?} {:#?} {:#?}\n",
            m.env, m.platform, m.workloads, m.secrets, m.configs, m.gateways
        ));
    }
    out
}

/// What a compilation says but for its name uses, which only the language server
/// gathers.
fn outcome(c: &Compilation) -> String {
    let mut out = format!("{:#?}\n", c.diagnostics);
    for m in std::iter::once(&c.checked.base).chain(&c.checked.envs) {
        out.push_str(&format!(
            "{}: {:#?} {:#?} {:#?} {:#?} {:#?}\n",
            m.env, m.platform, m.workloads, m.secrets, m.configs, m.gateways
        ));
    }
    out
}

/// `sorchac check` re-checks what an environment patches taking the entries it left as
/// they were from the base check; the language server evaluates every entry of what it
/// checks. Each text of the file at `path` must come out the same both ways.
fn env_rechecks_hold(root: &str, path: &str, texts: &[String]) -> Result<(), TestCaseError> {
    for text in texts {
        let loader = Edited {
            path,
            text,
            on_disk: root != "platform.sorcha",
            parsed: None,
        };
        let taken = sorchac::compile(root, &loader).unwrap();
        let evaluated = sorchac::compile_after(root, &loader, None).unwrap();
        prop_assert_eq!(outcome(&taken), outcome(&evaluated));
    }
    Ok(())
}

/// A program with one file's text replaced: the others read from the disk, or none
/// when the program is that one file held in memory.
struct Edited<'a> {
    path: &'a str,
    text: &'a str,
    on_disk: bool,
    /// Kept syntax trees, as the language server keeps them.
    parsed: Option<&'a ParseCache>,
}

impl Loader for Edited<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        if path == self.path {
            Ok(self.text.as_bytes().to_vec())
        } else if self.on_disk {
            FsLoader.read(path)
        } else {
            MemoryLoader::new().read(path)
        }
    }

    fn parse_cache(&self) -> Option<&ParseCache> {
        self.parsed
    }
}

/// Checks each text of the file at `path` in turn, reusing the last check and the
/// kept syntax trees (each copied between edits most of the time, as the server does),
/// and compares with a fresh check.
fn holds(root: &str, path: &str, texts: &[String]) -> Result<(), TestCaseError> {
    let mut prev: Option<Compilation> = None;
    let cache = ParseCache::default();
    for (i, text) in texts.iter().enumerate() {
        let on_disk = root != "platform.sorcha";
        let kept = Edited {
            path,
            text,
            on_disk,
            parsed: Some(&cache),
        };
        let after = sorchac::compile_after(root, &kept, prev.as_ref()).unwrap();
        let fresh = sorchac::compile_after(
            root,
            &Edited {
                parsed: None,
                ..kept
            },
            None,
        )
        .unwrap();
        prop_assert_eq!(summary(&after), summary(&fresh));
        if i % 2 == 0 {
            cache.prepare();
        }
        if i % 3 != 2
            && let Some(m) = &after.memo
        {
            m.prepare();
        }
        prev = Some(after);
    }
    Ok(())
}

/// The kind of edit a person makes while typing: one character of a word or number
/// changed, a character added, or one taken away.
fn keystrokes(text: String, n: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            0u8..3,
            prop::sample::select(vec!['0', '1', '7', 'a', 'x', '-', '"', '}', ' ']),
        ),
        1..n,
    )
    .prop_map(move |edits| {
        let mut out = vec![text.clone()];
        let mut cur: Vec<char> = text.chars().collect();
        for (at, op, c) in edits {
            // Mostly inside words and numbers, where typing happens.
            let spots: Vec<usize> = (0..cur.len())
                .filter(|i| cur[*i].is_ascii_alphanumeric())
                .collect();
            let i = if spots.is_empty() {
                at.index(cur.len() + 1)
            } else {
                spots[at.index(spots.len())]
            };
            match op {
                0 if i < cur.len() => cur[i] = c,
                1 => cur.insert(i.min(cur.len()), c),
                _ if i < cur.len() => {
                    cur.remove(i);
                }
                _ => cur.push(c),
            }
            out.push(cur.iter().collect());
        }
        out
    })
}

/// Typing: a run of characters inserted one after another at one place, some of them
/// then taken back one by one, and a character replaced back and forth — the edits whose
/// effect the server foresees and prepares for.
fn typing(text: String) -> impl Strategy<Value = Vec<String>> {
    (
        any::<prop::sample::Index>(),
        1usize..6,
        0usize..4,
        any::<bool>(),
    )
        .prop_map(move |(at, typed, erased, replace)| {
            let mut cur: Vec<char> = text.chars().collect();
            let spots: Vec<usize> = (0..cur.len())
                .filter(|i| cur[*i].is_ascii_alphanumeric())
                .collect();
            let i = spots[at.index(spots.len())];
            let mut out = vec![text.clone()];
            if replace {
                let was = cur[i];
                for c in ['7', was, '7', was] {
                    cur[i] = c;
                    out.push(cur.iter().collect());
                }
            }
            for k in 0..typed {
                cur.insert(i + k, 'x');
                out.push(cur.iter().collect());
            }
            for k in 0..erased.min(typed) {
                cur.remove(i + typed - 1 - k);
                out.push(cur.iter().collect());
            }
            out
        })
}

fn synthetic() -> String {
    sorchac::synth::platform(40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A platform with environments that override scaling and storage.
    #[test]
    fn synthetic_platform(texts in keystrokes(synthetic(), 6)) {
        holds("platform.sorcha", "platform.sorcha", &texts)?;
    }

    /// Typing in the synthetic platform and in the Sorcha example.
    #[test]
    fn typing_runs(texts in typing(synthetic())) {
        holds("platform.sorcha", "platform.sorcha", &texts)?;
    }

    #[test]
    fn typing_in_the_sorcha_example(texts in typing(
        std::fs::read_to_string("examples/sorcha/services.sorcha").unwrap())) {
        holds("examples/sorcha/platform.sorcha", "examples/sorcha/services.sorcha", &texts)?;
    }

    /// The Sorcha example: templates from the standard library, imports, file reads;
    /// the services file edited.
    #[test]
    fn sorcha_example(texts in keystrokes(
        std::fs::read_to_string("examples/sorcha/services.sorcha").unwrap(), 6)) {
        holds("examples/sorcha/platform.sorcha", "examples/sorcha/services.sorcha", &texts)?;
    }

    /// The language's own examples: templates in the same file as what uses them.
    #[test]
    fn spec_examples(texts in keystrokes(
        std::fs::read_to_string("tests/spec/platform.sorcha").unwrap(), 6)) {
        holds("tests/spec/platform.sorcha", "tests/spec/platform.sorcha", &texts)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Environments that override scaling and storage, their overrides and what they
    /// override edited.
    #[test]
    fn an_environment_takes_what_it_did_not_patch_in_the_synthetic_platform(
        texts in keystrokes(synthetic(), 4)) {
        env_rechecks_hold("platform.sorcha", "platform.sorcha", &texts)?;
    }

    /// Environments that patch the platform, gateways, services' scaling and stores'
    /// backups; their overrides edited.
    #[test]
    fn an_environment_takes_what_it_did_not_patch_in_the_sorcha_example(texts in keystrokes(
        std::fs::read_to_string("examples/sorcha/platform.sorcha").unwrap(), 4)) {
        env_rechecks_hold("examples/sorcha/platform.sorcha", "examples/sorcha/platform.sorcha", &texts)?;
    }

    /// The services the environments patch, made from templates with parameters,
    /// edited.
    #[test]
    fn an_environment_takes_what_it_did_not_patch_of_templated_services(texts in keystrokes(
        std::fs::read_to_string("examples/sorcha/services.sorcha").unwrap(), 4)) {
        env_rechecks_hold("examples/sorcha/platform.sorcha", "examples/sorcha/services.sorcha", &texts)?;
    }
}

/// Every program of the suite, and the fixtures written to break an environment's
/// overrides, come out the same whether an environment's re-check takes what it did not
/// patch from the base check or evaluates it again.
#[test]
fn every_program_comes_out_the_same_with_entries_taken_from_the_base() {
    let mut programs: Vec<String> = vec![
        "examples/sorcha/platform.sorcha".into(),
        "examples/three-tier/platform.sorcha".into(),
        "examples/queue-worker/platform.sorcha".into(),
        "tests/spec/platform.sorcha".into(),
    ];
    programs.extend(common::sorcha_files(&["tests/ui", "tests/emit"]));
    let mut with_envs = 0;
    for program in &programs {
        let taken = sorchac::compile(program, &FsLoader).unwrap();
        let evaluated = sorchac::compile_after(program, &FsLoader, None).unwrap();
        assert_eq!(outcome(&taken), outcome(&evaluated), "{program}");
        with_envs += usize::from(!taken.program.envs.is_empty());
    }
    assert!(
        with_envs >= 10,
        "only {with_envs} programs have environments"
    );
    for text in [sorchac::synth::platform(120), OVERRIDES.to_string()] {
        let loader = MemoryLoader::new().with("platform.sorcha", text.as_str());
        assert_eq!(
            outcome(&sorchac::compile("platform.sorcha", &loader).unwrap()),
            outcome(&sorchac::compile_after("platform.sorcha", &loader, None).unwrap())
        );
    }
}

/// Environments that change what a patched declaration's other entries read or what
/// they are held to: a template parameter, its own ports, the keys of a secret it
/// refers to, the calls its addresses need, and a reference in one binding that another
/// environment leaves alone.
const OVERRIDES: &str = r#"platform shop { }

secret jwt { keys = [key]  from = deploy }

template web for service {
  param version: string = "1.0"
  image = "shop/web:${version}"
  port http = 8080
  ready = http("/health")
  env { VERSION = version }
}

service api : web {
  cpu = 250m..1
  scale { min = 2  max = 4 }
  env { KEY = jwt.key  PEER = worker.host  OWN = api.port.http }
  calls = [front]
}

service front : web {
  version = "2.0"
  cpu = 250m..1
  env { API = api.address }
  calls = [api]
}

service worker {
  image = "shop/worker:1"
  env { FRONT = front.address }
  calls = [front]
}

env prod {
  api.scale { max = 20 }
  api.port.http = 9090
  jwt.keys = [key, old]
  front.version = "4.0"
}

env staging {
  api.version = "3.0"
}

env dev {
  jwt.keys = [token]
  api.cpu = 100m..500m
  front.calls = []
  front.cpu = 100m..500m
  worker.env.FRONT = api.address
}
"#;

/// Most keystrokes reach one declaration: everything else is reused, and the result is
/// still that of a fresh check.
#[test]
fn an_edit_inside_one_declaration_is_checked_alone() {
    let text = sorchac::synth::platform(40);
    let root = "platform.sorcha";
    let at = text.find("= 8080").unwrap() + 5;
    let edited = format!("{}1{}", &text[..at], &text[at + 1..]);
    let first =
        sorchac::compile_after(root, &MemoryLoader::new().with(root, text.as_str()), None).unwrap();
    let loader = MemoryLoader::new().with(root, edited.as_str());
    let after = sorchac::compile_after(root, &loader, Some(&first)).unwrap();
    let plan =
        sorchac::check::Reuse::plan(&first.program, first.memo.as_ref().unwrap(), &after.program)
            .expect("an edit inside a service can reuse the last check");
    assert_eq!(plan.changed().len(), 1, "one declaration changed");
    assert_eq!(
        summary(&after),
        summary(&sorchac::compile_after(root, &loader, None).unwrap())
    );
}
