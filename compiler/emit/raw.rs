//! The raw target: `raw/<env>/`, one directory of plain manifests per environment, one
//! file per workload, gateway and config, plus the namespace and the platform's own.
//!
//! Environments mostly differ in a few declarations: most objects of one are the
//! objects of another but for the namespace and the instance label. When every
//! environment is built, each object is printed once for all the environments it is the
//! same in (see [`Form`]), and each environment's text is made from that print.

use std::borrow::Borrow;

use super::{EmitError, OutFile, fastyaml, header, yaml};
use crate::check::Model;
use crate::ir::labels::{self as l, Cx};
use crate::ir::{self, Group, Object, Objects, Source};

/// The files of one environment, under `raw/<env>/`.
pub fn files(objects: &Objects) -> Result<Vec<OutFile>, EmitError> {
    let runs = crate::par::runs(&objects.groups, |_, run| print(&objects.env, run.iter()));
    Ok(gathered(runs)?.0)
}

/// The files of every environment lowered from its model one group at a time, each
/// group dropped once it is printed, with the number of objects they hold: the same
/// files as [`files`] of each environment's objects, without ever holding them all.
pub fn files_of(models: &[&Model]) -> Result<(Vec<OutFile>, usize), EmitError> {
    let cxs = Cx::each(models);
    files_in(&cxs)
}

/// The same, with the environments' lowering contexts already made.
pub fn files_in(cxs: &[Cx]) -> Result<(Vec<OutFile>, usize), EmitError> {
    gathered(each_run(cxs, |printed| printed))
}

/// Like [`files_in`], handing each run's files to `put` on the thread that made them
/// instead of gathering them (in no particular order); the number of objects.
pub fn put_in<E: From<EmitError> + Send>(
    cxs: &[Cx],
    put: impl Fn(Vec<OutFile>) -> Result<(), E> + Sync,
) -> Result<usize, E> {
    each_run(cxs, |printed| {
        let (files, objects) = printed?;
        put(files)?;
        Ok(objects)
    })
    .into_iter()
    .sum()
}

/// The environments' groups lowered and printed a run of sources at a time on all
/// cores, each source in every environment before the next; the files (with the number
/// of objects they hold) are handed to `then` a batch at a time, where they were made.
fn each_run<R: Send>(
    cxs: &[Cx],
    then: impl Fn(Result<(Vec<OutFile>, usize), EmitError>) -> R + Sync,
) -> Vec<R> {
    let sources = ir::sources_of(cxs.iter().map(|cx| cx.m));
    // One environment alone has nothing to share its prints with.
    let ids: Vec<Option<Identity>> = match cxs.len() {
        0 | 1 => cxs.iter().map(|_| None).collect(),
        _ => cxs.iter().map(Identity::of).collect(),
    };
    crate::par::runs(&sources, |_, run| {
        let mut out = Vec::new();
        let mut files = Vec::new();
        let mut objects = 0;
        for src in run {
            match shared(cxs, &ids, *src) {
                Ok((f, n)) => {
                    files.extend(f);
                    objects += n;
                }
                Err(e) => {
                    out.push(then(Err(e)));
                    return out;
                }
            }
            if files.len() >= BATCH {
                out.push(then(Ok((std::mem::take(&mut files), objects))));
                objects = 0;
            }
        }
        out.push(then(Ok((files, objects))));
        out
    })
    .into_iter()
    .flatten()
    .collect()
}

/// How many files are handed on at a time: few enough that a run's output is never
/// held long, enough that each hand-over's fixed costs (making directories) stay small.
const BATCH: usize = 128;

/// The files of some groups, with the number of objects they hold.
fn print<G: Borrow<Group>>(
    env: &str,
    groups: impl Iterator<Item = G>,
) -> Result<(Vec<OutFile>, usize), EmitError> {
    let mut objects = 0;
    let files = groups
        .map(|g| {
            let g = g.borrow();
            objects += g.objects.len();
            Ok(OutFile {
                path: format!("raw/{env}/{}", g.file),
                bytes: yaml::file(g)?.into_bytes(),
            })
        })
        .collect::<Result<Vec<_>, EmitError>>()?;
    Ok((files, objects))
}

/// The runs' files in one list, by path, with the number of objects they hold.
fn gathered(
    runs: Vec<Result<(Vec<OutFile>, usize), EmitError>>,
) -> Result<(Vec<OutFile>, usize), EmitError> {
    let mut out = Vec::new();
    let mut objects = 0;
    for run in runs {
        let (files, n) = run?;
        out.extend(files);
        objects += n;
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((out, objects))
}

// ---- one print for every environment an object is the same in ------------------------

/// Stand-ins for an environment's namespace and instance label in a printed object:
/// names, so that YAML writes them plain.
const MARK: &str = "zq7k-sorchac-";
const NAMESPACE_MARK: &str = "zq7k-sorchac-namespace";
const INSTANCE_MARK: &str = "zq7k-sorchac-instance";

/// What an environment writes in place of the marks.
struct Identity {
    /// The namespace and the instance label, each as YAML writes it on one line.
    namespace: String,
    instance: String,
    /// The values themselves, which the marks replace in the objects.
    raw_namespace: String,
    raw_instance: String,
}

impl Identity {
    /// The environment's identity; none when either value would not be written on one
    /// line (the environment's objects are then printed as they are).
    fn of(cx: &Cx) -> Option<Identity> {
        let instance = l::instance(cx.m);
        let mut id = Identity {
            namespace: String::new(),
            instance: String::new(),
            raw_namespace: cx.ns.clone(),
            raw_instance: instance,
        };
        (fastyaml::append_inline_value(&mut id.namespace, &id.raw_namespace)
            && fastyaml::append_inline_value(&mut id.instance, &id.raw_instance))
        .then_some(id)
    }

    /// Takes the environment out of an object: its namespace, and the instance label of
    /// its own metadata and its templates', become marks. How many fields it changed.
    fn take_out(&self, o: &mut Object) -> usize {
        let mut changed = 0;
        let mut mark = |field: &mut String, value: &str, mark: &str| {
            if field == value {
                field.clear();
                field.push_str(mark);
                changed += 1;
            }
        };
        for meta in o.present_metas_mut() {
            if let Some(ns) = meta.namespace.as_mut() {
                mark(ns, &self.raw_namespace, NAMESPACE_MARK);
            }
            if let Some(v) = meta.labels.as_mut().and_then(|l| l.get_mut(l::INSTANCE)) {
                mark(v, &self.raw_instance, INSTANCE_MARK);
            }
        }
        changed
    }
}

/// Which value a mark stands for.
#[derive(Clone, Copy)]
enum Mark {
    Namespace,
    Instance,
}

/// One form of an object, the same in every environment it was found in once their
/// namespace and instance label are taken out: the object so, and its document with a
/// mark in their place, which each environment fills in with its own.
struct Form {
    object: Object,
    text: String,
    /// Where each mark starts in `text`.
    marks: Vec<(usize, Mark)>,
}

impl Form {
    /// The form of an object whose environment has been taken out in `changed` fields;
    /// none when its document holds a mark's text anywhere else (it is then printed
    /// as it is).
    fn of(object: Object, changed: usize) -> Result<Option<Form>, EmitError> {
        let mut text = String::with_capacity(2048);
        yaml::append(&object, &mut text)?;
        let mut marks = Vec::with_capacity(changed);
        for (at, _) in text.match_indices(MARK) {
            let rest = &text[at..];
            let mark = if rest.starts_with(NAMESPACE_MARK) {
                Mark::Namespace
            } else if rest.starts_with(INSTANCE_MARK) {
                Mark::Instance
            } else {
                return Ok(None);
            };
            marks.push((at, mark));
        }
        Ok((marks.len() == changed).then_some(Form {
            object,
            text,
            marks,
        }))
    }

    /// The document as the environment `id` writes it.
    fn write(&self, id: &Identity, out: &mut String) {
        let mut from = 0;
        for &(at, mark) in &self.marks {
            out.push_str(&self.text[from..at]);
            let (value, len) = match mark {
                Mark::Namespace => (&id.namespace, NAMESPACE_MARK.len()),
                Mark::Instance => (&id.instance, INSTANCE_MARK.len()),
            };
            out.push_str(value);
            from = at + len;
        }
        out.push_str(&self.text[from..]);
    }
}

/// The files of one source in every environment, with the number of objects they hold.
/// Each object is printed once for the environments it is the same in, and written
/// from that print in each: the bytes [`yaml::file`] gives for each environment's group.
fn shared(
    cxs: &[Cx],
    ids: &[Option<Identity>],
    src: Source,
) -> Result<(Vec<OutFile>, usize), EmitError> {
    // Per position in the group: the forms its object has taken so far.
    let mut forms: Vec<Vec<Form>> = Vec::new();
    let mut files = Vec::with_capacity(cxs.len());
    let mut objects = 0;
    for (cx, id) in cxs.iter().zip(ids) {
        let Some(g) = ir::lower_source(cx, src) else {
            continue;
        };
        objects += g.objects.len();
        let path = format!("raw/{}/{}", cx.m.env, g.file);
        let text = match id {
            Some(id) => match shared_file(g, id, &mut forms)? {
                Some(text) => text,
                // A mark's text in the program itself: printed as it is.
                None => match ir::lower_source(cx, src) {
                    Some(g) => yaml::file(&g)?,
                    None => continue,
                },
            },
            None => yaml::file(&g)?,
        };
        files.push(OutFile {
            path,
            bytes: text.into_bytes(),
        });
    }
    Ok((files, objects))
}

/// One environment's file of a group, from the forms its objects share with other
/// environments (adding the new ones); none when an object cannot have a form.
fn shared_file(
    g: Group,
    id: &Identity,
    forms: &mut Vec<Vec<Form>>,
) -> Result<Option<String>, EmitError> {
    let mut out = header(&g.comment, g.objects.len() * 2048);
    for (i, mut o) in g.objects.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let changed = id.take_out(&mut o);
        if forms.len() <= i {
            forms.push(Vec::new());
        }
        let Some(seen) = forms.get_mut(i) else {
            return Ok(None);
        };
        match seen.iter().find(|f| f.object == o) {
            Some(f) => f.write(id, &mut out),
            None => match Form::of(o, changed)? {
                Some(f) => {
                    f.write(id, &mut out);
                    seen.push(f);
                }
                None => return Ok(None),
            },
        }
    }
    Ok(Some(out))
}
