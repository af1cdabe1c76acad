//! The raw target: `raw/<env>/`, one directory of plain manifests per environment, one
//! file per workload, gateway and config, plus the namespace and the platform's own.
//!
//! Environments mostly differ in a few declarations: most objects of one are the
//! objects of another but for the namespace and the instance label. When every
//! environment is built, each object is printed once for all the environments it is the
//! same in (see [`Form`]), and each environment's text is made from that print. A
//! workload's group is not even lowered again in an environment that lowers it from the
//! same things as an earlier one ([`Cx::reads_same_workload`]): that one's prints are
//! written with the environment's namespace and instance label ([`Recipe`]).

use std::borrow::Borrow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

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
    let ids = identities(cxs);
    crate::par::runs(&sources, |_, run| {
        let mut out = Vec::new();
        let mut files = Vec::new();
        let mut objects = 0;
        for src in run {
            match shared(cxs, &ids, *src) {
                Ok(w) => {
                    files.extend(w.files);
                    objects += w.objects;
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

/// Each environment's identity, to share prints by; none when there is one
/// environment alone, which has nothing to share its prints with.
fn identities(cxs: &[Cx]) -> Vec<Option<Identity>> {
    match cxs.len() {
        0 | 1 => cxs.iter().map(|_| None).collect(),
        _ => cxs.iter().map(Identity::of).collect(),
    }
}

/// The raw output made beside another use of every environment's groups (the
/// overlays, which lower them too): the files of each source from its groups as they
/// were lowered for both, which are left as they were.
pub struct Beside<'c, 'm> {
    cxs: &'c [Cx<'m>],
    ids: Vec<Option<Identity>>,
}

impl<'c, 'm> Beside<'c, 'm> {
    pub fn new(cxs: &'c [Cx<'m>]) -> Beside<'c, 'm> {
        Beside {
            cxs,
            ids: identities(cxs),
        }
    }

    /// The files of one source from each environment's group of it, in the order of
    /// the contexts (`None` where an environment has none), with the number of objects
    /// they hold: the bytes [`files_in`] writes for them. An environment marked
    /// `unlowered` has no group here yet: its file is written as [`shared`] writes it.
    pub fn files(
        &self,
        src: Source,
        groups: &mut [Option<&mut Group>],
        unlowered: &[bool],
    ) -> Result<(Vec<OutFile>, usize), EmitError> {
        let w = source_files(self.cxs, &self.ids, src, groups, unlowered)?;
        Ok((w.files, w.objects))
    }
}

/// How many files are handed on at a time: few enough that a run's output is never
/// held long, enough that each hand-over's fixed costs (making directories) stay small.
pub(crate) const BATCH: usize = 128;

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

/// Finds the marks in a print (every object's is searched: a searcher made once).
static MARKS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(MARK));

/// What an environment writes in place of the marks.
struct Identity {
    /// The namespace and the instance label, each as YAML writes it on one line.
    namespace: String,
    instance: String,
    /// The values themselves, which the marks replace in the objects.
    raw_namespace: String,
    raw_instance: String,
    /// Find the values themselves in a print.
    find_namespace: Finder<'static>,
    find_instance: Finder<'static>,
}

impl Identity {
    /// The environment's identity; none when either value would not be written on one
    /// line (the environment's objects are then printed as they are).
    fn of(cx: &Cx) -> Option<Identity> {
        let instance = l::instance(cx.m);
        let mut id = Identity {
            namespace: String::new(),
            instance: String::new(),
            find_namespace: Finder::new(&cx.ns).into_owned(),
            find_instance: Finder::new(&instance).into_owned(),
            raw_namespace: cx.ns.clone(),
            raw_instance: instance,
        };
        (fastyaml::append_inline_value(&mut id.namespace, &id.raw_namespace)
            && fastyaml::append_inline_value(&mut id.instance, &id.raw_instance))
        .then_some(id)
    }

    /// Takes the environment out of an object: its namespace, and the instance label of
    /// its own metadata and its templates', become marks. How many fields it changed;
    /// `taken`, when given, says which (per metadata of the object, in order: its
    /// namespace, its instance label).
    fn take_out(&self, o: &mut Object, mut taken: Option<&mut Vec<(bool, bool)>>) -> usize {
        let mut changed = 0;
        if let Some(t) = taken.as_mut() {
            t.clear();
        }
        let mark = |field: &mut String, value: &str, mark: &str| {
            let changed = field == value;
            if changed {
                field.clear();
                field.push_str(mark);
            }
            changed
        };
        for meta in o.present_metas_mut() {
            let ns = meta
                .namespace
                .as_mut()
                .is_some_and(|ns| mark(ns, &self.raw_namespace, NAMESPACE_MARK));
            let instance = meta
                .labels
                .as_mut()
                .and_then(|l| l.get_mut(l::INSTANCE))
                .is_some_and(|v| mark(v, &self.raw_instance, INSTANCE_MARK));
            changed += usize::from(ns) + usize::from(instance);
            if let Some(t) = taken.as_mut() {
                t.push((ns, instance));
            }
        }
        changed
    }

    /// Puts the environment back where [`Identity::take_out`] took it out.
    fn put_back(&self, o: &mut Object, taken: &[(bool, bool)]) {
        for (meta, &(ns, instance)) in o.present_metas_mut().into_iter().zip(taken) {
            if ns && let Some(field) = meta.namespace.as_mut() {
                field.clone_from(&self.raw_namespace);
            }
            if instance
                && let Some(field) = meta.labels.as_mut().and_then(|l| l.get_mut(l::INSTANCE))
            {
                field.clone_from(&self.raw_instance);
            }
        }
    }
}

/// An object of a group being printed with the forms it shares: owned, in a group
/// that is spent once printed (a new form takes it, and it is otherwise dropped), or
/// borrowed from one that is used again (a new form takes a copy, and each object is
/// put back as it was).
trait Printed: std::borrow::BorrowMut<Object> {
    /// Whether the fields taken out must be recorded, to be put back.
    const PUT_BACK: bool;
    /// The object for a new form, the original put back where it is borrowed.
    fn into_form(self, id: &Identity, taken: &[(bool, bool)]) -> Object;
    /// Done with the object, which matched a form: put back where it is borrowed.
    fn done(self, id: &Identity, taken: &[(bool, bool)]);
}

impl Printed for Object {
    const PUT_BACK: bool = false;
    fn into_form(self, _: &Identity, _: &[(bool, bool)]) -> Object {
        self
    }
    fn done(self, _: &Identity, _: &[(bool, bool)]) {}
}

impl Printed for &mut Object {
    const PUT_BACK: bool = true;
    fn into_form(self, id: &Identity, taken: &[(bool, bool)]) -> Object {
        let copy = self.clone();
        id.put_back(self, taken);
        copy
    }
    fn done(self, id: &Identity, taken: &[(bool, bool)]) {
        id.put_back(self, taken);
    }
}

/// The file of environment `e` written from the prints of an earlier environment that
/// lowers the workload group `src` from the same things, where its prints allow it, with
/// the number of objects it holds.
fn reused(
    cxs: &[Cx],
    recipes: &[(usize, Recipe)],
    forms: &[Vec<Form>],
    e: usize,
    id: &Identity,
    src: Source,
) -> Option<(OutFile, usize)> {
    let Source::Workload(w) = src else {
        return None;
    };
    let cx = cxs.get(e)?;
    let (_, r) = recipes.iter().find(|(before, r)| {
        cxs.get(*before)
            .is_some_and(|b| r.reusable(forms, b.ns == cx.ns) && b.reads_same_workload(cx, w))
    })?;
    let file = OutFile {
        path: format!("raw/{}/{}", cx.m.env, r.file),
        bytes: r.write(forms, id).into_bytes(),
    };
    Some((file, r.picks.len()))
}

/// How an environment's file of a group was written from forms alone: enough to write
/// the file of another environment that lowers the group from the same things.
struct Recipe {
    file: String,
    comment: Vec<String>,
    /// Per object, in order: the index of its form among its position's.
    picks: Vec<usize>,
}

impl Recipe {
    /// Whether another environment's file can be written from it: each of its forms
    /// holds the instance label only at its marks, and the namespace too unless both
    /// environments have the same (`same_namespace`).
    fn reusable(&self, forms: &[Vec<Form>], same_namespace: bool) -> bool {
        self.picks.iter().enumerate().all(|(i, &at)| {
            forms
                .get(i)
                .and_then(|f| f.get(at))
                .is_some_and(|f| f.instance_at_marks && (same_namespace || f.namespace_at_marks))
        })
    }

    /// The file as the environment `id` writes it.
    fn write(&self, forms: &[Vec<Form>], id: &Identity) -> String {
        let mut out = header(&self.comment, self.picks.len() * 2048);
        for (i, &at) in self.picks.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            if let Some(f) = forms.get(i).and_then(|f| f.get(at)) {
                f.write(id, &mut out);
            }
        }
        out
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
    /// Whether the text holds the namespace, and the instance label, of the
    /// environment it was printed for only where its marks are. An environment that
    /// lowers the object from the same things as one that has this form has it too
    /// when the instance label is only at marks and the namespace is either the same
    /// for both or only at marks ([`Recipe`]).
    namespace_at_marks: bool,
    instance_at_marks: bool,
}

impl Form {
    /// The form of an object whose environment has been taken out in `changed` fields;
    /// none when its document holds a mark's text anywhere else (it is then printed
    /// as it is).
    fn of(object: Object, changed: usize, id: &Identity) -> Result<Option<Form>, EmitError> {
        let mut text = String::with_capacity(2048);
        yaml::append(&object, &mut text)?;
        let mut marks = Vec::with_capacity(changed);
        for at in MARKS.find_iter(text.as_bytes()) {
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
        if marks.len() != changed {
            return Ok(None);
        }
        let instance_at_marks = id.find_instance.find(text.as_bytes()).is_none();
        // An environment's namespace is often its instance label too (`shop-staging`).
        let namespace_at_marks = match id.raw_namespace == id.raw_instance {
            true => instance_at_marks,
            false => id.find_namespace.find(text.as_bytes()).is_none(),
        };
        Ok(Some(Form {
            object,
            text,
            marks,
            namespace_at_marks,
            instance_at_marks,
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
fn shared(cxs: &[Cx], ids: &[Option<Identity>], src: Source) -> Result<Written, EmitError> {
    let mut none: Vec<Option<&mut Group>> = cxs.iter().map(|_| None).collect();
    source_files(cxs, ids, src, &mut none, &vec![true; cxs.len()])
}

/// The files of one source in every environment: from each environment's group in
/// `groups`, borrowed and left as it was, or, where `unlowered` says it has none yet,
/// from an earlier environment's prints where that one lowers the group from the same
/// things, and from its group lowered here otherwise.
fn source_files(
    cxs: &[Cx],
    ids: &[Option<Identity>],
    src: Source,
    groups: &mut [Option<&mut Group>],
    unlowered: &[bool],
) -> Result<Written, EmitError> {
    // Per position in the group: the forms its object has taken so far.
    let mut forms: Vec<Vec<Form>> = Vec::new();
    // The environments' files written from forms alone, by environment.
    let mut recipes: Vec<(usize, Recipe)> = Vec::new();
    let mut files = Vec::with_capacity(cxs.len());
    let mut objects = 0;
    #[cfg(test)]
    let mut reused_files = 0;
    for (e, ((cx, id), given)) in cxs.iter().zip(ids).zip(groups.iter_mut()).enumerate() {
        let (file, text, picks) = if unlowered.get(e).copied().unwrap_or(false) {
            // An environment that lowers this group from the same things as one before
            // it writes that one's forms, without lowering it again.
            if let Some(id) = id
                && let Some((file, n)) = reused(cxs, &recipes, &forms, e, id, src)
            {
                objects += n;
                #[cfg(test)]
                {
                    reused_files += 1;
                }
                files.push(file);
                continue;
            }
            let Some(g) = ir::lower_source(cx, src) else {
                continue;
            };
            objects += g.objects.len();
            match id {
                Some(id) => match shared_file(&g.comment, g.objects.into_iter(), id, &mut forms)? {
                    Some((text, picks)) => (g.file, text, Some((picks, g.comment))),
                    // A mark's text in the program itself: printed as it is.
                    None => match ir::lower_source(cx, src) {
                        Some(g) => (g.file.clone(), yaml::file(&g)?, None),
                        None => continue,
                    },
                },
                None => (g.file.clone(), yaml::file(&g)?, None),
            }
        } else {
            let Some(g) = given.as_deref_mut() else {
                continue;
            };
            objects += g.objects.len();
            let printed = match id {
                Some(id) => shared_file(&g.comment, g.objects.iter_mut(), id, &mut forms)?,
                None => None,
            };
            match printed {
                Some((text, picks)) => (g.file.clone(), text, Some((picks, g.comment.clone()))),
                None => (g.file.clone(), yaml::file(g)?, None),
            }
        };
        files.push(OutFile {
            path: format!("raw/{}/{}", cx.m.env, file),
            bytes: text.into_bytes(),
        });
        if let Some((picks, comment)) = picks {
            recipes.push((
                e,
                Recipe {
                    file,
                    comment,
                    picks,
                },
            ));
        }
    }
    Ok(Written {
        files,
        objects,
        #[cfg(test)]
        reused: reused_files,
    })
}

/// The files of one source in every environment, with the number of objects they hold.
struct Written {
    files: Vec<OutFile>,
    objects: usize,
    /// How many environments' files were written from an earlier one's forms, without
    /// lowering the group again (for the tests).
    #[cfg(test)]
    reused: usize,
}

/// One environment's file of a group (its comment and its objects), from the forms
/// its objects share with other environments (adding the new ones), with the form each
/// object took (its index among its position's); none when an object cannot have a
/// form. Borrowed objects are left as they were.
fn shared_file<O: Printed>(
    comment: &[String],
    objects: impl ExactSizeIterator<Item = O>,
    id: &Identity,
    forms: &mut Vec<Vec<Form>>,
) -> Result<Option<(String, Vec<usize>)>, EmitError> {
    let mut out = header(comment, objects.len() * 2048);
    let mut picks = Vec::with_capacity(objects.len());
    let mut taken = Vec::new();
    for (i, mut o) in objects.enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let changed = id.take_out(o.borrow_mut(), O::PUT_BACK.then_some(&mut taken));
        if forms.len() <= i {
            forms.push(Vec::new());
        }
        let Some(seen) = forms.get_mut(i) else {
            o.done(id, &taken);
            return Ok(None);
        };
        if let Some(at) = seen.iter().position(|f| f.object == *o.borrow()) {
            seen[at].write(id, &mut out);
            picks.push(at);
            o.done(id, &taken);
            continue;
        }
        match Form::of(o.into_form(id, &taken), changed, id)? {
            Some(f) => {
                f.write(id, &mut out);
                picks.push(seen.len());
                seen.push(f);
            }
            None => return Ok(None),
        }
    }
    Ok(Some((out, picks)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::MemoryLoader;

    /// For each service of a 12-service synthetic program changed by `edit`: how many
    /// environments wrote its file from an earlier one's forms.
    fn reused(edit: impl Fn(String) -> String) -> Vec<(String, usize)> {
        let text = edit(crate::synth::platform(12));
        let loader = MemoryLoader::new().with("main.sorcha", &text);
        let c = crate::compile("main.sorcha", &loader).unwrap();
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let envs: Vec<&Model> = c.checked.envs.iter().collect();
        let cxs = Cx::each(&envs);
        let ids = identities(&cxs);
        let m = &c.checked.base;
        (0..m.workloads.len())
            .filter(|&i| m.workloads[i].name.starts_with("svc-"))
            .map(|i| {
                let w = shared(&cxs, &ids, Source::Workload(i)).unwrap();
                (m.workloads[i].name.clone(), w.reused)
            })
            .collect()
    }

    fn of(counts: &[(String, usize)], name: &str) -> usize {
        counts.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn environments_that_lower_a_group_from_the_same_things_write_one_print() {
        // Every fifth service's scaling differs in each environment; the others are
        // lowered for the first environment and written from its forms for the other two.
        let counts = reused(|t| t);
        for (name, n) in &counts {
            let patched = ["svc-0", "svc-5", "svc-10"].contains(&name.as_str());
            assert_eq!(*n, if patched { 0 } else { 2 }, "{name}");
        }
    }

    #[test]
    fn a_group_is_lowered_again_where_what_it_reads_differs() {
        // Who calls svc-9 changes in prod (svc-2 no longer does): svc-9 is lowered
        // again there, though the service itself is the same.
        let counts = reused(|t| {
            t.replace(
                "env prod {\n",
                "env prod {\n  svc-2.calls = [svc-3, db-0, cache]\n",
            )
        });
        assert_eq!(of(&counts, "svc-9"), 1);
        assert_eq!(of(&counts, "svc-2"), 1);
        assert_eq!(of(&counts, "svc-1"), 2);
        // An Istio mesh names callers by their namespace, which each environment has
        // its own of: every environment is lowered.
        let counts = reused(|t| t.replace("admins = [", "mesh = istio\n  admins = ["));
        assert_eq!(of(&counts, "svc-1"), 0);
        // The same mesh in one namespace for every environment: one print again.
        let counts = reused(|t| {
            t.replace("admins = [", "mesh = istio\n  admins = [")
                .replace("  platform.namespace = \"synth-dev\"\n", "")
                .replace("  platform.namespace = \"synth-staging\"\n", "")
                .replace("  platform.namespace = \"synth-prod\"\n", "")
        });
        assert_eq!(of(&counts, "svc-1"), 2);
        // A volume claim template's labels hold the instance label, which is not taken
        // out: the service with one is lowered in every environment.
        let counts = reused(|t| {
            t.replace(
                "  port http = 8080\n",
                "  port http = 8080\n  volume scratch { at = \"/scratch\"  size = 1Gi }\n",
            )
        });
        assert_eq!(of(&counts, "svc-1"), 0);
        let counts = reused(|t| {
            t.replace(
                "secret jwt",
                "secret tls { keys = [crt]  from = deploy }\nsecret jwt",
            )
            .replace(
                "service svc-1 {\n",
                "service svc-1 {\n  mount tls at \"/tls\"\n",
            )
            .replace("env prod {\n", "env prod {\n  tls.rotation = live\n")
        });
        assert_eq!(of(&counts, "svc-1"), 1);
    }
}
