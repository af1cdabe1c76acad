//! The kustomize target: `kustomize/base/`, the platform without any environment's
//! overrides, and `kustomize/overlays/<env>/` for every environment, holding only what
//! that environment changes. `kubectl kustomize overlays/<env>` builds exactly the raw
//! output of the environment (`tests/kustomize.rs` checks it with kubectl).
//!
//! The base is the raw output of the program without overrides, minus what its
//! kustomization puts back with Kustomize's own features: the namespace (`namespace`),
//! the labels every object carries (`labels`, templates included), image tags
//! (`images`) and configs (`configMapGenerator`, so the content-hash name suffixes and
//! the rewriting of references come from Kustomize itself).
//!
//! An overlay is worked out by taking the environment's raw objects back through the
//! overlay's transformers (`namespace`, `labels`, `images`, `replicas`, generators) and
//! comparing them with the base object by object: most are then equal (a typed
//! comparison, cheap); what is left of the others becomes one JSON 6902 patch per object,
//! with one operation per changed field. Objects the environment adds are overlay
//! resources; objects it drops are deleted with a strategic-merge `$patch: delete`.
//!
//! The tree is made a declaration at a time ([`by_declaration`]), each declaration's
//! objects lowered in the base and every environment, compared, printed and dropped;
//! [`whole`] makes the same tree from whole environments when that cannot be trusted.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use super::{EmitError, OutFile, header, raw, yaml};
use crate::check::Model;
use crate::check::model::{Config, Secret, SecretSource};
use crate::ir::labels::{self as l, Cx, Labels};
use crate::ir::{self, Group, Object, Source};

/// The kustomize tree.
pub struct Tree {
    pub files: Vec<OutFile>,
    /// Files that belong to the operator, not to the build (secret env files): a new
    /// build carries them over from the tree it replaces.
    pub keep: Vec<String>,
}

/// Where the tree goes, under the output directory.
pub const ROOT: &str = "kustomize";

/// The tree for a program: its base model and every environment's.
pub fn of_models(base: &Model, envs: &[&Model]) -> Result<Tree, EmitError> {
    let (base, envs) = crate::par::join(|| Cx::new(base), || Cx::each(envs));
    tree(&base, &envs)
}

/// The tree from the base's lowering context and every environment's: made declaration
/// by declaration ([`by_declaration`]), or from every environment lowered whole
/// ([`whole`]) where that could not be trusted to give the same tree.
pub fn tree(base: &Cx, envs: &[Cx]) -> Result<Tree, EmitError> {
    by_declaration(base, envs).and_then(|made| or_whole(made, base, envs))
}

/// The tree made by declaration, or from whole environments where that is `None`.
fn or_whole(made: Option<Tree>, base: &Cx, envs: &[Cx]) -> Result<Tree, EmitError> {
    match made {
        Some(tree) => Ok(tree),
        None => whole(base, envs),
    }
}

/// The tree made one declaration at a time: its objects lowered in the base and in
/// every environment, compared, printed and dropped before the next, on all cores, so
/// that no environment's objects are ever held together.
///
/// The overlays' transformers need to know one thing of a whole environment before any
/// of its objects is compared: the image tags it uses. They are planned from the models
/// ([`ir::workload::images`]) and held to the objects as they come. `None` when the
/// objects did not bear the plan out, or when an object is not where this way of
/// working looks for it (an id the base has twice, an environment's object whose base
/// object belongs to another declaration): [`whole`] then makes the tree.
pub fn by_declaration(base: &Cx, envs: &[Cx]) -> Result<Option<Tree>, EmitError> {
    with_plans(base, envs, |b, plans| planned(base, envs, b, plans))
}

/// [`tree`], with the raw output of every environment made beside it from the same
/// lowering ([`raw::Beside`]): each run's raw files are handed to `put` a batch at a
/// time, where they were made. The number of raw objects and the tree; once the raw
/// output fails, nothing more is made, and that failure is the result.
pub fn tree_with_raw<E: From<EmitError> + Send>(
    base: &Cx,
    envs: &[Cx],
    put: impl Fn(Vec<OutFile>) -> Result<(), E> + Sync,
) -> Result<(usize, Result<Tree, EmitError>), E> {
    let beside = raw::Beside::new(envs);
    let (objects, made) = with_plans(base, envs, |b, plans| {
        planned_beside(base, envs, b, plans, Some((&beside, &put)))
    })?;
    Ok((objects, made.and_then(|made| or_whole(made, base, envs))))
}

/// `f` of the plans of the base and of every environment, with their image tags
/// planned from the models.
fn with_plans<T>(base: &Cx, envs: &[Cx], f: impl FnOnce(&BasePlan, &[EnvPlan]) -> T) -> T {
    let b = BasePlan::new(base.m, ir::workload::images(base.m));
    let plans: Vec<EnvPlan> = envs
        .iter()
        .map(|cx| EnvPlan::new(&b, cx.m, ir::workload::images(cx.m)))
        .collect();
    f(&b, &plans)
}

/// [`by_declaration`] with the plans made.
fn planned(
    base: &Cx,
    envs: &[Cx],
    b: &BasePlan,
    plans: &[EnvPlan],
) -> Result<Option<Tree>, EmitError> {
    planned_beside(
        base,
        envs,
        b,
        plans,
        None::<RawBeside<'_, '_, '_, EmitError>>,
    )?
    .1
}

/// The raw output made beside the overlays' declarations: what prints it, and where its
/// files go.
type RawBeside<'a, 'c, 'm, E> = (
    &'a raw::Beside<'c, 'm>,
    &'a (dyn Fn(Vec<OutFile>) -> Result<(), E> + Sync),
);

/// [`planned`], with the raw output printed from the same lowering of each source when
/// `raw` is given, and handed to its `put` a batch at a time, where it was made: the
/// number of raw objects (none without it), and the tree. Once the raw output fails,
/// nothing more is made, and that failure is the result; without it, a run stops at
/// its first failure.
fn planned_beside<E: From<EmitError> + Send>(
    base: &Cx,
    envs: &[Cx],
    b: &BasePlan,
    plans: &[EnvPlan],
    raw: Option<RawBeside<'_, '_, '_, E>>,
) -> Result<(usize, Result<Option<Tree>, EmitError>), E> {
    let sources = ir::sources_of(std::iter::once(base.m).chain(envs.iter().map(|cx| cx.m)));
    let runs = crate::par::runs(&sources, |_, run| {
        let mut seen = Ok(Seen::new(envs.len()));
        let mut files = Vec::new();
        let mut objects = 0;
        for s in run {
            let mut unit = Unit::lowered(base, envs, *s);
            if let Some((beside, put)) = raw {
                let mut groups: Vec<Option<&mut Group>> = unit
                    .envs
                    .iter_mut()
                    .map(|g| g.first_mut().map(|(_, g)| g))
                    .collect();
                match beside.files(*s, &mut groups, &unit.same) {
                    Ok((f, n)) => {
                        files.extend(f);
                        objects += n;
                    }
                    Err(e) => return (Err(E::from(e)), seen),
                }
                if files.len() >= raw::BATCH
                    && let Err(e) = put(std::mem::take(&mut files))
                {
                    return (Err(e), seen);
                }
            }
            if let Ok(into) = seen.as_mut()
                && let Err(e) = see(b, plans, unit, into)
            {
                seen = Err(e);
                if raw.is_none() {
                    break;
                }
            }
        }
        let raw = match raw {
            Some((_, put)) => put(files).map(|()| objects),
            None => Ok(0),
        };
        (raw, seen)
    });
    let mut objects = 0;
    let mut all = Seen::new(envs.len());
    let mut failed = None;
    for (raw, seen) in runs {
        objects += raw?;
        match seen {
            Ok(seen) => all.append(seen),
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    let tree = match failed {
        Some(e) => Err(e),
        None if all.bears_out(b, plans) => assemble(b, plans, all).map(Some),
        None => Ok(None),
    };
    Ok((objects, tree))
}

/// The tree made from the base and every environment lowered whole, with the image
/// tags taken from their objects.
pub fn whole(base: &Cx, envs: &[Cx]) -> Result<Tree, EmitError> {
    let unit = Unit {
        base: ir::lower_placed(base),
        envs: envs.iter().map(ir::lower_placed).collect(),
        same: vec![false; envs.len()],
    };
    let images_of = |groups: &[(usize, Group)]| -> Vec<String> {
        let objects = groups.iter().flat_map(|(_, g)| &g.objects);
        objects.flat_map(images).map(str::to_string).collect()
    };
    let b = BasePlan::new(base.m, images_of(&unit.base).iter().map(String::as_str));
    let plans: Vec<EnvPlan> = envs
        .iter()
        .zip(&unit.envs)
        .map(|(cx, groups)| EnvPlan::new(&b, cx.m, images_of(groups).iter().map(String::as_str)))
        .collect();
    let mut seen = Seen::new(envs.len());
    see(&b, &plans, unit, &mut seen)?;
    assemble(&b, &plans, seen)
}

// ---- objects ------------------------------------------------------------------------

/// What Kustomize identifies an object by (namespaces aside).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Id {
    api_version: &'static str,
    kind: &'static str,
    name: String,
}

impl Id {
    fn of(o: &Object) -> Id {
        let (api_version, kind) = o.type_meta();
        Id {
            api_version,
            kind,
            name: o.name().to_string(),
        }
    }
}

fn value(o: &Object) -> Result<Value, EmitError> {
    serde_json::to_value(o).map_err(|e| EmitError::Yaml {
        object: format!("{} {}", o.type_meta().1, o.name()),
        reason: e.to_string(),
    })
}

fn is_config_map(o: &Object) -> bool {
    matches!(o, Object::ConfigMap(_))
}

/// The label maps Kustomize's `labels` (with `includeTemplates`) writes to.
fn each_label_map(o: &mut Object, f: &mut dyn FnMut(&mut Labels)) {
    for m in o.label_metas_mut() {
        f(m.labels.get_or_insert_with(Labels::new));
    }
}

/// Sets `metadata.namespace` (namespaced objects) and the name of the Namespace, as
/// Kustomize's `namespace` does.
fn set_namespace(o: &mut Object, ns: &str) {
    let namespace = matches!(o, Object::Namespace(_));
    let meta: &mut ObjectMeta = o.metadata_mut();
    if namespace {
        meta.name = Some(ns.to_string());
    } else {
        meta.namespace = Some(ns.to_string());
    }
}

/// Every container image of an object's pods.
fn images(o: &Object) -> impl Iterator<Item = &str> {
    o.pod_spec().into_iter().flat_map(|spec| {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .filter_map(|c| c.image.as_deref())
    })
}

fn each_image(o: &mut Object, f: &mut dyn FnMut(&mut String)) {
    if let Some(spec) = o.pod_spec_mut() {
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            if let Some(image) = c.image.as_mut() {
                f(image);
            }
        }
    }
}

/// An image reference split into name and tag; `None` for references with a digest or
/// without a tag, which Kustomize's `images` cannot write back exactly.
fn split_image(image: &str) -> Option<(&str, &str)> {
    if image.contains('@') {
        return None;
    }
    let (name, tag) = image.rsplit_once(':')?;
    (!tag.contains('/') && !tag.is_empty()).then_some((name, tag))
}

/// Renames the references to ConfigMaps of a workload (volumes, projected sources,
/// `configMapKeyRef`, `configMapRef`) that `names` maps.
fn rename_config_refs_typed(o: &mut Object, names: &HashMap<String, String>) {
    if names.is_empty() {
        return;
    }
    let Some(spec) = o.pod_spec_mut() else {
        return;
    };
    let rename = |name: &mut String| {
        if let Some(new) = names.get(name.as_str()) {
            *name = new.clone();
        }
    };
    for v in spec.volumes.iter_mut().flatten() {
        if let Some(c) = v.config_map.as_mut() {
            rename(&mut c.name);
        }
        if let Some(p) = v.projected.as_mut() {
            for src in p.sources.iter_mut().flatten() {
                if let Some(c) = src.config_map.as_mut() {
                    rename(&mut c.name);
                }
            }
        }
    }
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        for e in c.env.iter_mut().flatten() {
            if let Some(r) = e
                .value_from
                .as_mut()
                .and_then(|f| f.config_map_key_ref.as_mut())
            {
                rename(&mut r.name);
            }
        }
        for e in c.env_from.iter_mut().flatten() {
            if let Some(r) = e.config_map_ref.as_mut() {
                rename(&mut r.name);
            }
        }
    }
}

/// The same, in a value (a patch operation's).
fn rename_config_refs(v: &mut Value, names: &HashMap<String, String>) {
    if names.is_empty() {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if matches!(k.as_str(), "configMap" | "configMapKeyRef" | "configMapRef")
                    && let Some(Value::String(name)) = child.get_mut("name")
                    && let Some(new) = names.get(name.as_str())
                {
                    *name = new.clone();
                }
                rename_config_refs(child, names);
            }
        }
        Value::Array(items) => {
            for i in items {
                rename_config_refs(i, names);
            }
        }
        _ => {}
    }
}

// ---- the kustomization file -------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<LabelSet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replicas: Vec<Replicas>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    config_map_generator: Vec<Generator>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secret_generator: Vec<Generator>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<Patch>,
}

impl Kustomization {
    fn new(resources: Vec<String>) -> Kustomization {
        Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            namespace: None,
            resources,
            labels: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            config_map_generator: Vec::new(),
            secret_generator: Vec::new(),
            patches: Vec::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSet {
    pairs: Labels,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    include_templates: bool,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Image {
    name: String,
    new_tag: String,
}

#[derive(Serialize)]
struct Replicas {
    name: String,
    count: i64,
}

#[derive(Serialize)]
struct Generator {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    behavior: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    literals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    envs: Vec<String>,
    options: GeneratorOptions,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratorOptions {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    disable_name_suffix_hash: bool,
    labels: Labels,
}

#[derive(Serialize)]
struct Patch {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
}

#[derive(Serialize)]
struct Target {
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    version: String,
    kind: String,
    name: String,
}

/// One JSON 6902 operation.
#[derive(Serialize)]
struct Op {
    op: &'static str,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
}

fn yaml_of<T: Serialize>(what: &str, value: &T) -> Result<String, EmitError> {
    yaml::to_yaml(value).map_err(|reason| EmitError::Yaml {
        object: what.to_string(),
        reason,
    })
}

fn with_header(comment: &[String], body: &str) -> Vec<u8> {
    let mut out = header(comment, body.len());
    out.push_str(body);
    out.into_bytes()
}

// ---- configs ----------------------------------------------------------------------

/// A config as a `configMapGenerator`: one-line values as literals, the rest (and what
/// was read from a file) as files under `configs/NAME/`, beside the kustomization.
fn generator(
    c: &Config,
    labels: Labels,
    behavior: Option<&'static str>,
    dir: &str,
    files: &mut Vec<OutFile>,
) -> Generator {
    let mut g = Generator {
        name: c.name.clone(),
        behavior,
        literals: Vec::new(),
        files: Vec::new(),
        envs: Vec::new(),
        options: GeneratorOptions {
            disable_name_suffix_hash: false,
            labels,
        },
    };
    for e in &c.entries {
        if e.file.is_none() && literal_safe(&e.value) {
            g.literals.push(format!("{}={}", e.key, e.value));
        } else {
            let rel = format!("configs/{}/{}", c.name, e.key);
            g.files.push(format!("{}={rel}", e.key));
            files.push(OutFile {
                path: format!("{dir}/{rel}"),
                bytes: e.value.clone().into_bytes(),
            });
        }
    }
    g
}

/// Whether Kustomize reads `KEY=value` back as exactly `value`: one line, and not
/// wrapped in quotes (which Kustomize strips).
fn literal_safe(value: &str) -> bool {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    !value.contains(['\n', '\r']) && !quoted
}

/// A kustomization's `labels`: those every object and template gets, then those only
/// the objects get (when there are any).
fn label_sets(templates_too: &Labels, objects_only: &Labels) -> Vec<LabelSet> {
    let mut sets = vec![LabelSet {
        pairs: templates_too.clone(),
        include_templates: true,
    }];
    if !objects_only.is_empty() {
        sets.push(LabelSet {
            pairs: objects_only.clone(),
            include_templates: false,
        });
    }
    sets
}

/// Labels split into those only objects carry (the version) and those templates carry
/// too.
fn split_labels(all: &Labels) -> (Labels, Labels) {
    all.iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| k == l::VERSION)
}

/// The labels a generated object gets from its generator: its own, less those the
/// kustomization's `labels` add.
fn own_labels(o: &Object, common: &Labels) -> Labels {
    o.metadata()
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !common.contains_key(*k) && k.as_str() != l::INSTANCE)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// ConfigMap name (with its hash) -> config name, for a model.
fn config_names(m: &Model) -> HashMap<String, String> {
    m.configs
        .iter()
        .map(|c| (format!("{}-{}", c.name, l::config_hash(c)), c.name.clone()))
        .collect()
}

// ---- what the kustomizations do, planned before any object is seen -----------------

/// The base: the program without any environment's overrides, less what its
/// kustomization puts back (namespace, labels, image tags, configs).
struct BasePlan<'a> {
    model: &'a Model,
    /// Labels every object and template carries, whatever the environment.
    common: Labels,
    /// Labels only the objects themselves carry: the version, which claim templates and
    /// a Job's template cannot take (they cannot change once created).
    meta: Labels,
    /// Both.
    all: Labels,
    /// Images whose every use has the same tag: name -> tag.
    images: BTreeMap<String, String>,
    /// The image references the plan was made for.
    planned: BTreeSet<String>,
    /// ConfigMap name (with its hash) -> config name.
    unhash: HashMap<String, String>,
}

impl<'a> BasePlan<'a> {
    fn new<'i>(model: &'a Model, images: impl Iterator<Item = &'i str>) -> BasePlan<'a> {
        let all = l::platform_labels(model);
        let (meta, common) = split_labels(&all);
        let planned: BTreeSet<String> = images.map(str::to_string).collect();
        let mut tags: BTreeMap<&str, BTreeSet<Option<&str>>> = BTreeMap::new();
        for image in &planned {
            match split_image(image) {
                Some((name, tag)) => {
                    tags.entry(name).or_default().insert(Some(tag));
                }
                None => {
                    let name = image.split(['@', ':']).next().unwrap_or(image);
                    tags.entry(name).or_default().insert(None);
                }
            }
        }
        let images = tags
            .into_iter()
            .filter_map(
                |(name, tags)| match tags.into_iter().collect::<Vec<_>>()[..] {
                    [Some(tag)] => Some((name.to_string(), tag.to_string())),
                    _ => None,
                },
            )
            .collect();
        BasePlan {
            model,
            common,
            meta,
            all,
            images,
            planned,
            unhash: config_names(model),
        }
    }

    fn ns(&self) -> &str {
        &self.model.platform.namespace
    }

    /// The base's configs, by name.
    fn configs(&self) -> HashMap<&'a str, &'a Config> {
        self.model
            .configs
            .iter()
            .map(|c| (c.name.as_str(), c.as_ref()))
            .collect()
    }

    /// An object as the base writes it: without what the kustomization adds back.
    fn strip(&self, o: &Object) -> Object {
        let mut o = o.clone();
        o.metadata_mut().namespace = None;
        for (i, m) in o.label_metas_mut().into_iter().enumerate() {
            if let Some(labels) = m.labels.as_mut() {
                let strip = if i == 0 { &self.all } else { &self.common };
                labels.retain(|k, _| !strip.contains_key(k) && k != l::INSTANCE);
                if labels.is_empty() {
                    m.labels = None;
                }
            }
        }
        o.prune_template_metas();
        each_image(&mut o, &mut |image| {
            if let Some((name, _)) = split_image(image)
                && self.images.contains_key(name)
            {
                *image = name.to_string();
            }
        });
        rename_config_refs_typed(&mut o, &self.unhash);
        o
    }
}

/// An overlay: the base, and the transformers that take it to one environment.
struct EnvPlan<'a> {
    model: &'a Model,
    dir: String,
    /// Whether the environment deploys to another namespace than the base.
    moved: bool,
    /// The labels every object and template gets: the instance, and the platform
    /// labels the environment changes.
    pairs: Labels,
    /// The labels only the objects get (a changed version).
    meta_pairs: Labels,
    /// A new tag for every use of an image the base tags.
    images: Vec<Image>,
    /// Image name -> the base's tag, for those the overlay retags.
    retag: HashMap<String, String>,
    /// The image references the plan was made for.
    planned: BTreeSet<String>,
    /// ConfigMap name (with its hash) -> the base's, for configs whose content changes.
    back: HashMap<String, String>,
    /// ConfigMap name (with its hash) -> config name, for the environment's configs.
    configs: HashMap<String, String>,
    /// The same for the base's and the environment's: config references in patches name
    /// the generator; Kustomize adds the hash.
    unhash: HashMap<String, String>,
}

impl<'a> EnvPlan<'a> {
    fn new<'i>(
        base: &BasePlan<'a>,
        m: &'a Model,
        images: impl Iterator<Item = &'i str>,
    ) -> EnvPlan<'a> {
        let mut changed = l::platform_labels(m);
        changed.retain(|key, v| base.all.get(key) != Some(v));
        let (meta_pairs, mut pairs) = split_labels(&changed);
        pairs.insert(l::INSTANCE.into(), l::instance(m));

        let planned: BTreeSet<String> = images.map(str::to_string).collect();
        let mut env_tags: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for image in &planned {
            let (name, tag) = split_image(image).unwrap_or((image, ""));
            env_tags.entry(name).or_default().insert(tag);
        }
        let mut retags = Vec::new();
        let mut retag = HashMap::new();
        for (name, base_tag) in &base.images {
            if let Some(tags) = env_tags.get(name.as_str())
                && let [tag] = tags.iter().collect::<Vec<_>>()[..]
                && !tag.is_empty()
                && tag != base_tag
            {
                retags.push(Image {
                    name: name.clone(),
                    new_tag: (*tag).to_string(),
                });
                retag.insert(name.clone(), base_tag.clone());
            }
        }

        let base_configs = base.configs();
        let back = m
            .configs
            .iter()
            .filter_map(|c| {
                let b = base_configs.get(c.name.as_str())?;
                (b.entries != c.entries).then(|| {
                    (
                        format!("{}-{}", c.name, l::config_hash(c)),
                        format!("{}-{}", b.name, l::config_hash(b)),
                    )
                })
            })
            .collect();
        let configs = config_names(m);
        let mut unhash = configs.clone();
        unhash.extend(base.unhash.iter().map(|(k, v)| (k.clone(), v.clone())));
        EnvPlan {
            model: m,
            dir: format!("{ROOT}/overlays/{}", m.env),
            moved: m.platform.namespace != base.ns(),
            pairs,
            meta_pairs,
            images: retags,
            retag,
            planned,
            back,
            configs,
            unhash,
        }
    }

    fn deploy_secrets(&self) -> impl Iterator<Item = &Secret> {
        self.model
            .secrets
            .iter()
            .map(AsRef::as_ref)
            .filter(|s| s.source == SecretSource::Deploy)
    }

    fn secret_env_files(&self) -> Vec<String> {
        self.deploy_secrets()
            .map(|s| format!("{}/secrets/{}.env", self.dir, s.name))
            .collect()
    }

    /// One object of the environment, beside the base objects of its declaration.
    fn see(
        &self,
        base: &BasePlan,
        from: &Unseen,
        (at, file): (At, &str),
        mut o: Object,
        out: &mut EnvSeen,
    ) -> Result<(), EmitError> {
        for image in images(&o) {
            out.images.insert(image.to_string());
        }
        let mut id = Id::of(&o);
        if matches!(o, Object::Namespace(_)) {
            id.name = base.ns().to_string();
        }
        let config_map = is_config_map(&o);
        if config_map && let Some(name) = self.configs.get(o.name()) {
            out.config_labels
                .push((at, name.clone(), own_labels(&o, &base.all)));
        }
        let Some(&i) = from.by_id.get(&id) else {
            // Added objects are written as the environment has them, less the
            // namespace, which the overlay sets.
            if !config_map {
                o.metadata_mut().namespace = None;
                rename_config_refs_typed(&mut o, &self.unhash);
                out.added
                    .push((at, file.to_string(), yaml::document(&o)?, id.clone()));
            }
            out.ids.push(id);
            return Ok(());
        };
        let from = &from.objects[i];
        // replicas of workloads that keep a fixed count in both
        let was = match from {
            Object::Deployment(d) => d.spec.as_ref().and_then(|s| s.replicas),
            Object::StatefulSet(s) => s.spec.as_ref().and_then(|s| s.replicas),
            _ => None,
        };
        if let (Some(was), Some(r)) = (was, o.replicas_mut())
            && let Some(to) = *r
            && was != to
        {
            out.replicas.push((
                at,
                Replicas {
                    name: id.name.clone(),
                    count: i64::from(to),
                },
            ));
            *r = Some(was);
        }
        if !config_map && let Some(ops) = self.patch(base, from, o)? {
            out.patches.push((at, id.clone(), ops));
        }
        out.ids.push(id);
        Ok(())
    }

    /// What a patch must say of an object: the environment's object taken back to what
    /// the overlay's transformers start from (its namespace, labels, tags and replica
    /// counts undone) and compared with the base's; `None` when nothing is left.
    fn patch(
        &self,
        base: &BasePlan,
        from: &Object,
        mut o: Object,
    ) -> Result<Option<Vec<Op>>, EmitError> {
        if self.moved {
            set_namespace(&mut o, base.ns());
        }
        let undo = |labels: &mut Labels, keys: &Labels| {
            for key in keys.keys() {
                match base.all.get(key) {
                    Some(b) => {
                        labels.insert(key.clone(), b.clone());
                    }
                    None => {
                        labels.remove(key);
                    }
                }
            }
        };
        each_label_map(&mut o, &mut |labels| undo(labels, &self.pairs));
        if !self.meta_pairs.is_empty() {
            undo(
                o.metadata_mut().labels.get_or_insert_with(Labels::new),
                &self.meta_pairs,
            );
        }
        if !self.retag.is_empty() {
            each_image(&mut o, &mut |image| {
                if let Some((name, _)) = split_image(image)
                    && let Some(tag) = self.retag.get(name)
                {
                    *image = format!("{name}:{tag}");
                }
            });
        }
        rename_config_refs_typed(&mut o, &self.back);
        if from == &o {
            return Ok(None);
        }
        let (a, b) = (value(from)?, value(&o)?);
        let mut ops = Vec::new();
        diff(&a, &b, &mut String::new(), &mut ops);
        for op in &mut ops {
            if let Some(v) = &mut op.value {
                rename_config_refs(v, &self.unhash);
            }
        }
        Ok((!ops.is_empty()).then_some(ops))
    }
}

// ---- objects, a declaration (or every declaration) at a time -------------------------

/// Where an object comes in its program's output: its group's place and its own in
/// the group.
type At = (usize, usize);

/// Groups of one declaration (or of every declaration) in the base and in every
/// environment, each with its place in its program's output.
struct Unit {
    base: Vec<(usize, Group)>,
    envs: Vec<Vec<(usize, Group)>>,
    /// The environments whose objects are the base's but for their namespace and
    /// instance label: not lowered (their groups here are empty), and seen as the
    /// base's objects, which need no patch.
    same: Vec<bool>,
}

impl Unit {
    /// A source's group in the base and in every environment (where each has it), but
    /// for the environments that lower a workload's group from the same things as the
    /// base ([`Cx::reads_same_workload`]), which are left for [`Unit::same`] (when the
    /// group has no ConfigMap or Namespace, which the overlays see otherwise).
    fn lowered(base: &Cx, envs: &[Cx], s: Source) -> Unit {
        let lower = |cx: &Cx| {
            ir::lower_source(cx, s)
                .map(|g| (ir::place(cx.m, s), g))
                .into_iter()
                .collect()
        };
        let base_groups: Vec<(usize, Group)> = lower(base);
        let plain = base_groups.iter().all(|(_, g)| {
            g.objects
                .iter()
                .all(|o| !is_config_map(o) && !matches!(o, Object::Namespace(_)))
        });
        let same: Vec<bool> = envs
            .iter()
            .map(|cx| {
                plain
                    && !base_groups.is_empty()
                    && matches!(s, Source::Workload(w) if base.reads_same_workload(cx, w))
            })
            .collect();
        Unit {
            envs: envs
                .iter()
                .zip(&same)
                .map(|(cx, same)| if *same { Vec::new() } else { lower(cx) })
                .collect(),
            base: base_groups,
            same,
        }
    }
}

/// The base objects of a unit, as `kubectl kustomize base` gives them (without the
/// instance label), by id.
struct Unseen {
    objects: Vec<Object>,
    by_id: HashMap<Id, usize>,
}

/// What the objects leave for the tree once they are dropped.
struct Seen {
    base: BaseSeen,
    envs: Vec<EnvSeen>,
}

#[derive(Default)]
struct BaseSeen {
    images: BTreeSet<String>,
    /// Every object: its id, and whether it is a generated ConfigMap.
    objects: Vec<(At, Id, bool)>,
    /// A group's objects as the base writes them, `---`-separated, by file.
    files: Vec<(At, String, String)>,
    /// A generated ConfigMap's labels, by config name.
    config_labels: Vec<(At, String, Labels)>,
}

#[derive(Default)]
struct EnvSeen {
    images: BTreeSet<String>,
    ids: Vec<Id>,
    config_labels: Vec<(At, String, Labels)>,
    replicas: Vec<(At, Replicas)>,
    /// Objects the base does not have: file, the object as written, id.
    added: Vec<(At, String, String, Id)>,
    patches: Vec<(At, Id, Vec<Op>)>,
}

impl Seen {
    fn new(envs: usize) -> Seen {
        Seen {
            base: BaseSeen::default(),
            envs: (0..envs).map(|_| EnvSeen::default()).collect(),
        }
    }

    fn append(&mut self, other: Seen) {
        let b = other.base;
        self.base.images.extend(b.images);
        self.base.objects.extend(b.objects);
        self.base.files.extend(b.files);
        self.base.config_labels.extend(b.config_labels);
        for (e, o) in self.envs.iter_mut().zip(other.envs) {
            e.images.extend(o.images);
            e.ids.extend(o.ids);
            e.config_labels.extend(o.config_labels);
            e.replicas.extend(o.replicas);
            e.added.extend(o.added);
            e.patches.extend(o.patches);
        }
    }

    /// Whether declaration by declaration made what every environment lowered whole
    /// would: the images planned are those the objects use, no id is the base's twice,
    /// and no object an environment adds is in the base under another declaration.
    fn bears_out(&self, base: &BasePlan, envs: &[EnvPlan]) -> bool {
        if self.base.images != base.planned
            || self
                .envs
                .iter()
                .zip(envs)
                .any(|(seen, plan)| seen.images != plan.planned)
        {
            return false;
        }
        let mut ids = foldhash::HashSet::default();
        if !self.base.objects.iter().all(|(_, id, _)| ids.insert(id)) {
            return false;
        }
        self.envs
            .iter()
            .all(|e| e.added.iter().all(|(.., id)| !ids.contains(id)))
    }
}

/// The objects of a unit, compared and printed, their traces added to `seen`.
fn see(base: &BasePlan, envs: &[EnvPlan], unit: Unit, seen: &mut Seen) -> Result<(), EmitError> {
    let mut from = Unseen {
        objects: Vec::new(),
        by_id: HashMap::new(),
    };
    for (place, g) in unit.base {
        let mut docs = String::new();
        for (i, mut o) in g.objects.into_iter().enumerate() {
            let at = (place, i);
            each_label_map(&mut o, &mut |m| {
                m.remove(l::INSTANCE);
            });
            for image in images(&o) {
                seen.base.images.insert(image.to_string());
            }
            let id = Id::of(&o);
            let config_map = is_config_map(&o);
            if config_map {
                if let Some(name) = base.unhash.get(o.name()) {
                    seen.base
                        .config_labels
                        .push((at, name.clone(), own_labels(&o, &base.all)));
                }
            } else {
                if !docs.is_empty() {
                    docs.push_str("---\n");
                }
                docs.push_str(&yaml::document(&base.strip(&o))?);
            }
            from.by_id.insert(id.clone(), from.objects.len());
            from.objects.push(o);
            seen.base.objects.push((at, id, config_map));
        }
        if !docs.is_empty() {
            seen.base.files.push(((place, 0), g.file, docs));
        }
    }
    for (((plan, groups), same), out) in envs
        .iter()
        .zip(unit.envs)
        .zip(&unit.same)
        .zip(&mut seen.envs)
    {
        if *same {
            // The base's objects, in the environment's namespace and with its instance
            // label: what the overlay's transformers make of them, with no patch.
            for o in &from.objects {
                for image in images(o) {
                    out.images.insert(image.to_string());
                }
                out.ids.push(Id::of(o));
            }
            continue;
        }
        for (place, g) in groups {
            for (i, o) in g.objects.into_iter().enumerate() {
                plan.see(base, &from, ((place, i), &g.file), o, out)?;
            }
        }
    }
    Ok(())
}

/// Texts of several places joined by file (in file order), each file's in place order.
fn by_file(mut parts: Vec<(At, String, String)>) -> BTreeMap<String, String> {
    parts.sort_by_key(|(at, ..)| *at);
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for (_, file, docs) in parts {
        let text = files.entry(file).or_default();
        if !text.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(&docs);
    }
    files
}

/// Config labels by config name, the last place's where a name comes twice.
fn labels_by_config(mut parts: Vec<(At, String, Labels)>) -> HashMap<String, Labels> {
    parts.sort_by_key(|(at, ..)| *at);
    parts
        .into_iter()
        .map(|(_, name, labels)| (name, labels))
        .collect()
}

/// The tree from what the objects left.
fn assemble(base: &BasePlan, envs: &[EnvPlan], seen: Seen) -> Result<Tree, EmitError> {
    let Seen {
        base: mut base_seen,
        envs: env_seen,
    } = seen;
    base_seen.objects.sort_by_key(|(at, ..)| *at);
    let mut files = base_files(
        base,
        by_file(std::mem::take(&mut base_seen.files)),
        labels_by_config(std::mem::take(&mut base_seen.config_labels)),
    )?;
    let mut keep = Vec::new();
    for (plan, s) in envs.iter().zip(env_seen) {
        keep.extend(plan.secret_env_files());
        files.extend(overlay_files(base, &base_seen.objects, plan, s)?);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    keep.sort();
    Ok(Tree { files, keep })
}

fn base_files(
    base: &BasePlan,
    objects: BTreeMap<String, String>,
    config_labels: HashMap<String, Labels>,
) -> Result<Vec<OutFile>, EmitError> {
    let dir = format!("{ROOT}/base");
    let mut files = Vec::new();
    let mut k = Kustomization::new(objects.keys().cloned().collect());
    k.namespace = Some(base.ns().to_string());
    k.labels = label_sets(&base.common, &base.meta);
    k.images = base
        .images
        .iter()
        .map(|(name, tag)| Image {
            name: name.clone(),
            new_tag: tag.clone(),
        })
        .collect();
    for c in &base.model.configs {
        let labels = config_labels.get(&c.name).cloned().unwrap_or_default();
        k.config_map_generator
            .push(generator(c, labels, None, &dir, &mut files));
    }
    for (file, docs) in objects {
        files.push(OutFile {
            path: format!("{dir}/{file}"),
            bytes: with_header(&[], &docs),
        });
    }
    let comment = vec![
        "The platform without any environment's overrides; each overlay under".to_string(),
        "../overlays builds on it. Labels every object carries, image tags and configs".to_string(),
        "are set here, once.".to_string(),
    ];
    files.push(OutFile {
        path: format!("{dir}/kustomization.yaml"),
        bytes: with_header(&comment, &yaml_of("kustomization.yaml", &k)?),
    });
    Ok(files)
}

fn overlay_files(
    base: &BasePlan,
    base_objects: &[(At, Id, bool)],
    plan: &EnvPlan,
    mut seen: EnvSeen,
) -> Result<Vec<OutFile>, EmitError> {
    let m = plan.model;
    let mut files = Vec::new();
    let mut k = Kustomization::new(vec!["../../base".to_string()]);
    // namespace: always named, so that an overlay says where it deploys
    k.namespace = Some(m.platform.namespace.clone());
    k.images.clone_from(&plan.images);

    // configs: a replacing generator for those whose content changes
    let base_configs = base.configs();
    let mut labels_of = labels_by_config(std::mem::take(&mut seen.config_labels));
    for c in &m.configs {
        let labels = labels_of.remove(&c.name).unwrap_or_default();
        match base_configs.get(c.name.as_str()) {
            Some(b) if b.entries == c.entries => {}
            Some(_) => {
                k.config_map_generator.push(generator(
                    c,
                    labels,
                    Some("replace"),
                    &plan.dir,
                    &mut files,
                ));
            }
            None => {
                k.config_map_generator
                    .push(generator(c, labels, None, &plan.dir, &mut files));
            }
        }
    }

    seen.replicas.sort_by_key(|(at, _)| *at);
    k.replicas = seen.replicas.into_iter().map(|(_, r)| r).collect();

    // Objects the environment drops (a generated ConfigMap by its generator's name).
    let env_ids: BTreeSet<&Id> = seen.ids.iter().collect();
    let env_configs: BTreeSet<&str> = m.configs.iter().map(|c| c.name.as_str()).collect();
    let mut deleted: Vec<Id> = Vec::new();
    for (_, id, config_map) in base_objects {
        if *config_map {
            if let Some(name) = base.unhash.get(&id.name)
                && !env_configs.contains(name.as_str())
            {
                deleted.push(Id {
                    name: name.clone(),
                    ..id.clone()
                });
            }
        } else if !env_ids.contains(id) {
            deleted.push(id.clone());
        }
    }

    k.labels = label_sets(&plan.pairs, &plan.meta_pairs);
    let added = by_file(
        seen.added
            .into_iter()
            .map(|(at, file, doc, _)| (at, file, doc))
            .collect(),
    );
    for (file, docs) in added {
        files.push(OutFile {
            path: format!("{}/{file}", plan.dir),
            bytes: with_header(&[], &docs),
        });
        k.resources.push(file);
    }
    for id in deleted {
        k.patches.push(Patch {
            path: None,
            patch: Some(format!(
                "$patch: delete\napiVersion: {}\nkind: {}\nmetadata:\n  name: {}\n",
                id.api_version, id.kind, id.name
            )),
            target: None,
        });
    }
    seen.patches.sort_by_key(|(at, ..)| *at);
    for (_, id, ops) in seen.patches {
        let rel = format!("patches/{}-{}.yaml", id.kind.to_lowercase(), id.name);
        let (group, version) = match id.api_version.split_once('/') {
            Some((g, v)) => (Some(g.to_string()), v.to_string()),
            None => (None, id.api_version.to_string()),
        };
        files.push(OutFile {
            path: format!("{}/{rel}", plan.dir),
            bytes: with_header(&[], &yaml_of(&rel, &ops)?),
        });
        k.patches.push(Patch {
            path: Some(rel),
            patch: None,
            target: Some(Target {
                group,
                version,
                kind: id.kind.to_string(),
                name: id.name,
            }),
        });
    }

    // deploy-time secrets
    let secrets: Vec<_> = plan.deploy_secrets().collect();
    for s in &secrets {
        let mut labels = l::platform_labels(m);
        labels.insert(l::NAME.into(), s.name.clone());
        labels.insert(l::COMPONENT.into(), "secret".into());
        k.secret_generator.push(Generator {
            name: s.name.clone(),
            behavior: None,
            literals: Vec::new(),
            files: Vec::new(),
            envs: vec![format!("secrets/{}.env", s.name)],
            options: GeneratorOptions {
                disable_name_suffix_hash: true,
                labels,
            },
        });
        let example: String = s.keys.iter().map(|key| format!("{key}=\n")).collect();
        files.push(OutFile {
            path: format!("{}/secrets/{}.env.example", plan.dir, s.name),
            bytes: example.into_bytes(),
        });
    }
    if !secrets.is_empty() {
        files.push(OutFile {
            path: format!("{}/secrets/.gitignore", plan.dir),
            bytes: b"# Secret values: never committed.\n*.env\n".to_vec(),
        });
    }

    let mut comment = vec![format!(
        "Environment `{}`: the base, and only what this environment changes.",
        m.env
    )];
    if !secrets.is_empty() {
        comment.push(String::new());
        comment.push(
            "Secrets supplied at deploy time: before building, create each secrets/NAME.env"
                .to_string(),
        );
        comment.push(
            "from secrets/NAME.env.example (one KEY=value per line). They are git-ignored,"
                .to_string(),
        );
        comment.push("and a new build keeps them.".to_string());
    }
    files.push(OutFile {
        path: format!("{}/kustomization.yaml", plan.dir),
        bytes: with_header(&comment, &yaml_of("kustomization.yaml", &k)?),
    });
    Ok(files)
}

// ---- differences as JSON 6902 operations -------------------------------------------

fn push_token(path: &mut String, key: &str) {
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// The operations that turn `a` into `b`, one per changed field: maps key by key, lists
/// of the same length item by item, a list that grows at its end by appending, any other
/// list whole.
fn diff(a: &Value, b: &Value, path: &mut String, ops: &mut Vec<Op>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                let len = path.len();
                push_token(path, key);
                match y.get(key) {
                    Some(vb) => diff(va, vb, path, ops),
                    None => ops.push(Op {
                        op: "remove",
                        path: path.clone(),
                        value: None,
                    }),
                }
                path.truncate(len);
            }
            for (key, vb) in y {
                if !x.contains_key(key) {
                    let len = path.len();
                    push_token(path, key);
                    ops.push(Op {
                        op: "add",
                        path: path.clone(),
                        value: Some(vb.clone()),
                    });
                    path.truncate(len);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                diff(va, vb, path, ops);
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if y.len() > x.len() && y.starts_with(x) => {
            for v in &y[x.len()..] {
                ops.push(Op {
                    op: "add",
                    path: format!("{path}/-"),
                    value: Some(v.clone()),
                });
            }
        }
        _ if a == b => {}
        _ => ops.push(Op {
            op: "replace",
            path: path.clone(),
            value: Some(b.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(a: Value, b: Value) -> Vec<(String, String, Option<Value>)> {
        let mut out = Vec::new();
        diff(&a, &b, &mut String::new(), &mut out);
        out.into_iter()
            .map(|o| (o.op.to_string(), o.path, o.value))
            .collect()
    }

    fn compiled(text: &str) -> crate::Compilation {
        let loader = crate::resolve::MemoryLoader::new().with("main.sorcha", text);
        let c = crate::compile("main.sorcha", &loader).unwrap();
        assert!(!c.has_errors());
        c
    }

    #[test]
    fn a_plan_the_objects_do_not_bear_out_is_not_used() {
        let c = compiled(&crate::synth::platform(12));
        let base = Cx::new(&c.checked.base);
        let envs = Cx::each(&c.checked.envs);
        let images: Vec<&str> = ir::workload::images(base.m)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert!(images.len() > 1);
        let tree = |base_images: &[&str]| {
            let b = BasePlan::new(base.m, base_images.iter().copied());
            let plans: Vec<EnvPlan> = envs
                .iter()
                .map(|cx| EnvPlan::new(&b, cx.m, ir::workload::images(cx.m)))
                .collect();
            planned(&base, &envs, &b, &plans).unwrap()
        };
        assert!(tree(&images).is_some());
        // An image the objects use but the plan does not know, and one they do not use.
        assert!(tree(&images[1..]).is_none());
        let mut more = images.clone();
        more.push("registry.example.com/never:1.0");
        assert!(tree(&more).is_none());
        // An environment's plan counts as much.
        let b = BasePlan::new(base.m, images.iter().copied());
        let mut plans: Vec<EnvPlan> = envs
            .iter()
            .map(|cx| EnvPlan::new(&b, cx.m, ir::workload::images(cx.m)))
            .collect();
        plans[0].planned.pop_first();
        assert!(planned(&base, &envs, &b, &plans).unwrap().is_none());
    }

    #[test]
    fn objects_out_of_their_declaration_s_place_are_not_trusted() {
        let c = compiled(&crate::synth::platform(2));
        let b = BasePlan::new(&c.checked.base, std::iter::empty());
        let plans = vec![EnvPlan::new(&b, &c.checked.envs[0], std::iter::empty())];
        let id = |name: &str| Id {
            api_version: "v1",
            kind: "Service",
            name: name.to_string(),
        };
        let mut seen = Seen::new(1);
        seen.base.objects.push(((3, 0), id("a"), false));
        seen.base.objects.push(((4, 0), id("b"), false));
        assert!(seen.bears_out(&b, &plans));
        // An id the base has twice.
        seen.base.objects.push(((5, 0), id("a"), false));
        assert!(!seen.bears_out(&b, &plans));
        seen.base.objects.pop();
        // An object an environment adds that the base has under another declaration.
        seen.envs[0]
            .added
            .push(((4, 1), "f.yaml".into(), String::new(), id("c")));
        assert!(seen.bears_out(&b, &plans));
        seen.envs[0]
            .added
            .push(((3, 1), "f.yaml".into(), String::new(), id("b")));
        assert!(!seen.bears_out(&b, &plans));
    }

    #[test]
    fn differences_become_one_operation_per_field() {
        assert_eq!(
            ops(
                json!({"spec": {"min": 1, "max": 3, "gone": true}}),
                json!({"spec": {"min": 1, "max": 5, "new": "x"}})
            ),
            vec![
                ("replace".into(), "/spec/max".into(), Some(json!(5))),
                ("remove".into(), "/spec/gone".into(), None),
                ("add".into(), "/spec/new".into(), Some(json!("x"))),
            ]
        );
    }

    #[test]
    fn keys_are_escaped_and_lists_grow_at_the_end_or_are_replaced() {
        assert_eq!(
            ops(
                json!({"labels": {"a/b~c": "1"}, "l": [1, 2], "r": [1, 2]}),
                json!({"labels": {"a/b~c": "2"}, "l": [1, 2, 3], "r": [2]})
            ),
            vec![
                ("replace".into(), "/labels/a~1b~0c".into(), Some(json!("2"))),
                ("add".into(), "/l/-".into(), Some(json!(3))),
                ("replace".into(), "/r".into(), Some(json!([2]))),
            ]
        );
    }

    #[test]
    fn images_split_only_when_kustomize_can_write_them_back() {
        assert_eq!(
            split_image("docker.io/library/postgres:17-alpine"),
            Some(("docker.io/library/postgres", "17-alpine"))
        );
        assert_eq!(
            split_image("registry:5000/app:1.0"),
            Some(("registry:5000/app", "1.0"))
        );
        assert_eq!(split_image("registry:5000/app"), None);
        assert_eq!(split_image("app@sha256:abc"), None);
        assert_eq!(split_image("app"), None);
    }

    #[test]
    fn literals_that_kustomize_would_change_become_files() {
        assert!(literal_safe("info"));
        assert!(literal_safe(""));
        assert!(literal_safe("a=b"));
        assert!(!literal_safe("two\nlines"));
        assert!(!literal_safe("\"quoted\""));
        assert!(!literal_safe("'quoted'"));
        assert!(literal_safe("\"half"));
    }
}
