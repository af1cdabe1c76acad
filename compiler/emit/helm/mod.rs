//! The helm target: `helm/<platform>/`, a chart whose values are the settings an
//! operator turns (images, replicas and autoscaling, resources, storage, backups,
//! gateway hosts and TLS, configs, the mesh, deploy-time secrets), with
//! `values-<env>.yaml` holding only what each environment changes.
//!
//! Templates are derived, not hand-written: the base model is lowered with a marker in
//! the place of every value (`sample`), as it is in every mesh and replica regime (each
//! part of a group once for every value of what it reads, [`crate::ir::Part`]); the
//! markers show which fields come from which value, and what differs between the
//! samples becomes a choice in the template (`tmpl`). Before anything is written, the
//! templates are evaluated against every environment's values and must give exactly
//! that environment's raw output; an environment the chart cannot express is an error
//! that names the object and field.

mod sample;
mod tmpl;
mod tree;
pub mod values;

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;

use foldhash::{HashMap, HashMapExt};

use serde_json::{Map, Value, json};

use super::{EmitError, HEADER, OutFile, yaml};
use crate::check::Model;
use crate::check::model::{JobRun, Rotation, SecretSource};
use crate::ir::labels as l;
use crate::ir::{Origin, Parted};
use sample::{Knob, MESHES, REGIMES, Sampler};
use tmpl::{Cond, Ctx, Node, Printer, Samples};
use tree::Tree;

/// Where the chart goes, under the output directory.
pub fn root(m: &Model) -> String {
    format!("helm/{}", m.platform.name)
}

/// One object of the chart: its template and when it is there.
struct Template {
    file: String,
    /// `apiVersion kind name` of the object.
    key: String,
    cond: Cond,
    node: Node,
    /// The release's own Namespace object: rendered only when there is a namespace
    /// (`helm lint` renders without one).
    namespace: bool,
}

/// The chart for a program: its base model and every environment's.
pub fn files(base: &Model, envs: &[&Model]) -> Result<Vec<OutFile>, EmitError> {
    files_by(base, envs, Sampling::ByPart)
}

/// How the chart lowers each group of objects for its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Each part of the group once for every value of what it reads
    /// ([`crate::ir::Part`]): what builds use.
    ByPart,
    /// The whole group in every sample, which the parts are held to in the tests.
    Whole,
}

/// The chart, its groups lowered for the samples as `sampling` says.
pub fn files_by(
    base: &Model,
    envs: &[&Model],
    sampling: Sampling,
) -> Result<Vec<OutFile>, EmitError> {
    let gathered = std::sync::Mutex::new(Vec::new());
    let rest = make(base, envs, sampling, |files: Vec<OutFile>| {
        gathered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(files);
        Ok::<(), EmitError>(())
    })?;
    let mut files = gathered
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    files.extend(rest.files(base, envs, true)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The chart's templates, on all cores, handed to `put` as they are made (in no
/// particular order): each group's template files once every environment comes out of
/// them exactly, so that the chart's text is never held whole. What is left of the
/// chart, its other files, is made from what this gives back ([`Rest::files`]), once
/// what the templates are made from is dropped. When the chart cannot be made, what was
/// handed on is not a chart: the caller discards it.
pub fn put_templates<E: From<EmitError> + Send>(
    base: &Model,
    envs: &[&Model],
    put: impl Fn(Vec<OutFile>) -> Result<(), E> + Sync,
) -> Result<Rest, E> {
    make(base, envs, Sampling::ByPart, put)
}

/// What is left of a chart once its templates are made: its other files (Chart.yaml,
/// the helpers, the values of the chart and of each environment, and their schema),
/// from every environment's values as its last check saw them.
pub struct Rest {
    values: Vec<Value>,
    per_env: bool,
}

impl Rest {
    /// The chart's files other than its templates'. With `split`, the values files and
    /// their schema are made at once, on two cores: for when nothing else is made beside
    /// them, as each holds its own memory.
    pub fn files(
        &self,
        base: &Model,
        envs: &[&Model],
        split: bool,
    ) -> Result<Vec<OutFile>, EmitError> {
        chart_files(base, envs, &self.values, self.per_env, split)
    }
}

/// The chart's templates, handed to `put` as they are made; what is left of it.
fn make<E: From<EmitError> + Send>(
    base: &Model,
    envs: &[&Model],
    sampling: Sampling,
    put: impl Fn(Vec<OutFile>) -> Result<(), E> + Sync,
) -> Result<Rest, E> {
    let mut sampler = Sampler::new(base);
    let chart_marker = sampler.markers.text(Knob::Chart);
    let hook = sampler
        .markers
        .text(Knob::HelmOnly("pre-install,pre-upgrade".into()));
    let hook_policy = sampler
        .markers
        .text(Knob::HelmOnly("before-hook-creation,hook-succeeded".into()));
    let mut checksums: HashMap<String, String> = HashMap::new();
    for s in &base.secrets {
        if s.source == SecretSource::Deploy && s.rotation == Rotation::Restart {
            let marker = sampler.markers.text(Knob::SecretChecksum(s.name.clone()));
            checksums.insert(s.name.clone(), marker);
        }
    }
    let hooks: Vec<&str> = base
        .workloads
        .iter()
        .filter(|w| w.run == JobRun::BeforeRollout)
        .map(|w| w.name.as_str())
        .collect();
    let owners: HashMap<&str, Vec<String>> = base
        .workloads
        .iter()
        .map(|w| (w.name.as_str(), values::workload_path(w)))
        .collect();

    // Every sample of the model (every mesh in every regime, in that order; the samples
    // of one regime share its workloads), and the templates of each group of objects,
    // on all cores: a group is lowered in every sample, objects equal in several
    // samples are compared as typed objects and turned into values once, and the
    // samples of each object are merged into its template.
    let regimes: Vec<Model> = crate::par::each(&REGIMES, |r| sampler.regime(*r));
    let models: Vec<Model> = MESHES
        .iter()
        .flat_map(|mesh| regimes.iter().map(|m| sample::with_mesh(m, *mesh)))
        .collect();
    drop(regimes);
    let cxs: Vec<l::Cx> = l::Cx::each(&models);
    let extra = Additions {
        chart: &chart_marker,
        checksums: &checksums,
        hooks: &hooks,
        hook: &hook,
        policy: &hook_policy,
    };
    // Each group is checked against every environment as soon as its templates are
    // made, and printed and handed on at once when every environment comes out of it
    // exactly, so the templates of the whole chart are never held together. The
    // environments are lowered group by group alongside.
    let chart_name = base.platform.name.as_str();
    let dir = root(base);
    let claimed = Claimed::default();
    let hand_on = |templates: &[Template]| -> Result<(), E> {
        let files = print_files(chart_name, templates);
        claimed.claim(&files)?;
        put(files
            .into_iter()
            .map(|(file, body)| text_file(format!("{dir}/templates/{file}"), body))
            .collect())
    };
    let checks: Vec<EnvCheck> = crate::par::each(envs, |e| EnvCheck::new(e, false));
    let sources = crate::ir::sources_of(std::iter::once(base).chain(envs.iter().copied()));
    let runs = crate::par::runs(&sources, |start, run| {
        let mut out = Vec::new();
        for (i, src) in run.iter().enumerate() {
            let templates = templates_of(*src, &cxs, sampling, &sampler, &owners, &extra)?;
            let found = mismatches(&checks, &templates, start + i, *src)?;
            if found.is_empty() {
                hand_on(&templates)?;
            } else {
                out.push(Checked::Open(start + i, *src, templates, found));
            }
        }
        Ok::<_, E>(out)
    });
    let mut groups = Vec::new();
    for run in runs {
        groups.extend(run?);
    }
    drop(cxs);
    drop(models);

    // What values cannot express (an environment that changes an egress rule, say) is
    // chosen by the environment's name instead, for those objects only; then those
    // groups are checked again against every environment.
    let per_env = !groups.is_empty();
    let rechecks: Vec<EnvCheck> = match per_env {
        true => crate::par::each(envs, |e| EnvCheck::new(e, true)),
        false => Vec::new(),
    };
    let mut unfixed: Option<(usize, Key, Mismatch)> = None;
    for Checked::Open(pos, src, mut templates, mut found) in groups {
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (e, _, m) in found {
            if let Some(env) = envs.get(e) {
                by_environment(&mut templates, env, m, &sampler.markers, &extra);
            }
        }
        for (e, at, m) in mismatches(&rechecks, &templates, pos, src)? {
            if unfixed
                .as_ref()
                .is_none_or(|(ue, uat, _)| (e, &at) < (*ue, uat))
            {
                unfixed = Some((e, at, m));
            }
        }
        hand_on(&templates)?;
    }
    if let Some((e, _, m)) = unfixed {
        return Err(EmitError::Helm {
            env: envs.get(e).map(|env| env.env.clone()),
            object: m.key,
            reason: m.reason,
        }
        .into());
    }
    // Each environment's values as its last check saw them; what made the templates
    // is not needed for the chart's other files.
    let checked = if per_env { rechecks } else { checks };
    Ok(Rest {
        values: checked.into_iter().map(|c| c.values).collect(),
        per_env,
    })
}

/// A group of the chart that some environments have differently after its first check:
/// its place among the groups, its source, its templates and, per environment, the
/// mismatches.
enum Checked {
    Open(
        usize,
        crate::ir::Source,
        Vec<Template>,
        Vec<(usize, Key, Mismatch)>,
    ),
}

/// Where a mismatch sorts: by where the environment has the object (its group, then its
/// place in the group), then what only the chart renders, by name.
type Key = (usize, usize, String);

/// A group's templates as their files: `(file, text)`, each text under the file's
/// header.
fn print_files(chart: &str, templates: &[Template]) -> Vec<(String, String)> {
    let mut by_file: BTreeMap<&str, Vec<&Template>> = BTreeMap::new();
    for t in templates {
        by_file.entry(&t.file).or_default().push(t);
    }
    by_file
        .into_iter()
        .map(|(file, ts)| (file.to_string(), print_file(chart, &ts)))
        .collect()
}

/// The template files handed on so far. Each goes to disk as soon as it is printed, so
/// no two groups may print into one: every group's file is named after its declaration,
/// and declarations have names of their own, so this holds for every program; should it
/// ever not, the chart is not made rather than one file written over another.
#[derive(Default)]
struct Claimed(std::sync::Mutex<foldhash::HashSet<String>>);

impl Claimed {
    fn claim(&self, files: &[(String, String)]) -> Result<(), EmitError> {
        let mut claimed = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (file, _) in files {
            if !claimed.insert(file.clone()) {
                return Err(EmitError::Helm {
                    env: None,
                    object: format!("templates/{file}"),
                    reason: "two declarations print into this template file".into(),
                });
            }
        }
        Ok(())
    }
}

/// The first line of every template file.
fn template_header() -> String {
    format!("{{{{- /* {} */}}}}\n", HEADER.trim_start_matches("# "))
}

/// How an environment's object and the chart's differ.
struct Mismatch {
    key: String,
    reason: String,
    /// The template that renders it for the environment.
    template: Option<usize>,
    /// The environment's object as the check lowers it (with the stand-ins for the
    /// release and the namespace), and its file, when it has one.
    raw: Option<(Tree, String)>,
}

/// Makes the chart give an environment's object exactly, chosen by the environment's
/// name: the object as the environment has it (namespace, instance and Helm's own
/// additions still templated), or its absence.
fn by_environment(
    templates: &mut Vec<Template>,
    env: &Model,
    m: Mismatch,
    mk: &sample::Markers,
    extra: &Additions,
) {
    let is_env = Cond::Env(vec![env.env.clone()]);
    let Some((raw, file)) = m.raw else {
        // The chart renders an object the environment does not have.
        if let Some(t) = m.template.and_then(|i| templates.get_mut(i)) {
            let cond = std::mem::replace(&mut t.cond, Cond::True);
            t.cond = Cond::And(vec![cond, Cond::Not(Box::new(is_env))]);
        }
        return;
    };
    let node = env_node(raw, mk, extra);
    let existing = m
        .template
        .or_else(|| templates.iter().position(|t| t.key == m.key));
    match existing.and_then(|i| templates.get_mut(i)) {
        Some(t) => {
            let old = std::mem::replace(&mut t.node, Node::Lit(Tree::Null));
            t.node = match old {
                Node::Choice(mut branches)
                    if branches.iter().any(|(c, _)| matches!(c, Cond::Env(_))) =>
                {
                    let at = branches.len().saturating_sub(1);
                    branches.insert(at, (is_env.clone(), node));
                    Node::Choice(branches)
                }
                other => Node::Choice(vec![(is_env.clone(), node), (Cond::True, other)]),
            };
            let cond = std::mem::replace(&mut t.cond, Cond::True);
            t.cond = if cond == Cond::True {
                Cond::True
            } else {
                Cond::Or(vec![cond, is_env])
            };
        }
        None => templates.push(Template {
            namespace: m.key.starts_with("v1 Namespace "),
            key: m.key,
            file,
            cond: is_env,
            node,
        }),
    }
}

/// An environment's object, as lowered for the check, as a template: its namespace and
/// instance label from the release, and Helm's own additions.
fn env_node(mut v: Tree, mk: &sample::Markers, extra: &Additions) -> Node {
    helm_additions(&mut v, extra);
    restore(&mut v, &mk.instance, &mk.namespace);
    tmpl::subst(v, mk, None)
}

/// The markers of what the chart adds to the objects.
struct Additions<'a> {
    chart: &'a str,
    checksums: &'a HashMap<String, String>,
    hooks: &'a [&'a str],
    hook: &'a str,
    policy: &'a str,
}

/// A group of objects lowered for every sample.
enum Lowered {
    Whole(Vec<Option<crate::ir::Group>>),
    /// The fixed part, the replicas part in every regime, the mesh part in every mesh.
    ByPart {
        fixed: Option<Parted>,
        replicas: Vec<Option<Parted>>,
        mesh: Vec<Option<Parted>>,
    },
}

/// Where the sample of a mesh and a regime (their indices in [`MESHES`] and
/// [`REGIMES`]) is among the samples: every regime of one mesh after another.
fn sample_at(mesh: usize, regime: usize) -> usize {
    mesh * REGIMES.len() + regime
}

impl Lowered {
    /// The group of `src` lowered in the samples' contexts (`cxs`, in [`sample_at`]
    /// order).
    fn new(src: crate::ir::Source, cxs: &[l::Cx], sampling: Sampling) -> Lowered {
        use crate::ir::{Part, lower_part};
        match sampling {
            Sampling::Whole => Lowered::Whole(
                cxs.iter()
                    .map(|cx| crate::ir::lower_source(cx, src))
                    .collect(),
            ),
            Sampling::ByPart => {
                let part = |mesh: usize, regime: usize, part: Part| {
                    lower_part(cxs.get(sample_at(mesh, regime))?, src, part)
                };
                Lowered::ByPart {
                    fixed: part(0, 0, Part::Fixed),
                    replicas: (0..REGIMES.len())
                        .map(|r| part(0, r, Part::Replicas))
                        .collect(),
                    mesh: (0..MESHES.len()).map(|m| part(m, 0, Part::Mesh)).collect(),
                }
            }
        }
    }

    /// The group in the sample of a mesh and a regime: its file, its origin and its
    /// objects in order.
    fn sample(
        &self,
        mesh: usize,
        regime: usize,
    ) -> Option<(&str, &Origin, Vec<&crate::ir::Object>)> {
        match self {
            Lowered::Whole(groups) => {
                let g = groups.get(sample_at(mesh, regime))?.as_ref()?;
                Some((&g.file, &g.origin, g.objects.iter().collect()))
            }
            Lowered::ByPart {
                fixed,
                replicas,
                mesh: meshes,
            } => {
                let parts = [
                    fixed.as_ref(),
                    replicas.get(regime)?.as_ref(),
                    meshes.get(mesh)?.as_ref(),
                ];
                let first = parts.iter().flatten().next()?;
                let mut objects: Vec<(u8, &crate::ir::Object)> = parts
                    .iter()
                    .flatten()
                    .flat_map(|p| p.objects.iter().map(|(at, o)| (*at, o)))
                    .collect();
                // Stable: the objects of one place keep their order.
                objects.sort_by_key(|(at, _)| *at);
                Some((
                    &first.file,
                    &first.origin,
                    objects.into_iter().map(|(_, o)| o).collect(),
                ))
            }
        }
    }
}

/// The templates of one group of objects, from its lowering in every sample.
fn templates_of(
    src: crate::ir::Source,
    cxs: &[l::Cx],
    sampling: Sampling,
    sampler: &Sampler,
    owners: &HashMap<&str, Vec<String>>,
    extra: &Additions,
) -> Result<Vec<Template>, EmitError> {
    let lowered = Lowered::new(src, cxs, sampling);
    let mut order: Vec<(&str, String)> = Vec::new();
    // Per object: its distinct typed forms, each with the samples it stands for.
    let mut forms: HashMap<(&str, String), Vec<(Samples, &crate::ir::Object)>> = HashMap::new();
    let mut owner: Option<&Vec<String>> = None;
    let samples = (0..MESHES.len()).flat_map(|m| (0..REGIMES.len()).map(move |r| (m, r)));
    for (mesh, regime) in samples {
        let Some((file, origin, objects)) = lowered.sample(mesh, regime) else {
            continue;
        };
        if let Origin::Decl(name) = origin {
            owner = owner.or_else(|| owners.get(name.as_str()));
        }
        let bit = tmpl::sample_bit(mesh, regime);
        for o in objects {
            let f = match forms.entry((file, object_key(o))) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    order.push(e.key().clone());
                    e.insert(Vec::new())
                }
            };
            // A part lowered once stands for several samples: the same object.
            match f
                .iter_mut()
                .find(|(_, seen)| std::ptr::eq(*seen, o) || *seen == o)
            {
                Some((mask, _)) => *mask |= bit,
                None => f.push((bit, o)),
            }
        }
    }
    let owner_path = owner.map(Vec::as_slice);
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let Some(f) = forms.get(&id) else {
            continue;
        };
        let mut values = Vec::with_capacity(f.len());
        for (mask, o) in f {
            let mut v = Tree::of(o).map_err(|e| EmitError::Yaml {
                object: id.1.clone(),
                reason: e.to_string(),
            })?;
            helm_additions(&mut v, extra);
            values.push((*mask, v));
        }
        let mask = values.iter().fold(0, |a, (s, _)| a | s);
        let unjoinable = || {
            EmitError::Helm {
            env: None,
            object: id.1.clone(),
            reason: "it differs between meshes or replica settings in a way the chart cannot choose between".into(),
        }
        };
        let cond = tmpl::cond_for(mask, tmpl::ALL, owner_path).ok_or_else(unjoinable)?;
        let mut node =
            tmpl::merge(values, &sampler.markers, owner_path, None).map_err(|_| unjoinable())?;
        if id.1.starts_with("v1 ConfigMap ") {
            tmpl::config_data(&mut node);
        }
        out.push(Template {
            namespace: id.1.starts_with("v1 Namespace "),
            key: id.1.clone(),
            file: id.0.to_string(),
            cond,
            node,
        });
    }
    Ok(out)
}

/// The chart's own additions to an object: the chart label, checksums of the deploy-time
/// secrets that roll pods, hook annotations for jobs that run before a rollout.
fn helm_additions(v: &mut Tree, extra: &Additions) {
    let (chart, checksums, hooks, hook, policy) = (
        extra.chart,
        extra.checksums,
        extra.hooks,
        extra.hook,
        extra.policy,
    );
    let kind = v
        .get("kind")
        .and_then(Tree::as_str)
        .unwrap_or("")
        .to_string();
    let name = v
        .at(&["metadata", "name"])
        .and_then(Tree::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(labels) = v.at_mut(&["metadata", "labels"]) {
        labels.insert("helm.sh/chart", Tree::Str(chart.to_string()));
    }
    if kind == "Job"
        && hooks.contains(&name.as_str())
        && let Some(meta) = v.get_mut("metadata")
    {
        if meta.get("annotations").is_none() {
            meta.insert("annotations", Tree::Map(Vec::new()));
        }
        if let Some(a) = meta.get_mut("annotations") {
            a.insert("helm.sh/hook", Tree::Str(hook.to_string()));
            a.insert("helm.sh/hook-delete-policy", Tree::Str(policy.to_string()));
        }
    }
    let template: &[&str] = match kind.as_str() {
        "Deployment" | "StatefulSet" => &["spec", "template", "metadata"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "metadata"],
        _ => return,
    };
    if let Some(meta) = v.at_mut(template) {
        let reload: Vec<String> = meta
            .at(&["annotations", "secret.reloader.stakater.com/reload"])
            .and_then(Tree::as_str)
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        for s in reload {
            if let Some(marker) = checksums.get(&s)
                && let Some(a) = meta.get_mut("annotations")
            {
                a.insert(format!("checksum/secret-{s}"), Tree::Str(marker.clone()));
            }
        }
    }
}

/// The values of an environment, as a tree.
fn values_of(m: &Model, per_env: bool) -> Value {
    values::into_tree(values::leaves(m, per_env))
}

/// A config's ConfigMap name from its entries, as the chart's helper computes it.
fn config_name(c: &str, data: &Value) -> String {
    let pairs: Vec<(&str, &str)> = data
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    format!("{c}-{}", l::config_hash_of(pairs))
}

/// The release name and namespace the chart is checked with, and what the
/// environments' objects are lowered with for the check in the place of their instance
/// label and namespace: the same in every environment, so that objects that differ in
/// nothing else are equal. The chart has the release's name and namespace there
/// whatever they are: where an environment's object is written into the chart, they
/// become the release's (markers, [`env_node`]); where it is named in a message, the
/// environment's own are put back ([`restore`]).
const RELEASE: &str = "\u{0}release\u{0}";
const NAMESPACE: &str = "\u{0}namespace\u{0}";

/// An object lowered for the check with `release` and `namespace` in the place of the
/// stand-ins for them.
fn restore(v: &mut Tree, release: &str, namespace: &str) {
    match v {
        Tree::Str(s) if s.contains('\0') => {
            *s = s.replace(RELEASE, release).replace(NAMESPACE, namespace);
        }
        Tree::Map(m) => m
            .iter_mut()
            .for_each(|(_, c)| restore(c, release, namespace)),
        Tree::List(a) => a.iter_mut().for_each(|c| restore(c, release, namespace)),
        _ => {}
    }
}

/// What the chart is checked against for one environment: its values and its objects.
struct EnvCheck<'m> {
    env: &'m Model,
    values: Value,
    cx: l::Cx<'m>,
}

/// Every environment's mismatches with a group's templates (see
/// [`EnvCheck::mismatches`]), by environment. An environment whose objects of the group
/// are those of one found to match already (exactly, stand-ins and all), and whose
/// values agree with that one's on all the templates read, matches as well without being
/// rendered again; one that lowers the group from the same things as such an
/// environment ([`l::Cx::reads_same_workload`]) is not even lowered.
fn mismatches(
    checks: &[EnvCheck],
    templates: &[Template],
    pos: usize,
    src: crate::ir::Source,
) -> Result<Vec<(usize, Key, Mismatch)>, EmitError> {
    // Each environment's group, lowered when it is first needed: not for an environment
    // that lowers it from the same things as one found to match (with the same
    // stand-ins, its objects are that one's).
    let mut groups: Vec<Option<Option<crate::ir::Group>>> = checks.iter().map(|_| None).collect();
    let same = |a: &Option<crate::ir::Group>, b: &Option<crate::ir::Group>| match (a, b) {
        (Some(a), Some(b)) => a.file == b.file && a.objects == b.objects,
        (None, None) => true,
        _ => false,
    };
    let reads_same = |d: usize, e: usize| match (src, checks.get(d), checks.get(e)) {
        (crate::ir::Source::Workload(w), Some(d), Some(e)) => d.cx.reads_same_workload(&e.cx, w),
        _ => false,
    };
    // What the group's templates read of each environment's values.
    let mut reads = Vec::new();
    if checks.len() > 1 {
        for t in templates {
            tmpl::cond_reads(&t.cond, &mut reads);
            tmpl::reads_of(&t.node, &mut reads);
        }
        reads.sort_unstable();
        reads.dedup();
    }
    let mut matching: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    for (e, check) in checks.iter().enumerate() {
        let ctx = check.ctx();
        let agreeing: Vec<usize> = matching
            .iter()
            .copied()
            .filter(|d| {
                checks
                    .get(*d)
                    .is_some_and(|seen| ctx.agrees_on(&seen.ctx(), &reads))
            })
            .collect();
        if agreeing.iter().any(|&d| reads_same(d, e)) {
            continue;
        }
        let group = crate::ir::lower_source(&check.cx, src);
        let like = |d: &usize| matches!(groups.get(*d), Some(Some(theirs)) if same(&group, theirs));
        if agreeing.iter().any(like) {
            groups[e] = Some(group);
            continue;
        }
        let (ms, exact) = check.mismatches(&ctx, templates, pos, group.as_ref())?;
        if ms.is_empty() && exact {
            matching.push(e);
        }
        found.extend(ms.into_iter().map(|(at, m)| (e, at, m)));
        groups[e] = Some(group);
    }
    Ok(found)
}

impl<'m> EnvCheck<'m> {
    fn new(env: &'m Model, per_env: bool) -> EnvCheck<'m> {
        EnvCheck {
            env,
            values: values_of(env, per_env),
            cx: l::Cx::standing_in(env, RELEASE.to_string(), NAMESPACE.to_string()),
        }
    }

    /// What the templates are rendered with for this environment.
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            values: &self.values,
            namespace: NAMESPACE,
            release: RELEASE,
            config_name: &config_name,
        }
    }

    /// Renders a group's templates with the environment's values (`ctx`) and compares
    /// them with the environment's objects of that group: every object that comes out
    /// differently, with where it sorts; and whether every object came out exactly with
    /// the stand-ins for the release and the namespace (one may differ only there and
    /// still come out the same with the environment's own).
    fn mismatches(
        &self,
        ctx: &Ctx,
        templates: &[Template],
        pos: usize,
        group: Option<&crate::ir::Group>,
    ) -> Result<(Vec<(Key, Mismatch)>, bool), EmitError> {
        let env = self.env;
        // Whether every object is rendered with the stand-ins exactly, and not only with
        // the environment's own release and namespace.
        let mut exact = true;
        let failed = |o: &crate::ir::Object, e: &dyn std::fmt::Display| EmitError::Helm {
            env: Some(env.env.clone()),
            object: o.name().to_string(),
            reason: e.to_string(),
        };
        // What each template renders for this environment, by name.
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in templates.iter().enumerate() {
            if ctx.holds(&t.cond) && !ctx.renders(&t.node, None) {
                by_key.entry(ctx.key(&t.node)).or_default().push(i);
            }
        }
        let mut out: Vec<(Key, Mismatch)> = Vec::new();
        let mut matched = vec![false; templates.len()];
        if let Some(g) = group {
            for (oi, o) in g.objects.iter().enumerate() {
                let at = (pos, oi, String::new());
                let k = object_key(o);
                let tree = Tree::of(o).map_err(|e| failed(o, &e))?;
                let Some(ts) = by_key.get(&k) else {
                    out.push((
                        at,
                        Mismatch {
                            key: k,
                            reason: "the chart has no template that renders it".to_string(),
                            template: None,
                            raw: Some((tree, g.file.clone())),
                        },
                    ));
                    continue;
                };
                for &i in ts {
                    let (Some(t), Some(seen)) = (templates.get(i), matched.get_mut(i)) else {
                        continue;
                    };
                    *seen = true;
                    if ctx.renders(&t.node, Some(&tree)) {
                        continue;
                    }
                    // Rendered in full, and the object made a value, only to say how
                    // they differ: with the environment's own release and namespace.
                    let release = l::instance(env);
                    let own = Ctx {
                        namespace: &env.platform.namespace,
                        release: &release,
                        ..*ctx
                    };
                    let r = own.eval(&t.node).unwrap_or(Value::Null);
                    let mut theirs = tree.clone();
                    restore(&mut theirs, &release, &env.platform.namespace);
                    if let Some(reason) = first_difference(&theirs.to_value(), &r) {
                        out.push((
                            at.clone(),
                            Mismatch {
                                key: k.clone(),
                                reason,
                                template: Some(i),
                                raw: Some((tree.clone(), g.file.clone())),
                            },
                        ));
                    } else {
                        exact = false;
                    }
                }
            }
        }
        for (k, ts) in by_key {
            for i in ts.into_iter().filter(|i| !matched[*i]) {
                out.push((
                    (usize::MAX, 0, k.clone()),
                    Mismatch {
                        key: k.clone(),
                        reason: "the chart renders it, the environment has no such object".into(),
                        template: Some(i),
                        raw: None,
                    },
                ));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((out, exact))
    }
}

/// What an object is known by in the chart: `apiVersion kind name`.
fn object_key(o: &crate::ir::Object) -> String {
    let (api, kind) = o.type_meta();
    tmpl::key_of(api, kind, o.name())
}

/// The first difference of an environment's object and the chart's, in words.
fn first_difference(env: &Value, chart: &Value) -> Option<String> {
    let (path, a, b) = super::first_difference(env, chart)?;
    Some(match (a, b) {
        (Some(_), None) => format!("`{path}` is missing from the chart"),
        (None, _) => format!("the chart adds `{path}`"),
        (Some(a), Some(b)) => {
            format!("`{path}` is {a} in the environment but {b} from the chart")
        }
    })
}

// ---- the chart's files -----------------------------------------------------------

/// A file of the chart from its text.
fn text_file(path: String, body: String) -> OutFile {
    OutFile {
        path,
        bytes: body.into_bytes(),
    }
}

/// The chart's files other than its templates: Chart.yaml, the helpers, the notes, the
/// values of the chart and of every environment (`env_values`, with an `environment`
/// value when `per_env`), and their schema (on another core when `split`).
fn chart_files(
    base: &Model,
    envs: &[&Model],
    env_values: &[Value],
    per_env: bool,
    split: bool,
) -> Result<Vec<OutFile>, EmitError> {
    let dir = root(base);
    let chart = base.platform.name.as_str();
    let mut files = Vec::new();

    // Chart.yaml
    let version = base
        .platform
        .version
        .clone()
        .filter(|v| is_semver(v))
        .unwrap_or_else(|| "0.1.0".into());
    let (major, minor) = base.platform.kubernetes;
    let description = base
        .platform
        .doc
        .as_deref()
        .and_then(|d| d.lines().next())
        .map_or_else(
            || format!("The {chart} platform, compiled by sorchac."),
            str::to_string,
        );
    let mut chart_yaml = Map::new();
    chart_yaml.insert("apiVersion".into(), json!("v2"));
    chart_yaml.insert("name".into(), json!(chart));
    chart_yaml.insert("description".into(), json!(description));
    chart_yaml.insert("type".into(), json!("application"));
    chart_yaml.insert("version".into(), json!(version));
    if let Some(v) = &base.platform.version {
        chart_yaml.insert("appVersion".into(), json!(v));
    }
    chart_yaml.insert(
        "kubeVersion".into(),
        json!(format!(">= {major}.{minor}.0-0")),
    );
    files.push(text_file(
        format!("{dir}/Chart.yaml"),
        format!("{HEADER}\n{}", yaml_text(&Value::Object(chart_yaml))?),
    ));

    // The chart's other files go before the values are made.
    files.push(text_file(
        format!("{dir}/templates/_helpers.tpl"),
        helpers(chart),
    ));
    if let Some(secrets) = secrets_template(base, chart) {
        files.push(text_file(
            format!("{dir}/templates/deploy-secrets.yaml"),
            secrets,
        ));
    }
    files.push(text_file(format!("{dir}/templates/NOTES.txt"), notes(base)));
    files.push(text_file(
        format!("{dir}/.helmignore"),
        "# Patterns Helm leaves out of the package.\n.git/\n*.orig\n*~\n".into(),
    ));

    // The values files, and their schema, beside them or after.
    let leaves = values::leaves(base, per_env);
    let values = || values_files(base, envs, env_values, &leaves);
    let schema = || schema_file(&dir, envs, &leaves);
    let (values, schema) = match split {
        true => crate::par::join(values, schema),
        false => (values(), schema()),
    };
    files.extend(values?);
    files.push(schema);
    Ok(files)
}

/// `values.schema.json`: the schema of the values `leaves`.
fn schema_file(dir: &str, envs: &[&Model], leaves: &[values::Leaf]) -> OutFile {
    let env_names: Vec<&str> = envs.iter().map(|e| e.env.as_str()).collect();
    let schema = values::schema(leaves, &env_names);
    // Room for the whole schema at once (about 360 bytes a value), rather than grown,
    // and copied, step by step.
    let mut printed = Vec::with_capacity(4096 + 384 * leaves.len());
    let mut ser = serde_json::Serializer::with_formatter(&mut printed, values::Pretty::default());
    if serde::Serialize::serialize(&schema, &mut ser).is_ok() {
        printed.push(b'\n');
    } else {
        printed = b"\n".to_vec();
    }
    OutFile {
        path: format!("{dir}/values.schema.json"),
        bytes: printed,
    }
}

/// `values.yaml` and every environment's changes to it, `values-ENV.yaml`.
fn values_files(
    base: &Model,
    envs: &[&Model],
    env_values: &[Value],
    leaves: &[values::Leaf],
) -> Result<Vec<OutFile>, EmitError> {
    let dir = root(base);
    let chart = base.platform.name.as_str();
    let base_values = values::tree(leaves);
    let docs: HashMap<Vec<&str>, &str> = leaves
        .iter()
        .map(|l| (l.path.iter().map(String::as_str).collect(), l.doc.as_str()))
        .collect();
    let paths: Vec<Vec<String>> = base
        .workloads
        .iter()
        .map(|w| values::workload_path(w))
        .collect();
    let mut groups: HashMap<Vec<&str>, String> = HashMap::new();
    for (w, path) in base.workloads.iter().zip(&paths) {
        let doc = w
            .doc
            .as_deref()
            .and_then(|d| d.lines().next())
            .unwrap_or("");
        groups.insert(
            path.iter().map(String::as_str).collect(),
            format!("The {} `{}`. {doc}", w.kind.as_str(), w.name)
                .trim_end()
                .to_string(),
        );
    }
    let mut out = format!(
        "{HEADER}\n# Values of the {chart} chart. Each environment's file (values-ENV.yaml) holds only\n# what that environment changes; install with `-f values-ENV.yaml` and the secrets.\n"
    );
    write_values(&base_values, &mut Vec::new(), 0, &docs, &groups, &mut out)?;
    let mut files = vec![text_file(format!("{dir}/values.yaml"), out)];
    for (env, env_values) in envs.iter().zip(env_values) {
        let changes =
            values::changes(&base_values, env_values).unwrap_or(Value::Object(Map::new()));
        let mut out = format!(
            "{HEADER}\n# Environment `{}`: only what it changes of values.yaml.\n",
            env.env
        );
        if changes.as_object().is_some_and(Map::is_empty) {
            out.push_str("{}\n");
        } else {
            write_values(
                &changes,
                &mut Vec::new(),
                0,
                &docs,
                &HashMap::new(),
                &mut out,
            )?;
        }
        files.push(text_file(format!("{dir}/values-{}.yaml", env.env), out));
    }
    Ok(files)
}

/// A template file: its header, then its objects, each under its condition.
fn print_file(chart: &str, ts: &[&Template]) -> String {
    // An object's template runs to about two kilobytes: the text is given room for
    // its objects at once rather than grown step by step.
    let mut out = String::with_capacity(2048 * ts.len());
    out.push_str(&template_header());
    let mut p = Printer { chart, out };
    for t in ts {
        let cond = match (&t.cond, t.namespace) {
            (Cond::True, false) => None,
            (Cond::True, true) => Some(".Release.Namespace".to_string()),
            (c, false) => Some(p.cond(c)),
            (c, true) => Some(format!("and .Release.Namespace ({})", p.cond(c))),
        };
        if let Some(c) = &cond {
            p.out.push_str(&format!("{{{{- if {c} }}}}\n"));
        }
        p.out.push_str("---\n");
        match &t.node {
            // An object some environments have in their own form.
            Node::Choice(branches) => {
                for (i, (c, b)) in branches.iter().enumerate() {
                    let head = match (i, c) {
                        (0, c) => format!("{{{{- if {} }}}}", p.cond(c)),
                        (_, Cond::True) => "{{- else }}".to_string(),
                        (_, c) => format!("{{{{- else if {} }}}}", p.cond(c)),
                    };
                    p.out.push_str(&head);
                    p.out.push('\n');
                    print_object(&mut p, b);
                }
                p.out.push_str("{{- end }}\n");
            }
            node => print_object(&mut p, node),
        }
        if cond.is_some() {
            p.out.push_str("{{- end }}\n");
        }
    }
    p.out
}

/// An object's entries at the top level.
fn print_object(p: &mut Printer, node: &Node) {
    match node {
        Node::Map(entries) => p.map(entries, 0),
        Node::Lit(Tree::Map(m)) => p.lit_map(m, 0),
        _ => {}
    }
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn yaml_text<T: serde::Serialize>(v: &T) -> Result<String, EmitError> {
    yaml::to_yaml(v).map_err(|reason| EmitError::Yaml {
        object: "chart".into(),
        reason,
    })
}

/// Values as YAML, each with the comment that says what it does. `path` is where `v`
/// sits (its keys are pushed and popped as the walk goes).
fn write_values<'v>(
    v: &'v Value,
    path: &mut Vec<&'v str>,
    ind: usize,
    docs: &HashMap<Vec<&str>, &str>,
    groups: &HashMap<Vec<&str>, String>,
    out: &mut String,
) -> Result<(), EmitError> {
    let Value::Object(m) = v else {
        return Ok(());
    };
    let pad = " ".repeat(ind);
    for (k, child) in m {
        path.push(k);
        let doc = docs.get(path.as_slice()).copied();
        let group = groups.get(path.as_slice());
        if let Some(doc) = doc.or(group.map(String::as_str)) {
            if ind == 0 || group.is_some() {
                out.push('\n');
            }
            for line in doc.lines() {
                out.push_str(&pad);
                out.push_str("# ");
                out.push_str(line);
                out.push('\n');
            }
        }
        match child {
            Value::Object(c) if !c.is_empty() && doc.is_none() => {
                out.push_str(&pad);
                out.push_str(k);
                out.push_str(":\n");
                write_values(child, path, ind + 2, docs, groups, out)?;
            }
            _ => {
                for line in yaml_text(&Entry1(k, child))?.lines() {
                    out.push_str(&pad);
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        path.pop();
    }
    Ok(())
}

/// A map of one entry, as YAML writes a value under its key.
struct Entry1<'a>(&'a str, &'a Value);

impl serde::Serialize for Entry1<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

fn helpers(chart: &str) -> String {
    format!(
        r#"{{{{- /* Helpers of the {chart} chart. */}}}}

{{{{/* The chart label: name and version. */}}}}
{{{{- define "{chart}.chart" -}}}}
{{{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}}}
{{{{- end }}}}

{{{{/* The labels every object of the chart carries. */}}}}
{{{{- define "{chart}.labels" -}}}}
helm.sh/chart: {{{{ include "{chart}.chart" . }}}}
app.kubernetes.io/part-of: {{{{ .Chart.Name }}}}
app.kubernetes.io/instance: {{{{ .Release.Name | quote }}}}
app.kubernetes.io/managed-by: {{{{ .Release.Service }}}}
{{{{- if .Chart.AppVersion }}}}
app.kubernetes.io/version: {{{{ .Chart.AppVersion | quote }}}}
{{{{- end }}}}
{{{{- end }}}}

{{{{/*
The name of a config's ConfigMap: its name and a hash of its entries, as Kustomize's
configMapGenerator computes it (so new entries make a new ConfigMap and roll the pods
that read it). Takes a dict with "name" and "data".
*/}}}}
{{{{- define "{chart}.configName" -}}}}
{{{{- $data := .data | default dict -}}}}
{{{{- $hashed := dict "kind" "ConfigMap" "name" "" "data" (ternary $data "" (gt (len $data) 0)) -}}}}
{{{{- $hash := toJson $hashed | sha256sum | trunc 10 | replace "0" "g" | replace "1" "h" | replace "3" "k" | replace "a" "m" | replace "e" "t" -}}}}
{{{{- printf "%s-%s" .name $hash -}}}}
{{{{- end }}}}
"#
    )
}

/// Secrets supplied at deploy time, from values that must be set.
fn secrets_template(base: &Model, chart: &str) -> Option<String> {
    let deploy: Vec<_> = base
        .secrets
        .iter()
        .filter(|s| s.source == SecretSource::Deploy)
        .collect();
    if deploy.is_empty() {
        return None;
    }
    let mut out =
        String::from("{{- /* Secrets supplied at deploy time: every value is required. */}}\n");
    for s in deploy {
        let camel = values::camel(&s.name);
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\n  namespace: {{{{ .Release.Namespace }}}}\n  labels:\n    {{{{- include \"{chart}.labels\" . | nindent 4 }}}}\n    app.kubernetes.io/name: {}\n    app.kubernetes.io/component: secret\ntype: Opaque\nstringData:\n",
            s.name, s.name
        ));
        for k in &s.keys {
            out.push_str(&format!(
                "  {k}: {{{{ required \"secrets.{camel}.{k} is required: supply it with -f or --set\" (index .Values.secrets.{camel} {}) | quote }}}}\n",
                serde_json::to_string(k).unwrap_or_default()
            ));
        }
    }
    Some(out)
}

fn notes(base: &Model) -> String {
    let mut out = String::from(
        "{{ .Chart.Name }} {{ .Chart.AppVersion }} is installed in the namespace {{ .Release.Namespace }}.\n\nWorkloads:\n",
    );
    for w in &base.workloads {
        out.push_str(&format!("  - {} ({})\n", w.name, w.kind.as_str()));
    }
    if !base.gateways.is_empty() {
        out.push_str("\nReach it at:\n");
        for g in &base.gateways {
            let scheme = if g.tls.is_some() { "https" } else { "http" };
            out.push_str(&format!(
                "  - {}: {scheme}://{{{{ .Values.gateways.{}.host }}}}\n",
                g.name,
                values::camel(&g.name)
            ));
        }
    }
    out.push_str(
        "\nSee it roll out:\n  kubectl -n {{ .Release.Namespace }} get deployments,statefulsets,cronjobs,jobs\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_file_is_handed_on_once() {
        let claimed = Claimed::default();
        let file = |name: &str| (name.to_string(), String::new());
        assert!(claimed.claim(&[file("a.yaml"), file("b.yaml")]).is_ok());
        assert!(claimed.claim(&[file("c.yaml")]).is_ok());
        let again = claimed.claim(&[file("d.yaml"), file("b.yaml")]);
        assert!(
            matches!(again, Err(EmitError::Helm { object, .. }) if object == "templates/b.yaml")
        );
    }
}
