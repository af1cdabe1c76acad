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

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt};

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use super::{EmitError, OutFile, header, yaml};
use crate::check::Model;
use crate::check::model::{Config, Secret, SecretSource};
use crate::ir::labels::{self as l, Labels};
use crate::ir::{Object, Objects};

/// One lowered program: its model and its objects.
pub struct Built<'a> {
    pub model: &'a Model,
    pub objects: Objects,
}

/// The kustomize tree.
pub struct Tree {
    pub files: Vec<OutFile>,
    /// Files that belong to the operator, not to the build (secret env files): a new
    /// build carries them over from the tree it replaces.
    pub keep: Vec<String>,
}

/// Where the tree goes, under the output directory.
pub const ROOT: &str = "kustomize";

/// The tree for a program: its base model and every environment's. `lowered` holds the
/// objects of the first environments when they are already at hand; the others are
/// lowered one at a time, so that only one is held with the base.
pub fn of_models(base: &Model, envs: &[&Model], lowered: Vec<Objects>) -> Result<Tree, EmitError> {
    let mut lowered = lowered.into_iter();
    let envs = envs.iter().map(|m| Built {
        model: m,
        objects: lowered.next().unwrap_or_else(|| crate::ir::lower(m)),
    });
    let base = Built {
        model: base,
        objects: crate::ir::lower(base),
    };
    files(base, envs)
}

/// The tree for a program: its base model and every environment's, lowered.
pub fn files<'m>(
    base: Built<'m>,
    envs: impl IntoIterator<Item = Built<'m>>,
) -> Result<Tree, EmitError> {
    let mut tree = Builder::new(base)?;
    for env in envs {
        tree.add(env)?;
    }
    Ok(tree.finish())
}

/// The tree made an environment at a time: the base first, then each overlay as its
/// environment comes, so a caller that lowers environments one by one (for other
/// targets too) never holds more than one with the base.
pub struct Builder<'m> {
    base: Base<'m>,
    files: Vec<OutFile>,
    keep: Vec<String>,
}

impl<'m> Builder<'m> {
    pub fn new(base: Built<'m>) -> Result<Builder<'m>, EmitError> {
        let base = Base::new(base);
        let files = base.files()?;
        Ok(Builder {
            base,
            files,
            keep: Vec::new(),
        })
    }

    /// The overlay of one environment; its objects are dropped with it.
    pub fn add(&mut self, env: Built<'m>) -> Result<(), EmitError> {
        let o = Overlay::new(&self.base, env);
        self.keep.extend(o.secret_env_files());
        self.files.extend(o.files()?);
        Ok(())
    }

    pub fn finish(mut self) -> Tree {
        crate::par::drop_all(std::mem::take(&mut self.base.objects));
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.keep.sort();
        Tree {
            files: self.files,
            keep: self.keep,
        }
    }
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

/// One object of the output, with the file it belongs in.
struct Obj {
    file: String,
    o: Object,
}

fn flatten(objects: Objects) -> Vec<Obj> {
    let mut out = Vec::with_capacity(objects.len());
    for g in objects.groups {
        for o in g.objects {
            out.push(Obj {
                file: g.file.clone(),
                o,
            });
        }
    }
    out
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

/// Every container image of a pod spec.
fn images(spec: &PodSpec) -> impl Iterator<Item = &str> {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .filter_map(|c| c.image.as_deref())
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

#[derive(Serialize)]
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

/// A file of objects, `---`-separated.
fn objects_file(path: String, objects: &[Object]) -> Result<OutFile, EmitError> {
    let mut body = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            body.push_str("---\n");
        }
        body.push_str(&yaml::document(o)?);
    }
    Ok(OutFile {
        bytes: with_header(&[], &body),
        path,
    })
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

/// The labels of the generated ConfigMaps of a set of objects, by config name.
fn config_labels(objects: &[Obj], m: &Model, common: &Labels) -> HashMap<String, Labels> {
    let unhash = config_names(m);
    objects
        .iter()
        .filter(|o| is_config_map(&o.o))
        .filter_map(|o| Some((unhash.get(o.o.name())?.clone(), own_labels(&o.o, common))))
        .collect()
}

/// ConfigMap name (with its hash) -> config name, for a model.
fn config_names(m: &Model) -> HashMap<String, String> {
    m.configs
        .iter()
        .map(|c| (format!("{}-{}", c.name, l::config_hash(c)), c.name.clone()))
        .collect()
}

// ---- the base ---------------------------------------------------------------------

struct Base<'a> {
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
    /// What `kubectl kustomize base` gives: the raw objects (ConfigMaps included)
    /// without the instance label.
    objects: Vec<Obj>,
    by_id: HashMap<Id, usize>,
}

impl<'a> Base<'a> {
    fn new(built: Built<'a>) -> Base<'a> {
        let all = l::platform_labels(built.model);
        let (meta, common) = split_labels(&all);
        let mut objects = flatten(built.objects);
        let mut tags: BTreeMap<&str, BTreeSet<Option<&str>>> = BTreeMap::new();
        for o in &objects {
            for image in o.o.pod_spec().into_iter().flat_map(images) {
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
        crate::par::runs_mut(&mut objects, |_, run| {
            for o in run {
                each_label_map(&mut o.o, &mut |m| {
                    m.remove(l::INSTANCE);
                });
            }
        });
        let by_id = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (Id::of(&o.o), i))
            .collect();
        Base {
            model: built.model,
            common,
            meta,
            all,
            images,
            objects,
            by_id,
        }
    }

    fn ns(&self) -> &str {
        &self.model.platform.namespace
    }

    /// An object as the base writes it: without what the kustomization adds back.
    fn strip(&self, o: &Object, unhash: &HashMap<String, String>) -> Object {
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
        rename_config_refs_typed(&mut o, unhash);
        o
    }

    fn files(&self) -> Result<Vec<OutFile>, EmitError> {
        let dir = format!("{ROOT}/base");
        let unhash = config_names(self.model);
        let config_labels = config_labels(&self.objects, self.model, &self.all);
        let mut by_file: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
        for o in self.objects.iter().filter(|o| !is_config_map(&o.o)) {
            by_file.entry(&o.file).or_default().push(&o.o);
        }
        let groups: Vec<(&str, Vec<&Object>)> = by_file.into_iter().collect();
        let object_files = crate::par::runs(&groups, |_, run| {
            run.iter()
                .map(|(file, objects)| {
                    let stripped: Vec<Object> =
                        objects.iter().map(|o| self.strip(o, &unhash)).collect();
                    objects_file(format!("{dir}/{file}"), &stripped)
                })
                .collect::<Result<Vec<_>, EmitError>>()
        });
        let mut files = Vec::new();
        let mut k = Kustomization::new(groups.iter().map(|(f, _)| (*f).to_string()).collect());
        k.namespace = Some(self.ns().to_string());
        k.labels.push(LabelSet {
            pairs: self.common.clone(),
            include_templates: true,
        });
        if !self.meta.is_empty() {
            k.labels.push(LabelSet {
                pairs: self.meta.clone(),
                include_templates: false,
            });
        }
        k.images = self
            .images
            .iter()
            .map(|(name, tag)| Image {
                name: name.clone(),
                new_tag: tag.clone(),
            })
            .collect();
        for c in &self.model.configs {
            let labels = config_labels.get(&c.name).cloned().unwrap_or_default();
            k.config_map_generator
                .push(generator(c, labels, None, &dir, &mut files));
        }
        for run in object_files {
            files.extend(run?);
        }
        let comment = vec![
            "The platform without any environment's overrides; each overlay under".to_string(),
            "../overlays builds on it. Labels every object carries, image tags and configs"
                .to_string(),
            "are set here, once.".to_string(),
        ];
        files.push(OutFile {
            path: format!("{dir}/kustomization.yaml"),
            bytes: with_header(&comment, &yaml_of("kustomization.yaml", &k)?),
        });
        Ok(files)
    }
}

// ---- overlays ---------------------------------------------------------------------

struct Overlay<'a> {
    base: &'a Base<'a>,
    model: &'a Model,
    objects: Vec<Obj>,
    dir: String,
}

impl<'a> Overlay<'a> {
    fn new(base: &'a Base<'a>, env: Built<'a>) -> Overlay<'a> {
        Overlay {
            base,
            model: env.model,
            objects: flatten(env.objects),
            dir: format!("{ROOT}/overlays/{}", env.model.env),
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

    fn files(mut self) -> Result<Vec<OutFile>, EmitError> {
        let m = self.model;
        let base = self.base;
        let base_ns = base.ns();
        let mut files = Vec::new();
        let mut k = Kustomization::new(vec!["../../base".to_string()]);

        // The environment's objects are taken back to what the overlay's transformers
        // start from (its namespace, labels, tags and replica counts undone); what is
        // still different from the base is what patches must say.

        // namespace: always named, so that an overlay says where it deploys
        k.namespace = Some(m.platform.namespace.clone());
        let moved = m.platform.namespace != base_ns;

        // labels: the instance, and platform labels the environment changes
        let mut changed = l::platform_labels(m);
        changed.retain(|key, v| base.all.get(key) != Some(v));
        let (meta_pairs, mut pairs) = split_labels(&changed);
        pairs.insert(l::INSTANCE.into(), l::instance(m));

        // images: a new tag for every use of an image the base tags
        let mut env_tags: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for o in &self.objects {
            for image in o.o.pod_spec().into_iter().flat_map(images) {
                let (name, tag) = split_image(image).unwrap_or((image, ""));
                env_tags.entry(name).or_default().insert(tag);
            }
        }
        let mut retag: HashMap<String, String> = HashMap::new();
        for (name, base_tag) in &base.images {
            if let Some(tags) = env_tags.get(name.as_str())
                && let [tag] = tags.iter().collect::<Vec<_>>()[..]
                && !tag.is_empty()
                && tag != base_tag
            {
                k.images.push(Image {
                    name: name.clone(),
                    new_tag: (*tag).to_string(),
                });
                retag.insert(name.clone(), base_tag.clone());
            }
        }

        // configs: a replacing generator for those whose content changes
        let base_configs: HashMap<&str, &Config> = base
            .model
            .configs
            .iter()
            .map(|c| (c.name.as_str(), c.as_ref()))
            .collect();
        let mut labels_of = config_labels(&self.objects, m, &base.all);
        let mut back: HashMap<String, String> = HashMap::new();
        for c in &m.configs {
            let labels = labels_of.remove(&c.name).unwrap_or_default();
            match base_configs.get(c.name.as_str()) {
                Some(b) if b.entries == c.entries => {}
                Some(b) => {
                    k.config_map_generator.push(generator(
                        c,
                        labels,
                        Some("replace"),
                        &self.dir,
                        &mut files,
                    ));
                    back.insert(
                        format!("{}-{}", c.name, l::config_hash(c)),
                        format!("{}-{}", b.name, l::config_hash(b)),
                    );
                }
                None => {
                    k.config_map_generator
                        .push(generator(c, labels, None, &self.dir, &mut files));
                }
            }
        }
        // Config references in patches name the generator; Kustomize adds the hash.
        let mut unhash = config_names(m);
        unhash.extend(config_names(base.model));

        // Objects of the environment, by what they are called in the base.
        let ids: Vec<Id> = self
            .objects
            .iter()
            .map(|o| {
                let mut id = Id::of(&o.o);
                if matches!(o.o, Object::Namespace(_)) {
                    id.name = base_ns.to_string();
                }
                id
            })
            .collect();

        // replicas of workloads that keep a fixed count in both
        for (o, id) in self.objects.iter_mut().zip(&ids) {
            let Some(&i) = base.by_id.get(id) else {
                continue;
            };
            let from = match &base.objects[i].o {
                Object::Deployment(d) => d.spec.as_ref().and_then(|s| s.replicas),
                Object::StatefulSet(s) => s.spec.as_ref().and_then(|s| s.replicas),
                _ => None,
            };
            if let (Some(from), Some(r)) = (from, o.o.replicas_mut())
                && let Some(to) = *r
                && from != to
            {
                k.replicas.push(Replicas {
                    name: id.name.clone(),
                    count: i64::from(to),
                });
                *r = Some(from);
            }
        }

        // Added objects are written as the environment has them, less the namespace,
        // which the overlay sets.
        let mut added: BTreeMap<String, Vec<Object>> = BTreeMap::new();
        for (o, id) in self.objects.iter().zip(&ids) {
            if !is_config_map(&o.o) && !base.by_id.contains_key(id) {
                let mut copy = o.o.clone();
                copy.metadata_mut().namespace = None;
                rename_config_refs_typed(&mut copy, &unhash);
                added.entry(o.file.clone()).or_default().push(copy);
            }
        }

        // Undo the overlay's transformers and compare, on all cores.
        // Each object is dropped where it was compared.
        let mut jobs: Vec<(Option<Object>, &Id)> = std::mem::take(&mut self.objects)
            .into_iter()
            .map(|o| Some(o.o))
            .zip(&ids)
            .collect();
        let compared = crate::par::runs_mut(&mut jobs, |_, run| {
            let mut out = Vec::new();
            for (slot, id) in run.iter_mut() {
                let Some(mut owned) = slot.take() else {
                    continue;
                };
                if is_config_map(&owned) {
                    continue;
                }
                let Some(&i) = base.by_id.get(*id) else {
                    continue;
                };
                let obj = &mut owned;
                if moved {
                    set_namespace(obj, base_ns);
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
                each_label_map(obj, &mut |labels| undo(labels, &pairs));
                if !meta_pairs.is_empty() {
                    undo(
                        obj.metadata_mut().labels.get_or_insert_with(Labels::new),
                        &meta_pairs,
                    );
                }
                if !retag.is_empty() {
                    each_image(obj, &mut |image| {
                        if let Some((name, _)) = split_image(image)
                            && let Some(tag) = retag.get(name)
                        {
                            *image = format!("{name}:{tag}");
                        }
                    });
                }
                rename_config_refs_typed(obj, &back);
                let from = &base.objects[i].o;
                if from == &*obj {
                    continue;
                }
                let mut ops = Vec::new();
                let (a, b) = match (value(from), value(obj)) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(e), _) | (_, Err(e)) => return Err(e),
                };
                diff(&a, &b, &mut String::new(), &mut ops);
                for op in &mut ops {
                    if let Some(v) = &mut op.value {
                        rename_config_refs(v, &unhash);
                    }
                }
                if !ops.is_empty() {
                    out.push(((*id).clone(), ops));
                }
            }
            Ok(out)
        });
        let mut patches: Vec<(Id, Vec<Op>)> = Vec::new();
        for run in compared {
            patches.extend(run?);
        }

        // Objects the environment drops (a generated ConfigMap by its generator's name).
        let env_ids: BTreeSet<&Id> = ids.iter().collect();
        let env_configs: BTreeSet<&str> = m.configs.iter().map(|c| c.name.as_str()).collect();
        let base_unhash = config_names(base.model);
        let mut deleted: Vec<Id> = Vec::new();
        for o in &base.objects {
            let id = Id::of(&o.o);
            if is_config_map(&o.o) {
                if let Some(name) = base_unhash.get(o.o.name())
                    && !env_configs.contains(name.as_str())
                {
                    deleted.push(Id {
                        name: name.clone(),
                        ..id
                    });
                }
            } else if !env_ids.contains(&id) {
                deleted.push(id);
            }
        }

        k.labels.push(LabelSet {
            pairs,
            include_templates: true,
        });
        if !meta_pairs.is_empty() {
            k.labels.push(LabelSet {
                pairs: meta_pairs,
                include_templates: false,
            });
        }
        for (file, objects) in &added {
            k.resources.push(file.clone());
            files.push(objects_file(format!("{}/{file}", self.dir), objects)?);
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
        for (id, ops) in patches {
            let rel = format!("patches/{}-{}.yaml", id.kind.to_lowercase(), id.name);
            let (group, version) = match id.api_version.split_once('/') {
                Some((g, v)) => (Some(g.to_string()), v.to_string()),
                None => (None, id.api_version.to_string()),
            };
            files.push(OutFile {
                path: format!("{}/{rel}", self.dir),
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
        let secrets: Vec<_> = self.deploy_secrets().collect();
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
                path: format!("{}/secrets/{}.env.example", self.dir, s.name),
                bytes: example.into_bytes(),
            });
        }
        if !secrets.is_empty() {
            files.push(OutFile {
                path: format!("{}/secrets/.gitignore", self.dir),
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
            path: format!("{}/kustomization.yaml", self.dir),
            bytes: with_header(&comment, &yaml_of("kustomization.yaml", &k)?),
        });
        Ok(files)
    }
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
